// Background merging of small segments of one (bucket, namespace) into bigger ones.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "storage/environment_impl.h"
#include "storage/segment.h"
#include "storage/store_keys.h"
#include "storage/summary.h"

namespace kq::storage {
namespace {

// Background merges of a group of an open bucket (the newest hour appended to) wait until its
// small segments hold kSmallSegmentRows rows together, or number kMaxSmallSegments: most rows are
// then rewritten once, not once per fan-in step. Groups of closed buckets merge any two small
// segments, as Flush does.
constexpr size_t kMaxSmallSegments = 64;

// The merge thread moves auditID index runs into the index once they hold this many keys
// (about 8 bytes of memory each), or once there are this many runs (every Append copies the
// list of runs, and a look-up searches each: many small appends must not grow it without
// bound).
constexpr uint64_t kIngestRunKeys = 1u << 20;
constexpr size_t kIngestRuns = 1024;

// How often the merge thread looks for work when nothing wakes it.
constexpr std::chrono::seconds kMergeLoopTick{5};
// An index sweep waits for this long without deletions, but no longer than kSweepMaxDelay
// after the first one (see EnvironmentImpl::sweep_pending_since_).
constexpr std::chrono::seconds kSweepQuiet{10};
constexpr std::chrono::minutes kSweepMaxDelay{5};

// Flush merges this many groups at once (a background pass, beside appends, merges one at a
// time).
constexpr size_t kFlushMergeThreads = 2;

struct Candidate {
  std::string key;
  Summary summary;
};

// The small segments of one (bucket, namespace).
struct Group {
  std::string prefix;
  TimeMicros bucket = 0;
  std::vector<Candidate> candidates;
};

}  // namespace

absl::StatusOr<uint64_t> EnvironmentImpl::MergeSmallSegments(bool all) {
  std::lock_guard<std::mutex> l(maintenance_mu_);
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  ro.fill_cache = false;  // a merge reads each segment once: keep the cache for queries
  auto release = [&] { db_->ReleaseSnapshot(snap); };
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kSummaries]));
  uint64_t merged = 0;
  // The newest bucket appended to; its groups may still grow.
  TimeMicros open_bucket;
  {
    std::lock_guard<std::mutex> dl(dedupe_mu_);
    open_bucket = dedupe_newest_hour_;
  }
  // Merges the small segments of `group`; adds the segments merged away to *out.
  auto merge_group = [&](const Group& group, uint64_t* out) -> absl::Status {
    const TimeMicros bucket = group.bucket;
    const std::string& group_prefix = group.prefix;
    // Only segments of the same tier merge together.
    for (bool dropped : {false, true}) {
      std::vector<const Candidate*> picked;
      for (const auto& c : group.candidates) {
        if (c.summary.bodies_dropped == dropped) picked.push_back(&c);
      }
      if (picked.size() < 2) continue;
      if (!all && bucket >= open_bucket && picked.size() < kMaxSmallSegments) {
        uint64_t small_rows = 0;
        for (const Candidate* c : picked) small_rows += c->summary.rows;
        if (small_rows < kSmallSegmentRows) continue;
      }
      // Merge in runs of at most kMaxSegmentRows rows.
      size_t start = 0;
      while (start < picked.size()) {
        size_t end = start;
        uint64_t rows = 0;
        while (end < picked.size() && rows + picked[end]->summary.rows <= kMaxSegmentRows) {
          rows += picked[end]->summary.rows;
          ++end;
        }
        if (end - start < 2) {
          start = std::max(end, start + 1);
          continue;
        }
        SegmentBuilder builder;
        rocksdb::WriteBatch batch;
        uint64_t raw_bytes = 0;
        for (size_t i = start; i < end; ++i) {
          const std::string& key = picked[i]->key;
          std::string value;
          KQ_RETURN_IF_ERROR(FromRocks(db_->Get(ro, handles_[kSegments], key, &value),
                                       absl::StrCat(dir_, ": reading a segment to merge")));
          // A split segment's wide part follows its narrow part: together one whole segment.
          std::string wide;
          rocksdb::Status ws = db_->Get(ro, handles_[kSegments], key + kWideSuffix, &wide);
          if (!ws.IsNotFound()) {
            KQ_RETURN_IF_ERROR(FromRocks(ws, absl::StrCat(dir_, ": reading a segment to merge")));
            value += wide;
          }
          KQ_ASSIGN_OR_RETURN(SegmentView view, SegmentView::Parse(std::move(value)));
          KQ_ASSIGN_OR_RETURN(DecodedRows decoded, DecodeAllColumns(view));
          if (!dropped) {
            for (char kind : {'\x01', '\x02'}) {
              std::string body;
              rocksdb::Status s = db_->Get(ro, handles_[kBodies], key + kind, &body);
              if (s.IsNotFound()) continue;
              KQ_RETURN_IF_ERROR(FromRocks(s, dir_));
              KQ_ASSIGN_OR_RETURN(BlobColumn blobs, DecodeBodyBlock(body, decoded.rows));
              (kind == '\x01' ? decoded.request_bodies : decoded.response_bodies) =
                  std::move(blobs);
            }
          }
          builder.AddRows(decoded);
          raw_bytes += picked[i]->summary.raw_bytes;
          DeleteSegment(key, &batch);
        }
        EncodedSegment enc = builder.Finish();
        enc.summary.raw_bytes = raw_bytes;
        enc.summary.bodies_dropped = dropped;
        PutSegment(group_prefix, enc, &batch);
        KQ_RETURN_IF_ERROR(Write(&batch));
        *out += end - start;
        start = end;
      }
    }
    return absl::OkStatus();
  };

  // 1. The groups with two or more small segments, from the summaries.
  std::vector<Group> groups;
  Group group;
  auto close_group = [&] {
    if (group.candidates.size() >= 2) groups.push_back(std::move(group));
    group = Group();
  };
  absl::Status status;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key(it->key().data(), it->key().size());
    TimeMicros key_bucket;
    std::string ns;
    uint64_t id;
    if (!ParseSegmentKey(key, &key_bucket, &ns, &id)) {
      status = absl::DataLossError(absl::StrCat(dir_, ": corrupt summary key"));
      break;
    }
    std::string prefix = SegmentPrefix(key_bucket, ns);
    if (prefix != group.prefix) {
      close_group();
      group.prefix = std::move(prefix);
      group.bucket = key_bucket;
    }
    absl::StatusOr<Summary> s =
        Summary::Decode(std::string_view(it->value().data(), it->value().size()));
    if (!s.ok()) {
      status = s.status();
      break;
    }
    if (s->rows < kSmallSegmentRows) group.candidates.push_back({std::move(key), *std::move(s)});
  }
  close_group();
  if (status.ok()) status = FromRocks(it->status(), dir_);
  it.reset();
  // 2. Merge them: in Flush on kFlushMergeThreads threads, each taking the next group.
  if (status.ok()) {
    std::mutex mu;  // guards merged, status
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&] {
      for (size_t i = next++; i < groups.size() && !failed; i = next++) {
        uint64_t out = 0;
        absl::Status st = merge_group(groups[i], &out);
        std::lock_guard<std::mutex> ml(mu);
        if (!st.ok()) {
          status.Update(st);
          failed = true;
          break;
        }
        merged += out;
      }
    };
    std::vector<std::thread> helpers;
    for (size_t t = 1; all && t < std::min(kFlushMergeThreads, groups.size()); ++t) {
      helpers.emplace_back(work);
    }
    work();
    for (std::thread& t : helpers) t.join();
  }
  release();
  if (!status.ok()) return status;
  return merged;
}

