// The write path of an environment: dedupe, grouping by (bucket, namespace), segment encoding,
// the auditID index keys and one durable WriteBatch per Append (docs/format.md).
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
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

// One kept event of a write, placed in its (bucket, namespace) group.
struct GroupSlot {
  TimeMicros bucket;
  const std::string* ns;
  uint32_t index;  // into the write's events
};

// The kept events of `claims` in (bucket, namespace) order, in their order within a group.
std::vector<GroupSlot> GroupSlots(std::span<const Event> events,
                                  const EnvironmentImpl::Claims& claims) {
  std::vector<GroupSlot> slots;
  slots.reserve(claims.keep.size());
  for (uint32_t i : claims.keep) slots.push_back({claims.hours[i], &events[i].Namespace(), i});
  std::stable_sort(slots.begin(), slots.end(), [](const GroupSlot& a, const GroupSlot& b) {
    if (a.bucket != b.bucket) return a.bucket < b.bucket;
    return *a.ns < *b.ns;
  });
  return slots;
}

}  // namespace

absl::Status EnvironmentImpl::Write(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.durability == Durability::kSync;
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

absl::Status EnvironmentImpl::ClaimEvents(std::span<const Event> events, Claims* claims,
                                          AppendResult* result, rocksdb::WriteBatch* batch) {
  claims->keep.clear();
  claims->claimed.clear();
  claims->keep.reserve(events.size());
  claims->claimed.reserve(events.size());
  std::vector<uint64_t> hashes(events.size());
  claims->hours.resize(events.size());
  TimeMicros newest = INT64_MIN;
  for (size_t i = 0; i < events.size(); ++i) {
    hashes[i] = DedupeHash(events[i]);
    claims->hours[i] = BucketOf(events[i].request_received_time);
    newest = std::max(newest, claims->hours[i]);
  }
  std::lock_guard<std::mutex> l(dedupe_mu_);
  // Consecutive events mostly share an hour: look its set up once per run.
  TimeMicros set_hour = 0;
  absl::flat_hash_set<uint64_t>* set = nullptr;
  for (size_t i = 0; i < events.size(); ++i) {
    if (set == nullptr || claims->hours[i] != set_hour) {
      set_hour = claims->hours[i];
      absl::StatusOr<absl::flat_hash_set<uint64_t>*> found = DedupeSetOf(set_hour);
      if (!found.ok()) {
        // Nothing of this call is kept: give back what it claimed so far.
        EraseClaims(claims->claimed);
        return found.status();
      }
      set = *found;
    }
    if (!set->insert(hashes[i]).second) {
      ++result->duplicates;
      continue;
    }
    claims->keep.push_back(static_cast<uint32_t>(i));
    claims->claimed.emplace_back(claims->hours[i], hashes[i]);
  }
  ExpireDedupe(newest, batch);
  return absl::OkStatus();
}

void EnvironmentImpl::EraseClaims(std::span<const std::pair<TimeMicros, uint64_t>> claimed) {
  for (const auto& [hour, hash] : claimed) dedupe_[hour].erase(hash);
}

void EnvironmentImpl::Unclaim(std::span<const std::pair<TimeMicros, uint64_t>> claimed) {
  std::lock_guard<std::mutex> l(dedupe_mu_);
  EraseClaims(claimed);
}

void EnvironmentImpl::PutClaims(std::vector<std::pair<TimeMicros, uint64_t>>* claims,
                                rocksdb::WriteBatch* batch) {
  std::sort(claims->begin(), claims->end());
  const std::vector<std::pair<TimeMicros, uint64_t>>& claimed = *claims;
  uint64_t write_id;
  {
    std::lock_guard<std::mutex> l(id_mu_);
    write_id = next_dedupe_id_++;
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
    PutFixed64BE(&key, write_id);
    (void)batch->Put(handles_[kDedupe], key, value);
    i = j;
  }
}

uint64_t EnvironmentImpl::StageAuditIdRun(AuditIdRun run, rocksdb::WriteBatch* batch) {
  run.Seal();
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(id_mu_);
    id = next_run_id_++;
  }
  (void)batch->Put(handles_[kAuditRuns], IdKey(id), run.Encode());
  auto shared = std::make_shared<const AuditIdRun>(std::move(run));
  std::lock_guard<std::mutex> l(runs_mu_);
  auto next = std::make_shared<AuditIdRuns>(*runs_);
  next->emplace_back(id, shared);
  run_keys_ += shared->size();
  runs_ = std::move(next);
  return id;
}

void EnvironmentImpl::DropRuns(const absl::flat_hash_set<uint64_t>& ids) {
  auto next = std::make_shared<AuditIdRuns>();
  for (const auto& entry : *runs_) {
    if (ids.contains(entry.first)) {
      run_keys_ -= entry.second->size();
    } else {
      next->push_back(entry);
    }
  }
  runs_ = std::move(next);
}

void EnvironmentImpl::WithdrawAuditIdRun(uint64_t id) {
  std::lock_guard<std::mutex> l(runs_mu_);
  DropRuns({id});
}

absl::Status EnvironmentImpl::WriteAppended(rocksdb::WriteBatch* batch) {
  {
    std::shared_lock<std::shared_mutex> index_lock(index_mu_);
    KQ_RETURN_IF_ERROR(Write(batch));
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> l(merge_mu_);
    wake = ++appends_since_merge_ >= 64;
  }
  if (wake) merge_cv_.notify_one();
  return absl::OkStatus();
}

absl::Status EnvironmentImpl::Append(std::span<const Event> events, AppendResult* result) {
  AppendResult local;
  if (result == nullptr) result = &local;
  *result = AppendResult();
  if (events.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  // 1. Dedupe: claim each event's hash; duplicates (earlier or within this call) are skipped.
  // The claimed hashes are persisted with the events: one value per (hour, write), keyed by
  // hour so that old hours go with one range deletion.
  Claims claims;
  KQ_RETURN_IF_ERROR(ClaimEvents(events, &claims, result, &batch));
  PutClaims(&claims.claimed, &batch);
  // 2. Group by (bucket, namespace), in key order.
  const std::vector<GroupSlot> slots = GroupSlots(events, claims);
  // One builder per thread, reused: its buffers keep their capacity between calls (about 3 %
  // of the append CPU). A builder that held a large call is dropped after it, so that an idle
  // thread keeps little.
  thread_local std::unique_ptr<SegmentBuilder> builder;
  if (builder == nullptr) builder = std::make_unique<SegmentBuilder>();
  uint64_t raw_bytes = 0;
  AuditIdRun index_run;
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
      index_run.Add(e.audit_id, prefix);
      if (builder->rows() < kMaxSegmentRows && i + 1 < end) continue;
      PutSegment(prefix, builder->Finish(), &batch);
    }
    start = end;
  }
  if (raw_bytes > kKeptBuilderRawBytes) builder.reset();
  // auditID index: one key per distinct (auditID hash, bucket, namespace) of this call, as one
  // run (none when every event was a duplicate).
  std::optional<uint64_t> run_id;
  if (!index_run.empty()) run_id = StageAuditIdRun(std::move(index_run), &batch);
  // 3. One durable write.
  if (absl::Status st = WriteAppended(&batch); !st.ok()) {
    if (run_id) WithdrawAuditIdRun(*run_id);
    Unclaim(claims.claimed);
    return st;
  }
  result->stored = claims.keep.size();
  return absl::OkStatus();
}

}  // namespace kq::storage
