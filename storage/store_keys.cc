#include "storage/store_keys.h"

#include "common/coding.h"
#include "storage/hash.h"

namespace kq::storage {

TimeMicros BucketOf(TimeMicros t) {
  TimeMicros r = t % kBucketMicros;
  return r < 0 ? t - r - kBucketMicros : t - r;
}

void PutTimeKey(std::string* out, TimeMicros t) {
  PutFixed64BE(out, static_cast<uint64_t>(t) ^ 0x8000000000000000ull);
}

void PutNamespaceKey(std::string* out, std::string_view ns) {
  for (char c : ns) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

std::string SegmentPrefix(TimeMicros bucket, std::string_view ns) {
  std::string key;
  PutTimeKey(&key, bucket);
  PutNamespaceKey(&key, ns);
  return key;
}

std::string SegmentKey(TimeMicros bucket, std::string_view ns, uint64_t id) {
  std::string key = SegmentPrefix(bucket, ns);
  PutFixed64BE(&key, id);
  return key;
}

std::string IdKey(uint64_t id) {
  std::string key;
  PutFixed64BE(&key, id);
  return key;
}

uint32_t AuditIdHash(std::string_view audit_id) {
  return static_cast<uint32_t>(Hash64(audit_id) >> 32);
}

std::string AuditIdIndexPrefix(std::string_view audit_id) {
  std::string key;
  AppendAuditIdIndexKey(AuditIdHash(audit_id), "", &key);
  return key;
}

void AppendAuditIdIndexKey(uint32_t audit_hash, std::string_view group, std::string* key) {
  PutFixed32BE(key, audit_hash);
  key->append(group);
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;  // every key: callers treat "" as "no upper bound"
}

bool ParseSegmentKey(std::string_view key, TimeMicros* bucket, std::string* ns, uint64_t* id) {
  uint64_t t;
  if (!GetFixed64BE(&key, &t)) return false;
  *bucket = static_cast<TimeMicros>(t ^ 0x8000000000000000ull);
  ns->clear();
  while (true) {
    if (key.size() < 2) return false;
    if (key[0] == '\0') {
      if (key[1] == '\x01') {
        key.remove_prefix(2);
        break;
      }
      if (key[1] != '\xff') return false;
      ns->push_back('\0');
      key.remove_prefix(2);
      continue;
    }
    ns->push_back(key[0]);
    key.remove_prefix(1);
  }
  return GetFixed64BE(&key, id);
}

}  // namespace kq::storage
