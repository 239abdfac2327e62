#include "storage/store.h"

#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "storage/environment_impl.h"
#include "storage/segment.h"
#include "storage/store_keys.h"

namespace kq::storage {
namespace {

constexpr int kFormatVersion = 2;
constexpr size_t kQuarantinePayloadLimit = 1u << 20;
constexpr const char* kCfNames[] = {"default", "segments",   "summaries", "bodies",
                                    "dedupe",  "quarantine", "auditids",  "auditruns"};

// Takes the environment's lock file; FailedPrecondition "locked by pid N" when another process
// (or another open in this process) holds it.
absl::StatusOr<int> LockDir(const std::string& env, const std::string& dir) {
  std::string path = dir + "/KQLOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open lock file ", path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return absl::FailedPreconditionError(
        absl::StrCat("environment \"", env, "\" at ", dir, " is locked by pid ", pid));
  }
  std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot write lock file ", path));
  }
  return fd;
}

std::string EncodeQuarantine(const QuarantineRecord& r) {
  std::string out;
  out.push_back(1);
  PutVarint64(&out, ZigZagEncode(r.received));
  PutLengthPrefixed(&out, r.source);
  PutLengthPrefixed(&out, r.reason);
  PutLengthPrefixed(&out, std::string_view(r.payload).substr(0, kQuarantinePayloadLimit));
  return out;
}

absl::StatusOr<QuarantineRecord> DecodeQuarantine(uint64_t id, std::string_view in) {
  QuarantineRecord r;
  r.id = id;
  uint64_t received;
  std::string_view source, reason, payload;
  if (in.empty() || in[0] != 1) return absl::DataLossError("corrupt quarantine record");
  in.remove_prefix(1);
  if (!GetVarint64(&in, &received) || !GetLengthPrefixed(&in, &source) ||
      !GetLengthPrefixed(&in, &reason) || !GetLengthPrefixed(&in, &payload) || !in.empty()) {
    return absl::DataLossError("corrupt quarantine record");
  }
  r.received = ZigZagDecode(received);
  r.source.assign(source);
  r.reason.assign(reason);
  r.payload.assign(payload);
  return r;
}

