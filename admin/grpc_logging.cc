#include "admin/grpc_logging.h"

#include <grpc/support/log.h>

#include <cstdlib>
#include <mutex>

namespace vigil::admin {

void QuietGrpcLog() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("GRPC_VERBOSITY") != nullptr) return;
    gpr_set_log_function([](gpr_log_func_args*) {});
  });
}

}  // namespace vigil::admin