void EnvironmentImpl::RequestIndexSweep() {
  std::lock_guard<std::mutex> l(merge_mu_);
  last_deletion_ = std::chrono::steady_clock::now();
  if (!sweep_pending_since_) sweep_pending_since_ = last_deletion_;
}

void EnvironmentImpl::MergeLoop() {
  std::unique_lock<std::mutex> l(merge_mu_);
  while (!stop_) {
    merge_cv_.wait_for(l, kMergeLoopTick, [&] { return stop_ || appends_since_merge_ >= 64; });
    if (stop_) break;
    const auto now = std::chrono::steady_clock::now();
    const bool sweep = sweep_pending_since_ && (now - last_deletion_ >= kSweepQuiet ||
                                                now - *sweep_pending_since_ >= kSweepMaxDelay);
    if (appends_since_merge_ == 0 && !sweep) continue;
    bool merge = appends_since_merge_ > 0;
    appends_since_merge_ = 0;
    if (sweep) sweep_pending_since_.reset();
    l.unlock();
    if (merge) {
      absl::StatusOr<uint64_t> merged = MergeSmallSegments(/*all=*/false);
      if (!merged.ok()) {
        log::Warning("environment ", name_, ": merge failed: ", merged.status().ToString());
      }
      bool ingest;
      {
        std::lock_guard<std::mutex> rl(runs_mu_);
        ingest = run_keys_ >= kIngestRunKeys || runs_->size() >= kIngestRuns;
      }
      if (ingest) {
        absl::StatusOr<uint64_t> ingested = IngestAuditIdRuns();
        if (!ingested.ok()) {
          log::Warning("environment ", name_, ": moving auditID index runs into the index ",
                       "failed (they stay, and are tried again): ", ingested.status().ToString());
        }
      }
    }
    if (sweep) {
      absl::StatusOr<uint64_t> swept = SweepAuditIndex();
      if (!swept.ok()) {
        log::Warning("environment ", name_, ": auditID index sweep failed (the next DeleteRange ",
                     "tries again): ", swept.status().ToString());
      }
    }
    l.lock();
  }
}

}  // namespace kq::storage
