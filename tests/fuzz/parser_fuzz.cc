// libFuzzer target for the rule-language front end: Parse must never crash, hang or leak on
// any input. With -DVIGIL_FUZZ_COMPILE the whole front end (parse + bind + lower) is fuzzed
// through rules::CompileSources.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rules/parser/parser.h"
#ifdef VIGIL_FUZZ_COMPILE
#include "rules/compiler.h"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vigil::rules::ParseResult r = vigil::rules::Parse(0, text);
  // Invariants: every diagnostic span lies inside the text.
  for (const auto& d : r.diagnostics) {
    if (d.span.begin > d.span.end || d.span.end > size) __builtin_trap();
  }
  if (r.diagnostics.size() > vigil::rules::kMaxParseErrors) __builtin_trap();
#ifdef VIGIL_FUZZ_COMPILE
  auto c = vigil::rules::CompileSources({{"fuzz.vgl", std::string(text)}});
  (void)c;
#endif
  return 0;
}