bool ValidEnvName(std::string_view name) {
  if (name.empty() || !(std::islower(static_cast<unsigned char>(name[0])) ||
                        std::isdigit(static_cast<unsigned char>(name[0])))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(Sv(context), ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

EnvironmentImpl::EnvironmentImpl(std::string name, std::string dir, const StoreOptions& options)
    : name_(std::move(name)), dir_(std::move(dir)), options_(options) {}

EnvironmentImpl::~EnvironmentImpl() {
  {
    std::lock_guard<std::mutex> l(merge_mu_);
    stop_ = true;
  }
  merge_cv_.notify_all();
  if (merge_thread_.joinable()) merge_thread_.join();
  // Deletions whose index sweep still waited for a pause are swept now, or their keys would
  // stay until a later process deletes something.
  if (db_ != nullptr && sweep_pending_since_) {
    if (absl::StatusOr<uint64_t> swept = SweepAuditIndex(); !swept.ok()) {
      log::Warning("environment ", name_,
                   ": auditID index sweep at close failed: ", swept.status().ToString());
    }
  }
  if (db_ != nullptr) {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
    db_.reset();
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

absl::StatusOr<std::unique_ptr<EnvironmentImpl>> EnvironmentImpl::Open(
    const std::string& name, const std::string& dir, const StoreOptions& options,
    const SharedResources& shared) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  std::unique_ptr<EnvironmentImpl> env(new EnvironmentImpl(name, dir, options));
  KQ_ASSIGN_OR_RETURN(env->lock_fd_, LockDir(name, dir));
  KQ_RETURN_IF_ERROR(env->OpenDb(shared));
  KQ_RETURN_IF_ERROR(env->Recover());
  env->merge_thread_ = std::thread([e = env.get()] { e->MergeLoop(); });
  return env;
}

absl::Status EnvironmentImpl::OpenDb(const SharedResources& shared) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.write_buffer_manager = shared.write_buffers;
  // One flush and two compactions at a time: Flush's manual compactions (non-exclusive) then run
  // beside the auditID index compaction its ingestion starts, instead of after it (0.6 s at the
  // end of a 10M-event import, docs/benchmarks.md).
  db_options.max_background_jobs = 3;
  if (options_.rocksdb_log_file) {
    // RocksDB's own LOG (flushes, compactions, a stats dump every 10 minutes) rolls at 4 MiB and
    // keeps 2 old files: bounded at about 12 MiB however long kqd runs.
    db_options.keep_log_file_num = 2;
    db_options.max_log_file_size = 4ull << 20;
  } else {
    db_options.info_log = NewKqRocksDbLogger(name_);
  }
  db_options.max_total_wal_size = 256ull << 20;
  db_options.paranoid_checks = true;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = shared.cache;
  table.cache_index_and_filter_blocks = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (int i = 0; i < kNumCfs; ++i) {
    rocksdb::ColumnFamilyOptions cf;
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf.write_buffer_size =
        std::clamp<uint64_t>(shared.memory_budget_bytes / 16, 4ull << 20, 64ull << 20);
    // Segment columns and bodies are zstd-compressed already; the rest is small.
    cf.compression = (i == kSegments || i == kBodies) ? rocksdb::kNoCompression : rocksdb::kZSTD;
    if (i == kAuditIds) {
      // Index keys are small and alike: 16 KiB blocks, zstd at its default level (3) throughout.
      // Level 6 for the oldest run (and so for ingested files: SstFileWriter takes the
      // bottommost compression) made a 10M-event store 6 MB (1.2 %) smaller and cost its import
      // about 5 % more CPU (docs/benchmarks.md).
      rocksdb::BlockBasedTableOptions index_table = table;
      index_table.block_size = 16 << 10;
      // Keys arrive in hash order, so every new file overlaps all older ones: under leveled
      // compaction each L0->L1 compaction rewrote the whole index (O(index) per flush).
      // Universal compaction with a 100 % size-amplification bound merges the newer runs
      // into the oldest once they reach its size: the index is rewritten whole each time it
      // doubles (a constant number of times per key, not O(index) per flush), at most half of
      // it is unsettled (sequence numbers kept), and a look-up seeks a few runs
      // (no Bloom filter: it would cost 1.25 bytes per key). A 10M-event import spent 14.8 s
      // of CPU compacting the index with a 25 % bound, 9.2 s with 50 % and 7.4 s with 100 %;
      // the settled index is the same size (docs/benchmarks.md). Flush leaves the index to
      // it. New keys arrive as ingested files (audit_index.cc).
      cf.compaction_style = rocksdb::kCompactionStyleUniversal;
      cf.compaction_options_universal.max_size_amplification_percent = 100;
      cf.level0_file_num_compaction_trigger = 2;
      cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(index_table));
    }
    cfs.emplace_back(kCfNames[i], cf);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir_, cfs, &handles_, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening environment \"", name_, "\" at ", dir_));
  db_.reset(raw);
  return absl::OkStatus();
}

absl::Status EnvironmentImpl::Recover() {
  std::string version;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kMeta], "format_version", &version);
  if (s.IsNotFound()) {
    rocksdb::WriteBatch batch;
    (void)batch.Put(handles_[kMeta], "format_version", std::to_string(kFormatVersion));
    (void)batch.Put(handles_[kMeta], "bucket_micros", std::to_string(kBucketMicros));
    KQ_RETURN_IF_ERROR(Write(&batch));
  } else if (!s.ok()) {
    return FromRocks(s, dir_);
  } else if (version != std::to_string(kFormatVersion)) {
    return absl::FailedPreconditionError(absl::StrCat("environment at ", dir_,
                                                      " has format version ", version,
                                                      "; this kq reads version ", kFormatVersion));
  }
  // Next segment id: one past the largest id in use.
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[kSummaries]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TimeMicros bucket;
    std::string ns;
    uint64_t id;
    if (!ParseSegmentKey(StdSv(absl::string_view(it->key().data(), it->key().size())), &bucket, &ns,
                         &id)) {
      return absl::DataLossError(absl::StrCat("environment at ", dir_, ": corrupt summary key"));
    }
    next_segment_id_ = std::max(next_segment_id_, id + 1);
  }
  KQ_RETURN_IF_ERROR(FromRocks(it->status(), dir_));
  it.reset(db_->NewIterator(rocksdb::ReadOptions(), handles_[kQuarantine]));
  it->SeekToLast();
  if (it->Valid()) {
    std::string_view key(it->key().data(), it->key().size());
    uint64_t id = 0;
    if (!GetFixed64BE(&key, &id)) return absl::DataLossError("corrupt quarantine key");
    next_quarantine_id_ = id + 1;
  }
  KQ_RETURN_IF_ERROR(FromRocks(it->status(), dir_));
  // auditID index runs not yet ingested; a crash during an ingestion may have left its file.
  std::error_code ec;
  std::filesystem::remove(IngestFilePath(dir_), ec);
  it.reset(db_->NewIterator(rocksdb::ReadOptions(), handles_[kAuditRuns]));
  {
    auto runs = std::make_shared<AuditIdRuns>();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      uint64_t id = 0;
      if (!GetFixed64BE(&key, &id)) {
        return absl::DataLossError(absl::StrCat(dir_, ": corrupt auditID index run key"));
      }
      KQ_ASSIGN_OR_RETURN(
          AuditIdRun run,
          AuditIdRun::Decode(std::string_view(it->value().data(), it->value().size()), dir_));
      run_keys_ += run.size();
      runs->emplace_back(id, std::make_shared<const AuditIdRun>(std::move(run)));
      next_run_id_ = id + 1;
    }
    runs_ = std::move(runs);
  }
  KQ_RETURN_IF_ERROR(FromRocks(it->status(), dir_));
  // Dedupe: only the span of hours with records; an hour's hashes are read when it is first
  // appended to (DedupeSetOf).
  it.reset(db_->NewIterator(rocksdb::ReadOptions(), handles_[kDedupe]));
  auto hour_of = [&](TimeMicros* hour) -> absl::Status {
    std::string_view key(it->key().data(), it->key().size());
    uint64_t hour_bits;
    if (!GetFixed64BE(&key, &hour_bits)) {
      return absl::DataLossError(absl::StrCat(dir_, ": corrupt dedupe record"));
    }
    *hour = static_cast<TimeMicros>(hour_bits ^ 0x8000000000000000ull);
    return absl::OkStatus();
  };
  it->SeekToFirst();
  if (it->Valid()) KQ_RETURN_IF_ERROR(hour_of(&dedupe_oldest_hour_));
  it->SeekToLast();
  if (it->Valid()) KQ_RETURN_IF_ERROR(hour_of(&dedupe_newest_hour_));
  return FromRocks(it->status(), dir_);
}

