// Status helpers shared by every module.
//
// abseil 20220623 has absl::Status and absl::StatusOr but not the RETURN_IF_ERROR /
// ASSIGN_OR_RETURN macros; these are ours. Every function returning absl::Status or
// absl::StatusOr must be marked [[nodiscard]] (g++ does not enforce abseil's own mark).
#ifndef KQ_COMMON_STATUS_H_
#define KQ_COMMON_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define KQ_RETURN_IF_ERROR(expr)                              \
  do {                                                        \
    if (absl::Status kq_status_ = (expr); !kq_status_.ok()) { \
      return kq_status_;                                      \
    }                                                         \
  } while (false)

#define KQ_STATUS_CONCAT_INNER_(a, b) a##b
#define KQ_STATUS_CONCAT_(a, b) KQ_STATUS_CONCAT_INNER_(a, b)

// Declares or assigns `lhs` from an absl::StatusOr expression, returning its status on error.
//   KQ_ASSIGN_OR_RETURN(auto db, Store::Open(options));
#define KQ_ASSIGN_OR_RETURN(lhs, expr) \
  KQ_ASSIGN_OR_RETURN_IMPL_(KQ_STATUS_CONCAT_(kq_statusor_, __LINE__), lhs, expr)
#define KQ_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)     \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

namespace kq {

// Returns `status` with `context` prepended to its message ("context: message"); OK stays OK.
[[nodiscard]] absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace kq

#endif  // KQ_COMMON_STATUS_H_
