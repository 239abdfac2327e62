// Fast paths for the one timestamp shape Kubernetes writes (RFC 3339 with exactly 6
// fractional digits and "Z", 27 characters), used per event by the decoder and the segment
// encoder. Other shapes go through common/time.h. Pure functions; thread-safe.
#ifndef KQ_STORAGE_FAST_TIME_H_
#define KQ_STORAGE_FAST_TIME_H_

#include <string_view>

#include "common/clock.h"

namespace kq::storage {

inline constexpr size_t kCanonicalTimestampSize = 27;

// Parses "YYYY-MM-DDTHH:MM:SS.ffffffZ"; false for any other text or an invalid date.
bool ParseCanonicalTimestamp(std::string_view text, TimeMicros* t);

// Writes `t` as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (years 0000 to 9999); false outside that range.
bool FormatCanonicalTimestamp(TimeMicros t, char out[kCanonicalTimestampSize]);

// True when `text` is exactly the canonical form of `t`.
bool IsCanonicalTimestamp(std::string_view text, TimeMicros t);

}  // namespace kq::storage

#endif  // KQ_STORAGE_FAST_TIME_H_