absl::StatusOr<absl::flat_hash_set<uint64_t>*> EnvironmentImpl::DedupeSetOf(TimeMicros hour) {
  auto [slot, inserted] = dedupe_.try_emplace(hour);
  absl::flat_hash_set<uint64_t>* set = &slot->second;
  if (!inserted) return set;
  dedupe_oldest_hour_ = std::min(dedupe_oldest_hour_, hour);
  std::string from, to;
  PutTimeKey(&from, hour);
  PutTimeKey(&to, hour + 1);
  rocksdb::Slice upper(to);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kDedupe]));
  uint64_t max_append_id = 0;
  for (it->Seek(from); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    uint64_t hour_bits, append_id, hash;
    if (!GetFixed64BE(&key, &hour_bits) || !GetFixed64BE(&key, &append_id) ||
        value.size() % 8 != 0) {
      dedupe_.erase(slot);
      return absl::DataLossError(absl::StrCat(dir_, ": corrupt dedupe record"));
    }
    max_append_id = std::max(max_append_id, append_id);
    while (GetFixed64BE(&value, &hash)) set->insert(hash);
  }
  if (absl::Status s = FromRocks(it->status(), dir_); !s.ok()) {
    dedupe_.erase(slot);
    return s;
  }
  // Records of this hour keep their ids: later appends take larger ones.
  std::lock_guard<std::mutex> l(id_mu_);
  next_dedupe_id_ = std::max(next_dedupe_id_, max_append_id + 1);
  return set;
}

absl::StatusOr<uint64_t> EnvironmentImpl::AddQuarantine(QuarantineRecord record) {
  {
    std::lock_guard<std::mutex> l(id_mu_);
    record.id = next_quarantine_id_++;
  }
  if (record.received == 0) record.received = options_.clock->Now();
  rocksdb::WriteBatch batch;
  (void)batch.Put(handles_[kQuarantine], IdKey(record.id), EncodeQuarantine(record));
  KQ_RETURN_IF_ERROR(Write(&batch));
  return record.id;
}

