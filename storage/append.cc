// The write path of an environment: dedupe, grouping by (bucket, namespace), segment encoding,
// the auditID index keys and one durable WriteBatch per Append (docs/format.md).
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status.h"
#include "storage/environment_impl.h"
#include "storage/event_codec.h"
#include "storage/hash.h"
#include "storage/segment.h"
#include "storage/store_keys.h"

namespace kq::storage {
namespace {

// Append keeps its thread's segment builder after a call of at most this many bytes of JSON.
constexpr uint64_t kKeptBuilderRawBytes = 16ull << 20;

// One Append's auditID index keys, in one buffer; sorted before they go into the WriteBatch so
// that the memtable inserts them in key order (cheap skip-list inserts from the last position).
class AuditIdKeys {
 public:
  void Add(uint32_t hash, std::string_view group_prefix) {
    size_t start = bytes_.size();
    PutFixed32BE(&bytes_, hash);
    bytes_.append(group_prefix);
    spans_.push_back({start, bytes_.size() - start});
  }
  // Sorted, each key once.
  std::vector<std::string_view> Sorted() const {
    std::vector<std::string_view> keys;
    keys.reserve(spans_.size());
    for (const auto& [start, len] : spans_) keys.emplace_back(bytes_.data() + start, len);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }

 private:
  std::string bytes_;
  std::vector<std::pair<size_t, size_t>> spans_;
};

}  // namespace

absl::Status EnvironmentImpl::Write(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.durability == Durability::kSync;
  // Keys of one batch are in key order per column family; concurrent appenders' batches then
  // insert from their own last position (a write alone in its group uses the auditids column
  // family's insert hint instead, store.cc).
  wo.memtable_insert_hint_per_batch = true;
  return FromRocks(db_->Write(wo, batch), absl::StrCat("writing environment \"", name_, "\""));
}

uint64_t EnvironmentImpl::DedupeHash(const Event& e) const {
  thread_local std::string identity;
  identity.clear();
  EncodeIdentity(e, &identity);
  return Hash64(identity);
}

void EnvironmentImpl::PutSegment(std::string_view group, const EncodedSegment& enc,
                                 rocksdb::WriteBatch* batch) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(id_mu_);
    id = next_segment_id_++;
  }
  std::string key(group);
  PutFixed64BE(&key, id);
  const std::string_view segment(enc.segment);
  (void)batch->Put(handles_[kSegments], key, segment.substr(0, enc.narrow_bytes));
  if (enc.narrow_bytes < segment.size()) {
    (void)batch->Put(handles_[kSegments], key + kWideSuffix, segment.substr(enc.narrow_bytes));
  }
  (void)batch->Put(handles_[kSummaries], key, enc.summary.Encode());
  if (!enc.request_bodies.empty()) {
    (void)batch->Put(handles_[kBodies], key + '\x01', enc.request_bodies);
  }
  if (!enc.response_bodies.empty()) {
    (void)batch->Put(handles_[kBodies], key + '\x02', enc.response_bodies);
  }
}

void EnvironmentImpl::DeleteSegment(const std::string& key, rocksdb::WriteBatch* batch) {
  (void)batch->Delete(handles_[kSegments], key);
  (void)batch->Delete(handles_[kSegments], key + kWideSuffix);
  (void)batch->Delete(handles_[kSummaries], key);
  (void)batch->Delete(handles_[kBodies], key + '\x01');
  (void)batch->Delete(handles_[kBodies], key + '\x02');
}

void EnvironmentImpl::ExpireDedupe(TimeMicros newest_hour, rocksdb::WriteBatch* batch) {
  if (newest_hour <= dedupe_newest_hour_) return;
  dedupe_newest_hour_ = newest_hour;
  TimeMicros cutoff = newest_hour - BucketOf(options_.dedupe_window) - kMicrosPerHour;
  if (dedupe_oldest_hour_ >= cutoff) return;
  dedupe_oldest_hour_ = cutoff;
  dedupe_.erase(dedupe_.begin(), dedupe_.lower_bound(cutoff));
  std::string from, to;
  PutTimeKey(&from, INT64_MIN);
  PutTimeKey(&to, cutoff);
  (void)batch->DeleteRange(handles_[kDedupe], from, to);
}

