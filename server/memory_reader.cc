#include "server/memory_reader.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "common/status.h"
#include "server/ingest_pipeline.h"
#include "storage/event_json.h"

namespace kq::server {
namespace {

using storage::Column;
using storage::Event;

constexpr TimeMicros kBucket = kMicrosPerHour;

// The value of a string column for one event, or nullopt (null).
std::optional<std::string_view> StringField(const Event& e, Column c) {
  auto opt = [](const std::optional<std::string>& s) -> std::optional<std::string_view> {
    if (!s) return std::nullopt;
    return std::string_view(*s);
  };
  auto ref =
      [&](std::optional<std::string> storage::ObjectRef::*f) -> std::optional<std::string_view> {
    if (!e.object_ref) return std::nullopt;
    return opt((*e.object_ref).*f);
  };
  switch (c) {
    case Column::kAuditId:
      return e.audit_id;
    case Column::kLevel:
      return e.level;
    case Column::kStage:
      return e.stage;
    case Column::kVerb:
      return e.verb;
    case Column::kRequestUri:
      return opt(e.request_uri);
    case Column::kUser:
      return opt(e.user.username);
    case Column::kUserAgent:
      return opt(e.user_agent);
    case Column::kNamespace:
      return ref(&storage::ObjectRef::ns);
    case Column::kResource:
      return ref(&storage::ObjectRef::resource);
    case Column::kSubresource:
      return ref(&storage::ObjectRef::subresource);
    case Column::kName:
      return ref(&storage::ObjectRef::name);
    case Column::kApiGroup:
      return ref(&storage::ObjectRef::api_group);
    case Column::kApiVersion:
      return ref(&storage::ObjectRef::api_version);
    case Column::kImpersonatedUser:
      if (!e.impersonated_user) return std::nullopt;
      return opt(e.impersonated_user->username);
    case Column::kDecision: {
      const std::string* d = e.Annotation("authorization.k8s.io/decision");
      if (d == nullptr) return std::nullopt;
      return std::string_view(*d);
    }
    case Column::kCluster:  // "" is no attribution: null, as the store gives it
      if (e.cluster.empty()) return std::nullopt;
      return e.cluster;
    case Column::kEnv:
      return e.env;
    default:
      return std::nullopt;
  }
}

class MemoryBatch : public storage::EventBatch {
 public:
  explicit MemoryBatch(std::vector<const Event*> rows) : rows_(std::move(rows)) {}

  size_t num_rows() const override { return rows_.size(); }
  TimeMicros bucket() const override {
    TimeMicros t = rows_.empty() ? 0 : rows_.front()->request_received_time;
    return t - (((t % kBucket) + kBucket) % kBucket);
  }
  std::string_view ns() const override { return rows_.empty() ? "" : rows_.front()->Namespace(); }

  const storage::IntColumn& Ints(Column c) const override {
    auto [it, inserted] = ints_.try_emplace(c);
    if (!inserted) return it->second;
    for (const Event* e : rows_) {
      std::optional<int64_t> v;
      if (c == Column::kTime) v = e->request_received_time;
      if (c == Column::kStageTime) v = e->stage_time;
      if (c == Column::kCode) v = e->code;
      it->second.values.push_back(v.value_or(0));
      it->second.present.push_back(v.has_value());
    }
    return it->second;
  }

  const storage::StringColumn& Strings(Column c) const override {
    auto [it, inserted] = strings_.try_emplace(c);
    if (!inserted) return it->second;
    std::unordered_map<std::string_view, uint32_t> codes;
    for (const Event* e : rows_) {
      std::optional<std::string_view> v = StringField(*e, c);
      if (!v) {
        it->second.codes.push_back(storage::kNullCode);
        continue;
      }
      auto [code, fresh] = codes.try_emplace(*v, static_cast<uint32_t>(codes.size()));
      if (fresh) it->second.dict.emplace_back(*v);
      it->second.codes.push_back(code->second);
    }
    return it->second;
  }

  const storage::ListColumn& Lists(Column c) const override {
    auto [it, inserted] = lists_.try_emplace(c);
    if (!inserted) return it->second;
    std::unordered_map<std::string, uint32_t> codes;
    it->second.offsets.push_back(0);
    for (const Event* e : rows_) {
      const std::optional<std::vector<std::string>>& list =
          c == Column::kGroups ? e->user.groups : e->source_ips;
      if (list) {
        for (const auto& s : *list) {
          auto [code, fresh] = codes.try_emplace(s, static_cast<uint32_t>(codes.size()));
          if (fresh) it->second.dict.push_back(s);
          it->second.codes.push_back(code->second);
        }
      }
      it->second.offsets.push_back(static_cast<uint32_t>(it->second.codes.size()));
    }
    return it->second;
  }