absl::StatusOr<std::vector<QuarantineRecord>> EnvironmentImpl::ListQuarantine(size_t limit) {
  std::vector<QuarantineRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[kQuarantine]));
  for (it->SeekToLast(); it->Valid() && out.size() < limit; it->Prev()) {
    std::string_view key(it->key().data(), it->key().size());
    uint64_t id;
    if (!GetFixed64BE(&key, &id)) return absl::DataLossError("corrupt quarantine key");
    KQ_ASSIGN_OR_RETURN(
        QuarantineRecord r,
        DecodeQuarantine(id, std::string_view(it->value().data(), it->value().size())));
    out.push_back(std::move(r));
  }
  KQ_RETURN_IF_ERROR(FromRocks(it->status(), dir_));
  return out;
}

absl::StatusOr<QuarantineRecord> EnvironmentImpl::GetQuarantine(uint64_t id) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kQuarantine], IdKey(id), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("no quarantine record ", id, " in ", name_));
  }
  KQ_RETURN_IF_ERROR(FromRocks(s, dir_));
  return DecodeQuarantine(id, value);
}

absl::StatusOr<EnvironmentStats> EnvironmentImpl::Stats() {
  EnvironmentStats stats;
  stats.env = name_;
  std::map<std::pair<std::string, std::string>, NamespaceStats> by_ns;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[kSummaries]));
  bool first = true;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TimeMicros bucket;
    std::string ns;
    uint64_t id;
    if (!ParseSegmentKey(std::string_view(it->key().data(), it->key().size()), &bucket, &ns, &id)) {
      return absl::DataLossError(absl::StrCat(dir_, ": corrupt summary key"));
    }
    KQ_ASSIGN_OR_RETURN(Summary s,
                        Summary::Decode(std::string_view(it->value().data(), it->value().size())));
    std::string tier = s.bodies_dropped ? "warm" : "hot";
    NamespaceStats& n = by_ns[{tier, ns}];
    n.tier = tier;
    n.ns = ns;
    n.events += s.rows;
    n.raw_bytes += s.raw_bytes;
    n.disk_bytes += s.segment_bytes + (s.bodies_dropped ? 0 : s.body_bytes) + it->key().size() * 3;
    stats.events += s.rows;
    stats.raw_bytes += s.raw_bytes;
    if (s.rows > 0) {
      stats.oldest = first ? s.min_time : std::min(stats.oldest, s.min_time);
      stats.newest = first ? s.max_time : std::max(stats.newest, s.max_time);
      first = false;
    }
  }
  KQ_RETURN_IF_ERROR(FromRocks(it->status(), dir_));
  for (auto& [key, n] : by_ns) stats.namespaces.push_back(std::move(n));
  for (auto* h : handles_) {
    uint64_t sst = 0;
    if (db_->GetIntProperty(h, "rocksdb.total-sst-files-size", &sst)) stats.disk_bytes += sst;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().extension() == ".log") stats.disk_bytes += entry.file_size(ec);
  }
  it.reset(db_->NewIterator(rocksdb::ReadOptions(), handles_[kQuarantine]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++stats.quarantined;
  KQ_RETURN_IF_ERROR(FromRocks(it->status(), dir_));
  uint64_t value = 0;
  if (db_->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &value)) {
    stats.write_stopped = value != 0;
  }
  if (db_->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &value)) {
    stats.delayed_write_rate = value;
  }
  std::map<std::string, std::string> map;
  auto number = [&map](const char* key) -> uint64_t {
    auto found = map.find(key);
    return found == map.end() ? 0 : std::strtoull(found->second.c_str(), nullptr, 10);
  };
  if (db_->GetMapProperty(rocksdb::DB::Properties::kDBStats, &map)) {
    stats.write_stall_micros = number("db.user_write_stall_micros");
  }
  for (auto* h : handles_) {
    map.clear();
    if (!db_->GetMapProperty(h, rocksdb::DB::Properties::kCFStatsNoFileHistogram, &map)) continue;
    stats.write_slowdowns += number("io_stalls.total_slowdown");
    stats.write_stops += number("io_stalls.total_stop");
  }
  return stats;
}

