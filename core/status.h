#pragma once
// Errors are values (Arrow, RocksDB): fallible functions return absl::Status / StatusOr.
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VIGIL_RETURN_IF_ERROR(expr) \
  do {                              \
    ::absl::Status _st = (expr);    \
    if (!_st.ok()) return _st;      \
  } while (0)

#define VIGIL_CONCAT_INNER(a, b) a##b
#define VIGIL_CONCAT(a, b) VIGIL_CONCAT_INNER(a, b)
#define VIGIL_ASSIGN_OR_RETURN(lhs, expr) \
  VIGIL_ASSIGN_OR_RETURN_IMPL(VIGIL_CONCAT(_statusor_, __LINE__), lhs, expr)
#define VIGIL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
