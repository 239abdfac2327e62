// Key encodings of the store (docs/format.md, "Keys"). Internal to the storage module. Pure
// functions; thread-safe.
#ifndef KQ_STORAGE_STORE_KEYS_H_
#define KQ_STORAGE_STORE_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace kq::storage {

// Width of a time bucket. Stored on disk (meta "bucket_micros"): do not change.
inline constexpr TimeMicros kBucketMicros = kMicrosPerHour;

// The start of the bucket holding `t` (rounded down, also for negative times).
TimeMicros BucketOf(TimeMicros t);

// Appends `time` (order-preserving 8 bytes).
void PutTimeKey(std::string* out, TimeMicros t);
// Appends the escaped namespace and its terminator.
void PutNamespaceKey(std::string* out, std::string_view ns);

// fixed64(id): the key of a quarantine record and of an auditID index run.
std::string IdKey(uint64_t id);

// bucket nsname: the prefix of every segment of one (bucket, namespace).
std::string SegmentPrefix(TimeMicros bucket, std::string_view ns);
// bucket nsname segment_id.
std::string SegmentKey(TimeMicros bucket, std::string_view ns, uint64_t id);
// The first key after every key that starts with `prefix`.
std::string PrefixEnd(std::string_view prefix);

// The auditID index (docs/format.md, "auditids"): every key of one auditID starts with
// AuditIdIndexPrefix(audit_id), its AuditIdHash as 4 bytes big-endian; the rest of the key is
// the SegmentPrefix of a (bucket, namespace) holding events with that auditID.
inline constexpr size_t kAuditIdHashBytes = 4;
// The high 32 bits of Hash64(audit_id).
uint32_t AuditIdHash(std::string_view audit_id);
std::string AuditIdIndexPrefix(std::string_view audit_id);
// Appends the index key of `audit_hash` in `group` (a SegmentPrefix) to *key.
void AppendAuditIdIndexKey(uint32_t audit_hash, std::string_view group, std::string* key);

// Parses a segment key; trailing bytes (the body kind of a bodies key) are ignored.
[[nodiscard]] bool ParseSegmentKey(std::string_view key, TimeMicros* bucket, std::string* ns,
                                   uint64_t* id);

}  // namespace kq::storage

#endif  // KQ_STORAGE_STORE_KEYS_H_