absl::Status EnvironmentImpl::ForEachSummary(
    const rocksdb::Snapshot* snapshot, TimeMicros from, TimeMicros to,
    std::span<const std::string> namespaces,
    const std::function<void(const std::string& key, TimeMicros bucket, const std::string& ns,
                             const rocksdb::Slice& summary)>& fn) {
  std::string lo, hi;
  PutTimeKey(&lo, from);
  PutTimeKey(&hi, to);
  rocksdb::Slice upper(hi);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kSummaries]));
  for (it->Seek(lo); it->Valid(); it->Next()) {
    std::string key(it->key().data(), it->key().size());
    TimeMicros bucket;
    std::string ns;
    uint64_t id;
    if (!ParseSegmentKey(key, &bucket, &ns, &id)) {
      return absl::DataLossError(absl::StrCat(dir_, ": corrupt summary key"));
    }
    if (!namespaces.empty() &&
        std::find(namespaces.begin(), namespaces.end(), ns) == namespaces.end()) {
      continue;
    }
    fn(key, bucket, ns, it->value());
  }
  return FromRocks(it->status(), dir_);
}

absl::Status EnvironmentImpl::ForEachGroup(
    TimeMicros from, TimeMicros to, std::span<const std::string> namespaces,
    const std::function<void(const std::string& prefix, rocksdb::WriteBatch*)>& on_group,
    const std::function<void(const std::string& key, std::string summary, rocksdb::WriteBatch*)>&
        on_summary) {
  rocksdb::WriteBatch batch;
  if (namespaces.empty()) on_group("", &batch);
  if (namespaces.empty() && !on_summary) return Write(&batch);  // nothing to visit
  std::string last_prefix;
  KQ_RETURN_IF_ERROR(ForEachSummary(nullptr, from, to, namespaces,
                                    [&](const std::string& key, TimeMicros bucket,
                                        const std::string& ns, const rocksdb::Slice& summary) {
                                      if (!namespaces.empty()) {
                                        std::string prefix = SegmentPrefix(bucket, ns);
                                        if (prefix != last_prefix) on_group(prefix, &batch);
                                        last_prefix = prefix;
                                      }
                                      if (on_summary) on_summary(key, summary.ToString(), &batch);
                                    }));
  return Write(&batch);
}

absl::Status EnvironmentImpl::DropBodies(TimeMicros from, TimeMicros to,
                                         std::span<const std::string> namespaces) {
  std::lock_guard<std::mutex> l(maintenance_mu_);
  std::string lo, hi;
  PutTimeKey(&lo, from);
  PutTimeKey(&hi, to);
  absl::Status decode_error;
  KQ_RETURN_IF_ERROR(ForEachGroup(
      from, to, namespaces,
      [&](const std::string& prefix, rocksdb::WriteBatch* batch) {
        if (prefix.empty()) {
          (void)batch->DeleteRange(handles_[kBodies], lo, hi);
        } else {
          (void)batch->DeleteRange(handles_[kBodies], prefix, PrefixEnd(prefix));
        }
      },
      [&](const std::string& key, std::string value, rocksdb::WriteBatch* batch) {
        absl::StatusOr<Summary> s = Summary::Decode(value);
        if (!s.ok()) {
          decode_error = s.status();
          return;
        }
        if (s->bodies_dropped) return;
        s->bodies_dropped = true;
        (void)batch->Put(handles_[kSummaries], key, s->Encode());
      }));
  return decode_error;
}

absl::Status EnvironmentImpl::DeleteRange(TimeMicros from, TimeMicros to,
                                          std::span<const std::string> namespaces) {
  {
    std::lock_guard<std::mutex> l(maintenance_mu_);
    std::string lo, hi;
    PutTimeKey(&lo, from);
    PutTimeKey(&hi, to);
    KQ_RETURN_IF_ERROR(ForEachGroup(
        from, to, namespaces,
        [&](const std::string& prefix, rocksdb::WriteBatch* batch) {
          for (Cf c : {kSegments, kSummaries, kBodies}) {
            if (prefix.empty()) {
              (void)batch->DeleteRange(handles_[c], lo, hi);
            } else {
              (void)batch->DeleteRange(handles_[c], prefix, PrefixEnd(prefix));
            }
          }
        },
        nullptr));
  }
  // The auditID index keys of the deleted groups go in the background (SweepAuditIndex).
  RequestIndexSweep();
  return absl::OkStatus();
}

