// Fast text appenders for the traffic generator: numbers, Kubernetes MicroTime timestamps,
// UUIDs, random name suffixes and Go-style durations. Each appends to a caller-owned string
// and allocates only when that string must grow. Stateless; thread-safe.
#ifndef KQ_TOOLS_GEN_TEXT_H_
#define KQ_TOOLS_GEN_TEXT_H_

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "tools/gen/random.h"

namespace kq::gen {

// Decimal digits of `v`.
void AppendUint(uint64_t v, std::string* out);

// "2023-06-12T13:30:25.756122Z": UTC, exactly six fractional digits (Kubernetes MicroTime).
void AppendMicroTime(TimeMicros t, std::string* out);

// "2023-06-12T13:30:25Z": metav1.Time as written in object metadata.
void AppendSecondsTime(TimeMicros t, std::string* out);

// A random version-4 UUID, lower-case, 36 characters.
void AppendUuid(Rng& rng, std::string* out);

// `n` characters from Kubernetes' name-suffix alphabet ("bcdfghjklmnpqrstvwxz2456789").
void AppendNameSuffix(Rng& rng, int n, std::string* out);

// `n` lower-case hex digits.
void AppendHex(Rng& rng, int n, std::string* out);

// A span as Go's time.Duration.String() prints it, at microsecond precision: "512.25ms",
// "1.0129s", "7m29s".
void AppendGoDuration(TimeMicros d, std::string* out);

}  // namespace kq::gen

#endif  // KQ_TOOLS_GEN_TEXT_H_
