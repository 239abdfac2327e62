// The write path of an environment: dedupe, grouping by (bucket, namespace), segment encoding,
// the auditID index keys and one durable WriteBatch per Append (docs/format.md).
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "absl/container/flat_hash_map.h"
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

// ReturnBuilder keeps at most this many idle builders, none that held more rows.
constexpr size_t kIdleBuilders = 64;
constexpr size_t kKeptBuilderRows = 16384;

// An Append in parts. Each event added is claimed against dedupe and added to the segment
// builder of its (bucket, namespace) group at once; Commit encodes the groups' segments and
// writes everything, claims and auditID index run included, as one batch.
class Stream : public AppendStream {
 public:
  explicit Stream(EnvironmentImpl* env) : env_(env) {}
  ~Stream() override;
  [[nodiscard]] absl::Status Add(std::span<const Event> events) override;
  [[nodiscard]] absl::Status Commit(AppendResult* result) override;

 private:
  struct Group {
    TimeMicros bucket;
    std::string ns;
    std::string prefix;  // SegmentPrefix(bucket, ns)
    std::unique_ptr<SegmentBuilder> builder;
    size_t max_rows = 0;                 // the most rows the builder held
    std::vector<uint32_t> audit_hashes;  // AuditIdHash of every event added
  };
  using GroupKey = std::pair<TimeMicros, std::string_view>;  // the view is of Group::ns

  Group* GroupOf(TimeMicros bucket, std::string_view ns);
  // Encodes the group's rows as a segment into the batch.
  void Seal(Group* group);

  EnvironmentImpl* const env_;
  rocksdb::WriteBatch batch_;
  absl::Status status_;  // the first error of Add
  bool added_ = false;   // whether any event was added
  bool committed_ = false;
  AppendResult result_;
  EnvironmentImpl::Claims claims_;                        // Add's scratch
  std::vector<std::pair<TimeMicros, uint64_t>> claimed_;  // (hour, hash) of every kept event
  std::deque<Group> groups_;  // deque: GroupKey views of ns stay valid as groups are added
  absl::flat_hash_map<GroupKey, Group*> by_key_;
};

Stream::~Stream() {
  if (!committed_ && !claimed_.empty()) env_->Unclaim(claimed_);
  for (Group& g : groups_) env_->ReturnBuilder(std::move(g.builder), g.max_rows);
}

Stream::Group* Stream::GroupOf(TimeMicros bucket, std::string_view ns) {
  if (auto it = by_key_.find(GroupKey(bucket, ns)); it != by_key_.end()) return it->second;
  Group& g = groups_.emplace_back();
  g.bucket = bucket;
  g.ns = std::string(ns);
  g.prefix = SegmentPrefix(bucket, ns);
  g.builder = env_->TakeBuilder();
  by_key_.emplace(GroupKey(bucket, g.ns), &g);
  return &g;
}

void Stream::Seal(Group* group) {
  const size_t rows = group->builder->rows();
  group->max_rows = std::max(group->max_rows, rows);
  env_->PutSegment(
      group->prefix,
      group->builder->Finish(rows < kSmallSegmentRows ? kSmallSegmentZstdLevel : kSegmentZstdLevel),
      &batch_);
}

absl::Status Stream::Add(std::span<const Event> events) {
  if (!status_.ok()) return status_;
  if (committed_) return absl::FailedPreconditionError("AppendStream::Add after Commit");
  if (events.empty()) return absl::OkStatus();
  added_ = true;
  // Duplicates (of stored events, or earlier in this stream) are skipped. The claimed hashes
  // are persisted with the events: one value per (hour, write), keyed by hour so that old
  // hours go with one range deletion.
  status_ = env_->ClaimEvents(events, &claims_, &result_, &batch_);
  if (!status_.ok()) return status_;
  claimed_.insert(claimed_.end(), claims_.claimed.begin(), claims_.claimed.end());
  Group* group = nullptr;
  for (uint32_t i : claims_.keep) {
    const Event& e = events[i];
    const TimeMicros bucket = claims_.hours[i];
    // Consecutive events often share a group.
    if (group == nullptr || group->bucket != bucket || group->ns != e.Namespace()) {
      group = GroupOf(bucket, e.Namespace());
    }
    group->builder->Add(e);
    group->audit_hashes.push_back(AuditIdHash(e.audit_id));
    if (group->builder->rows() >= kMaxSegmentRows) Seal(group);
  }
  return absl::OkStatus();
}

absl::Status Stream::Commit(AppendResult* result) {
  AppendResult local;
  if (result == nullptr) result = &local;
  *result = AppendResult();
  if (!status_.ok()) return status_;
  if (committed_) return absl::FailedPreconditionError("AppendStream::Commit called twice");
  committed_ = true;
  if (!added_) return absl::OkStatus();
  env_->PutClaims(&claimed_, &batch_);
  // Segments in key order, and the auditID index: one key per distinct (auditID hash, bucket,
  // namespace) of this write, as one run (none when every event was a duplicate).
  std::vector<Group*> order;
  for (Group& g : groups_) order.push_back(&g);
  std::sort(order.begin(), order.end(), [](const Group* a, const Group* b) {
    return GroupKey(a->bucket, a->ns) < GroupKey(b->bucket, b->ns);
  });
  AuditIdRun index_run;
  for (Group* g : order) {
    if (g->builder->rows() > 0) Seal(g);
    for (uint32_t h : g->audit_hashes) index_run.Add(h, g->prefix);
  }
  std::optional<uint64_t> run_id;
  if (!index_run.empty()) run_id = env_->StageAuditIdRun(std::move(index_run), &batch_);
  if (absl::Status st = env_->WriteAppended(&batch_); !st.ok()) {
    if (run_id) env_->WithdrawAuditIdRun(*run_id);
    committed_ = false;  // the destructor gives the claims back
    status_ = st;
    return st;
  }
  *result = result_;
  result->stored = claimed_.size();
  return absl::OkStatus();
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

std::unique_ptr<SegmentBuilder> EnvironmentImpl::TakeBuilder() {
  {
    std::lock_guard<std::mutex> l(builders_mu_);
    if (!idle_builders_.empty()) {
      std::unique_ptr<SegmentBuilder> b = std::move(idle_builders_.back());
      idle_builders_.pop_back();
      return b;
    }
  }
  return std::make_unique<SegmentBuilder>();
}

void EnvironmentImpl::ReturnBuilder(std::unique_ptr<SegmentBuilder> builder, size_t rows) {
  // A builder left holding rows (its write failed) is not reused.
  if (builder == nullptr || builder->rows() > 0 || rows > kKeptBuilderRows) return;
  std::lock_guard<std::mutex> l(builders_mu_);
  if (idle_builders_.size() < kIdleBuilders) idle_builders_.push_back(std::move(builder));
}

std::unique_ptr<AppendStream> EnvironmentImpl::BeginAppend() {
  return std::make_unique<Stream>(this);
}

absl::Status EnvironmentImpl::Append(std::span<const Event> events, AppendResult* result) {
  Stream stream(this);
  KQ_RETURN_IF_ERROR(stream.Add(events));
  return stream.Commit(result);
}

}  // namespace kq::storage
