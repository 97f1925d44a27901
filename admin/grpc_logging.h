#pragma once
// gRPC's own log (internal to vigil_admin_grpc). gRPC prints its errors to stderr, e.g. a
// failed TLS handshake of some client, or a failed bind, as raw internal error trees. The admin
// server and client report every failure through their absl::Status results instead, so that
// log is silenced unless GRPC_VERBOSITY is set in the environment (then gRPC logs as usual,
// for debugging).
namespace vigil::admin {

// Idempotent and thread-safe; called before the first server or channel is made.
void QuietGrpcLog();

}  // namespace vigil::admin