absl::Status EnvironmentImpl::DeleteSeen(const Reader& reader, TimeMicros from, TimeMicros to,
                                         std::span<const std::string> namespaces) {
  const rocksdb::Snapshot* snapshot = SnapshotOf(reader, this);
  if (snapshot == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("DeleteSeen: the reader was not made by environment \"", name_, "\""));
  }
  {
    std::lock_guard<std::mutex> l(maintenance_mu_);
    rocksdb::WriteBatch batch;
    KQ_RETURN_IF_ERROR(ForEachSummary(snapshot, from, to, namespaces,
                                      [&](const std::string& key, TimeMicros, const std::string&,
                                          const rocksdb::Slice&) { DeleteSegment(key, &batch); }));
    KQ_RETURN_IF_ERROR(Write(&batch));
  }
  RequestIndexSweep();
  return absl::OkStatus();
}

absl::Status EnvironmentImpl::Flush() {
  KQ_ASSIGN_OR_RETURN(uint64_t merged, MergeSmallSegments(/*all=*/true));
  KQ_RETURN_IF_ERROR(IngestAuditIdRuns().status());
  rocksdb::FlushOptions fo;
  KQ_RETURN_IF_ERROR(FromRocks(db_->Flush(fo, handles_), dir_));
  rocksdb::CompactRangeOptions co;
  co.exclusive_manual_compaction = false;  // see max_background_jobs
  if (merged > 0) {
    // Merging left the small segments' bytes behind deletions; reclaim them now. Files of the
    // last level with nothing to drop are not rewritten, so this costs little on a store that
    // is already compacted (`kq import` of 20,000 events into a 10M-event store: 0.47 s in
    // all), while without it a 1M-event import leaves 91 MB on disk instead of 57
    // (docs/benchmarks.md).
    for (Cf c : {kSegments, kSummaries, kBodies}) {
      KQ_RETURN_IF_ERROR(FromRocks(db_->CompactRange(co, handles_[c], nullptr, nullptr), dir_));
    }
  }
  // Dedupe records of hours past the window and index runs moved into the index are deleted,
  // but their bytes stay until compacted: 22.7 and 6.0 MB of a 10M-event import's 530 MB.
  // Both column families hold only recent data (the window; the runs since the last move), so
  // this costs O(recent), not O(store).
  for (Cf c : {kDedupe, kAuditRuns}) {
    KQ_RETURN_IF_ERROR(FromRocks(db_->CompactRange(co, handles_[c], nullptr, nullptr), dir_));
  }
  return FromRocks(db_->FlushWAL(/*sync=*/true), dir_);
}

namespace {

class StoreImpl : public Store {
 public:
  Environment* Find(std::string_view env) override {
    for (auto& e : envs_) {
      if (e->name() == env) return e.get();
    }
    return nullptr;
  }
  std::vector<std::string> EnvironmentNames() const override {
    std::vector<std::string> names;
    for (const auto& e : envs_) names.push_back(e->name());
    return names;
  }

  SharedResources shared_;
  std::vector<std::unique_ptr<EnvironmentImpl>> envs_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.data_dir.empty() &&
      std::any_of(options.environments.begin(), options.environments.end(),
                  [](const auto& e) { return e.dir.empty(); })) {
    return absl::InvalidArgumentError("StoreOptions.data_dir is required");
  }
  if (options.environments.empty()) {
    return absl::InvalidArgumentError("no environment configured");
  }
  auto store = std::make_unique<StoreImpl>();
  store->shared_.memory_budget_bytes = std::max<uint64_t>(options.memory_budget_bytes, 16u << 20);
  store->shared_.cache = rocksdb::NewLRUCache(store->shared_.memory_budget_bytes);
  store->shared_.write_buffers = std::make_shared<rocksdb::WriteBufferManager>(
      store->shared_.memory_budget_bytes / 2, store->shared_.cache);
  for (const auto& env : options.environments) {
    if (!ValidEnvName(env.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid environment name \"", env.name, "\": use [a-z0-9][a-z0-9_-]*"));
    }
    if (store->Find(env.name) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("environment \"", env.name, "\" twice"));
    }
    std::string dir = env.dir.empty() ? options.data_dir + "/" + env.name : env.dir;
    KQ_ASSIGN_OR_RETURN(auto e, EnvironmentImpl::Open(env.name, dir, options, store->shared_));
    store->envs_.push_back(std::move(e));
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace kq::storage
