// Removal of auditID index keys whose (bucket, namespace) group no longer has segments (after
// DeleteRange), so the index does not grow with data that retention removed.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <mutex>
#include <shared_mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "storage/environment_impl.h"
#include "storage/store_keys.h"

namespace kq::storage {
namespace {

// Stale keys are removed in chunks of this many, each under the index lock.
constexpr size_t kSweepChunk = 4096;

}  // namespace

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
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kAuditIds]));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  KQ_RETURN_IF_ERROR(FromRocks(it->status(), dir_));
  return n;
}

}  // namespace kq::storage
