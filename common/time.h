// Conversions between TimeMicros and the text forms users and Kubernetes write.
#ifndef KQ_COMMON_TIME_H_
#define KQ_COMMON_TIME_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace kq {

// Parses an RFC 3339 timestamp: "2023-06-12T13:30:25.756122Z", any number of fractional
// digits (truncated to microseconds), "Z" or a "+hh:mm"/"-hh:mm" offset. A bare date
// "2026-11-01" means midnight UTC.
[[nodiscard]] absl::StatusOr<TimeMicros> ParseTimestamp(std::string_view text);

// Formats as Kubernetes MicroTime does: UTC, exactly 6 fractional digits, "Z" (27 characters).
std::string FormatTimestamp(TimeMicros t);

// Parses a span such as "500ms", "30s", "15m", "2h", "7d", "1w" or "90d"; also "1d12h".
[[nodiscard]] absl::StatusOr<TimeMicros> ParseDuration(std::string_view text);

// Formats a span compactly ("7d", "1h30m", "250ms", "0s").
std::string FormatDuration(TimeMicros d);

}  // namespace kq

#endif  // KQ_COMMON_TIME_H_
