#pragma once
// The binary codec lives in core/codec.h (cep/ serialises NFA state with it too); these names
// keep engine/state's spelling.
#include "core/codec.h"

namespace vigil::engine::state {
using ::vigil::Crc32c;
using ::vigil::Decoder;
using ::vigil::Encoder;
}  // namespace vigil::engine::state