absl::Status EnvironmentImpl::Append(std::span<const Event> events, AppendResult* result) {
  AppendResult local;
  if (result == nullptr) result = &local;
  *result = AppendResult();
  if (events.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  // 1. Dedupe: claim each event's hash; duplicates (earlier or within this call) are skipped.
  std::vector<uint32_t> keep;
  std::vector<std::pair<TimeMicros, uint64_t>> claimed;
  keep.reserve(events.size());
  claimed.reserve(events.size());
  std::vector<uint64_t> hashes(events.size());
  std::vector<TimeMicros> hours(events.size());
  TimeMicros newest = INT64_MIN;
  for (size_t i = 0; i < events.size(); ++i) {
    hashes[i] = DedupeHash(events[i]);
    hours[i] = BucketOf(events[i].request_received_time);
    newest = std::max(newest, hours[i]);
  }
  {
    std::lock_guard<std::mutex> l(dedupe_mu_);
    // Consecutive events mostly share an hour: look its set up once per run.
    TimeMicros set_hour = 0;
    absl::flat_hash_set<uint64_t>* set = nullptr;
    for (size_t i = 0; i < events.size(); ++i) {
      if (set == nullptr || hours[i] != set_hour) {
        set_hour = hours[i];
        KQ_ASSIGN_OR_RETURN(set, DedupeSetOf(set_hour));
      }
      if (!set->insert(hashes[i]).second) {
        ++result->duplicates;
        continue;
      }
      keep.push_back(static_cast<uint32_t>(i));
      claimed.emplace_back(hours[i], hashes[i]);
    }
    ExpireDedupe(newest, &batch);
  }
  // Persist the claimed hashes: one value per (hour, append), keyed by hour so that old hours
  // go with one range deletion.
  std::sort(claimed.begin(), claimed.end());
  uint64_t append_id;
  {
    std::lock_guard<std::mutex> l(id_mu_);
    append_id = next_dedupe_id_++;
  }
  for (size_t i = 0; i < claimed.size();) {
    size_t j = i;
    std::string value;
    while (j < claimed.size() && claimed[j].first == claimed[i].first) {
      PutFixed64BE(&value, claimed[j].second);
      ++j;
    }
    std::string key;
    PutTimeKey(&key, claimed[i].first);
    PutFixed64BE(&key, append_id);
    (void)batch.Put(handles_[kDedupe], key, value);
    i = j;
  }
  // 2. Group by (bucket, namespace), in key order.
  struct Slot {
    TimeMicros bucket;
    const std::string* ns;
    uint32_t index;
  };
  std::vector<Slot> slots;
  slots.reserve(keep.size());
  for (uint32_t i : keep) slots.push_back({hours[i], &events[i].Namespace(), i});
  std::stable_sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    if (a.bucket != b.bucket) return a.bucket < b.bucket;
    return *a.ns < *b.ns;
  });
  // One builder per thread, reused: its buffers keep their capacity between calls (about 3 %
  // of the append CPU). A builder that held a large call is dropped after it, so that an idle
  // thread keeps little.
  thread_local std::unique_ptr<SegmentBuilder> builder;
  if (builder == nullptr) builder = std::make_unique<SegmentBuilder>(kAppendZstdLevel);
  uint64_t raw_bytes = 0;
  AuditIdKeys audit_keys;
  std::string prefix;
  for (size_t start = 0; start < slots.size();) {
    // The group [start, end): one (bucket, namespace).
    size_t end = start + 1;
    while (end < slots.size() && slots[end].bucket == slots[start].bucket &&
           *slots[end].ns == *slots[start].ns) {
      ++end;
    }
    prefix = SegmentPrefix(slots[start].bucket, *slots[start].ns);
    for (size_t i = start; i < end; ++i) {
      const Event& e = events[slots[i].index];
      builder->Add(e);
      raw_bytes += e.raw_size;
      audit_keys.Add(static_cast<uint32_t>(Hash64(e.audit_id) >> 32), prefix);
      if (builder->rows() < kMaxSegmentRows && i + 1 < end) continue;
      PutSegment(prefix, builder->Finish(), &batch);
    }
    start = end;
  }
  if (raw_bytes > kKeptBuilderRawBytes) builder.reset();
  // auditID index: one key per distinct (auditID hash, bucket, namespace) of this call.
  for (std::string_view key : audit_keys.Sorted()) {
    (void)batch.Put(handles_[kAuditIds], rocksdb::Slice(key.data(), key.size()), rocksdb::Slice());
  }
  // 3. One durable write.
  absl::Status st;
  {
    std::shared_lock<std::shared_mutex> index_lock(index_mu_);
    st = Write(&batch);
  }
  if (!st.ok()) {
    std::lock_guard<std::mutex> l(dedupe_mu_);
    for (const auto& [hour, hash] : claimed) dedupe_[hour].erase(hash);
    return st;
  }
  result->stored = keep.size();
  bool wake = false;
  {
    std::lock_guard<std::mutex> l(merge_mu_);
    wake = ++appends_since_merge_ >= 64;
  }
  if (wake) merge_cv_.notify_one();
  return absl::OkStatus();
}

}  // namespace kq::storage