  absl::StatusOr<std::string> EventJson(size_t row) const override {
    return storage::EventToJson(*rows_[row]);
  }
  absl::StatusOr<std::string> RequestObject(size_t row) const override {
    return rows_[row]->request_object.value_or("");
  }
  absl::StatusOr<std::string> ResponseObject(size_t row) const override {
    return rows_[row]->response_object.value_or("");
  }

 private:
  std::vector<const Event*> rows_;
  mutable std::map<Column, storage::IntColumn> ints_;
  mutable std::map<Column, storage::StringColumn> strings_;
  mutable std::map<Column, storage::ListColumn> lists_;
};

}  // namespace

MemoryReader::MemoryReader(std::vector<const Event*> events) : events_(std::move(events)) {
  std::stable_sort(events_.begin(), events_.end(), [](const Event* a, const Event* b) {
    return a->request_received_time < b->request_received_time;
  });
}

absl::Status MemoryReader::Emit(std::vector<const Event*> rows, const storage::BatchCallback& fn,
                                storage::ScanStats* stats) {
  std::map<std::string_view, std::vector<const Event*>> by_ns;
  for (const Event* e : rows) by_ns[e->Namespace()].push_back(e);
  for (auto& [ns, list] : by_ns) {
    if (stats != nullptr) {
      stats->segments_total++;
      stats->segments_read++;
      stats->rows_read += list.size();
    }
    MemoryBatch batch(std::move(list));
    KQ_ASSIGN_OR_RETURN(bool more, fn(batch));
    if (!more) break;
  }
  return absl::OkStatus();
}

absl::Status MemoryReader::Scan(const storage::ScanRange& range, const storage::BatchCallback& fn,
                                storage::ScanStats* stats) {
  std::set<std::string_view> namespaces(range.namespaces.begin(), range.namespaces.end());
  std::vector<const Event*> rows;
  for (const Event* e : events_) {
    if (e->request_received_time < range.from || e->request_received_time >= range.to) continue;
    if (!namespaces.empty() && namespaces.count(e->Namespace()) == 0) continue;
    rows.push_back(e);
  }
  return Emit(std::move(rows), fn, stats);
}

absl::Status MemoryReader::LookupAuditId(std::string_view audit_id,
                                         const storage::BatchCallback& fn,
                                         storage::ScanStats* stats) {
  std::vector<const Event*> rows;
  for (const Event* e : events_) {
    if (e->audit_id == audit_id) rows.push_back(e);
  }
  return Emit(std::move(rows), fn, stats);
}

absl::Status MemoryReader::LookupName(std::string_view name, const storage::ScanRange& range,
                                      const storage::BatchCallback& fn, storage::ScanStats* stats) {
  std::vector<const Event*> rows;
  for (const Event* e : events_) {
    if (e->Name() != name) continue;
    if (e->request_received_time < range.from || e->request_received_time >= range.to) continue;
    rows.push_back(e);
  }
  return Emit(std::move(rows), fn, stats);
}

absl::StatusOr<std::vector<std::string>> MemoryReader::DistinctValues(Column c, size_t limit) {
  std::set<std::string> seen;
  for (const Event* e : events_) {
    if (seen.size() >= limit) break;
    if (storage::IsListColumn(c)) {
      const auto& list = c == Column::kGroups ? e->user.groups : e->source_ips;
      if (list) seen.insert(list->begin(), list->end());
      continue;
    }
    if (auto v = StringField(*e, c); v) seen.emplace(*v);
  }
  std::vector<std::string> out(seen.begin(), seen.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

absl::StatusOr<std::unique_ptr<storage::Reader>> MemoryReaderFactory::Open(std::string_view env) {
  KQ_ASSIGN_OR_RETURN(storage::Environment * e, FindEnvironment(store_, env));
  std::vector<const Event*> rows;
  for (const Event& ev : events_) {
    if (ev.env == e->name()) rows.push_back(&ev);
  }
  return std::unique_ptr<storage::Reader>(std::make_unique<MemoryReader>(std::move(rows)));
}

}  // namespace kq::server
