#include "storage/audit_runs.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/strings.h"

namespace kq::storage {
namespace {

constexpr uint8_t kRunVersion = 1;

}  // namespace

void AuditIdRun::Add(uint32_t audit_hash, std::string_view group) {
  if (groups_.empty() || groups_.back() != group) groups_.emplace_back(group);
  keys_.emplace_back(audit_hash, static_cast<uint32_t>(groups_.size() - 1));
}

void AuditIdRun::Seal() {
  std::sort(keys_.begin(), keys_.end());
  keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
}

void AuditIdRun::GroupsOf(uint32_t audit_hash, std::vector<std::string>* out) const {
  auto it = std::lower_bound(keys_.begin(), keys_.end(), std::make_pair(audit_hash, 0u));
  for (; it != keys_.end() && it->first == audit_hash; ++it) out->push_back(groups_[it->second]);
}

void AuditIdRun::AppendKeys(std::vector<std::pair<uint32_t, std::string_view>>* out) const {
  for (const auto& [hash, group] : keys_) out->emplace_back(hash, groups_[group]);
}

std::vector<std::pair<uint32_t, std::string_view>> SortedKeys(const AuditIdRuns& runs) {
  std::vector<std::pair<uint32_t, std::string_view>> keys;
  for (const auto& [id, run] : runs) run->AppendKeys(&keys);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::string AuditIdRun::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kRunVersion));
  PutVarint64(&out, groups_.size());
  for (const std::string& g : groups_) PutLengthPrefixed(&out, g);
  PutVarint64(&out, keys_.size());
  for (const auto& [hash, group] : keys_) {
    PutFixed32BE(&out, hash);
    PutVarint64(&out, group);
  }
  return out;
}

absl::StatusOr<AuditIdRun> AuditIdRun::Decode(std::string_view value, std::string_view context) {
  auto corrupt = [&](std::string_view what) {
    return absl::DataLossError(
        absl::StrCat(Sv(context), ": corrupt auditID index run (", Sv(what), ")"));
  };
  AuditIdRun run;
  if (value.empty() || static_cast<uint8_t>(value[0]) != kRunVersion) return corrupt("version");
  value.remove_prefix(1);
  uint64_t ngroups = 0;
  if (!GetVarint64(&value, &ngroups) || ngroups > value.size()) return corrupt("group count");
  run.groups_.reserve(ngroups);
  for (uint64_t i = 0; i < ngroups; ++i) {
    std::string_view g;
    if (!GetLengthPrefixed(&value, &g)) return corrupt("group");
    run.groups_.emplace_back(g);
  }
  uint64_t nkeys = 0;
  if (!GetVarint64(&value, &nkeys) || nkeys > value.size() / 5) return corrupt("key count");
  run.keys_.reserve(nkeys);
  for (uint64_t i = 0; i < nkeys; ++i) {
    uint32_t hash = 0;
    uint64_t group = 0;
    if (!GetFixed32BE(&value, &hash) || !GetVarint64(&value, &group) || group >= ngroups) {
      return corrupt("key");
    }
    if (!run.keys_.empty() &&
        std::make_pair(hash, static_cast<uint32_t>(group)) <= run.keys_.back()) {
      return corrupt("key order");
    }
    run.keys_.emplace_back(hash, static_cast<uint32_t>(group));
  }
  if (!value.empty()) return corrupt("trailing bytes");
  return run;
}

}  // namespace kq::storage
