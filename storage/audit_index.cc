// The auditID index's upkeep: moving runs of new keys into `auditids` (one ingested SST file
// for many writes), and removing keys whose (bucket, namespace) group no longer has segments
// (after DeleteRange), so the index does not grow with data that retention removed.
#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <mutex>
#include <shared_mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "storage/environment_impl.h"
#include "storage/store_keys.h"

namespace kq::storage {
namespace {

// Stale keys are removed in chunks of this many, each under the index lock.
constexpr size_t kSweepChunk = 4096;

}  // namespace

std::string IngestFilePath(const std::string& dir) { return dir + "/auditids-ingest.sst"; }

const rocksdb::Snapshot* EnvironmentImpl::SnapshotWithRuns(
    std::shared_ptr<const AuditIdRuns>* runs) {
  // Under the lock so that an ingestion cannot fall between the two: its keys are then either
  // in the runs, or in an ingested file the snapshot shows.
  std::lock_guard<std::mutex> l(runs_mu_);
  *runs = runs_;
  return db_->GetSnapshot();
}

size_t EnvironmentImpl::PendingAuditIdRuns() {
  std::lock_guard<std::mutex> l(runs_mu_);
  return runs_->size();
}

absl::StatusOr<uint64_t> EnvironmentImpl::IngestAuditIdRuns() {
  std::lock_guard<std::mutex> l(maintenance_mu_);
  std::shared_ptr<const AuditIdRuns> runs;
  {
    std::lock_guard<std::mutex> rl(runs_mu_);
    runs = runs_;
  }
  if (runs->empty()) return 0;
  const std::vector<std::pair<uint32_t, std::string_view>> keys = SortedKeys(*runs);
  const std::string path = IngestFilePath(dir_);
  auto context = [&] { return absl::StrCat(dir_, ": moving auditID index runs into the index"); };
  if (!keys.empty()) {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db_->GetOptions(handles_[kAuditIds]),
                                  handles_[kAuditIds]);
    KQ_RETURN_IF_ERROR(FromRocks(writer.Open(path), context()));
    std::string key;
    for (const auto& [hash, group] : keys) {
      key.clear();
      AppendAuditIdIndexKey(hash, group, &key);
      KQ_RETURN_IF_ERROR(FromRocks(writer.Put(key, rocksdb::Slice()), context()));
    }
    KQ_RETURN_IF_ERROR(FromRocks(writer.Finish(), context()));
  }
  absl::flat_hash_set<uint64_t> ingested;
  for (const auto& [id, run] : *runs) ingested.insert(id);
  {
    std::lock_guard<std::mutex> rl(runs_mu_);
    if (!keys.empty()) {
      rocksdb::IngestExternalFileOptions options;
      options.move_files = true;
      rocksdb::Status s = db_->IngestExternalFile(handles_[kAuditIds], {path}, options);
      if (!s.ok()) {
        std::error_code ec;
        std::filesystem::remove(path, ec);
        return FromRocks(s, context());
      }
    }
    DropRuns(ingested);
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);  // moved into the index; left behind only when copied
  // The runs go; a crash before this write ingests them again, which changes nothing.
  rocksdb::WriteBatch batch;
  for (uint64_t id : ingested) (void)batch.Delete(handles_[kAuditRuns], IdKey(id));
  KQ_RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), context()));
  return keys.size();
}

absl::StatusOr<bool> EnvironmentImpl::GroupExists(std::string_view group) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::string end = PrefixEnd(group);
  rocksdb::Slice upper(end);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kSummaries]));
  it->Seek(rocksdb::Slice(group.data(), group.size()));
  bool exists = it->Valid();
  KQ_RETURN_IF_ERROR(FromRocks(it->status(), dir_));
  return exists;
}

absl::StatusOr<uint64_t> EnvironmentImpl::SweepAuditIndex() {
  std::lock_guard<std::mutex> l(maintenance_mu_);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kAuditIds]));
  // Whether each group seen had segments when first looked at; a group found missing is
  // checked again under the lock before its keys go.
  absl::flat_hash_map<std::string, bool> seen;
  std::vector<std::string> stale;
  uint64_t removed = 0;
  auto remove = [&]() -> absl::Status {
    if (stale.empty()) return absl::OkStatus();
    // Appends hold the lock shared while they write: none can re-create a group between the
    // check and the deletion.
    std::unique_lock<std::shared_mutex> index_lock(index_mu_);
    absl::flat_hash_map<std::string_view, bool> now;
    rocksdb::WriteBatch batch;
    for (const std::string& key : stale) {
      std::string_view group = std::string_view(key).substr(kAuditIdHashBytes);
      auto [slot, inserted] = now.try_emplace(group, false);
      if (inserted) {
        KQ_ASSIGN_OR_RETURN(slot->second, GroupExists(group));
      }
      if (slot->second) continue;
      (void)batch.Delete(handles_[kAuditIds], key);
      ++removed;
    }
    stale.clear();
    // A key that survives a crash is harmless: no sync.
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), dir_);
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() <= kAuditIdHashBytes) {
      return absl::DataLossError(absl::StrCat(dir_, ": corrupt auditID index key"));
    }
    std::string group(it->key().data() + kAuditIdHashBytes, it->key().size() - kAuditIdHashBytes);
    auto found = seen.find(group);
    if (found == seen.end()) {
      KQ_ASSIGN_OR_RETURN(bool exists, GroupExists(group));
      found = seen.emplace(std::move(group), exists).first;
    }
    if (found->second) continue;
    stale.push_back(it->key().ToString());
    if (stale.size() >= kSweepChunk) KQ_RETURN_IF_ERROR(remove());
  }
  KQ_RETURN_IF_ERROR(FromRocks(it->status(), dir_));
  KQ_RETURN_IF_ERROR(remove());
  return removed;
}

absl::StatusOr<uint64_t> EnvironmentImpl::CountAuditIndexKeys() {
  std::shared_ptr<const AuditIdRuns> runs;
  const rocksdb::Snapshot* snapshot = SnapshotWithRuns(&runs);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kAuditIds]));
  absl::flat_hash_set<std::string> keys;
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.insert(it->key().ToString());
  absl::Status status = FromRocks(it->status(), dir_);
  it.reset();
  db_->ReleaseSnapshot(snapshot);
  KQ_RETURN_IF_ERROR(status);
  for (const auto& [hash, group] : SortedKeys(*runs)) {
    std::string key;
    AppendAuditIdIndexKey(hash, group, &key);
    keys.insert(std::move(key));
  }
  return keys.size();
}

}  // namespace kq::storage
