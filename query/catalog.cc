#include "query/catalog.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "query/value.h"

namespace kq::query {
namespace {

using storage::Column;

struct ColumnField {
  std::vector<std::string_view> path;
  Column column;
  ValueType type;
  const char* table_column;
  bool is_list;
};

const std::vector<ColumnField>& ColumnFields() {
  static const auto* fields = new std::vector<ColumnField>{
      {{"requestReceivedTimestamp"}, Column::kTime, ValueType::kDatetime, "time", false},
      {{"stageTimestamp"}, Column::kStageTime, ValueType::kDatetime, "", false},
      {{"responseStatus", "code"}, Column::kCode, ValueType::kInt, "code", false},
      {{"auditID"}, Column::kAuditId, ValueType::kString, "", false},
      {{"level"}, Column::kLevel, ValueType::kString, "", false},
      {{"stage"}, Column::kStage, ValueType::kString, "", false},
      {{"verb"}, Column::kVerb, ValueType::kString, "verb", false},
      {{"requestURI"}, Column::kRequestUri, ValueType::kString, "", false},
      {{"user", "username"}, Column::kUser, ValueType::kString, "user", false},
      {{"userAgent"}, Column::kUserAgent, ValueType::kString, "", false},
      {{"objectRef", "namespace"}, Column::kNamespace, ValueType::kString, "ns", false},
      {{"objectRef", "resource"}, Column::kResource, ValueType::kString, "resource", false},
      {{"objectRef", "subresource"}, Column::kSubresource, ValueType::kString, "", false},
      {{"objectRef", "name"}, Column::kName, ValueType::kString, "name", false},
      {{"objectRef", "apiGroup"}, Column::kApiGroup, ValueType::kString, "", false},
      {{"objectRef", "apiVersion"}, Column::kApiVersion, ValueType::kString, "", false},
      {{"impersonatedUser", "username"}, Column::kImpersonatedUser, ValueType::kString, "", false},
      {{"annotations", "authorization.k8s.io/decision"},
       Column::kDecision,
       ValueType::kString,
       "",
       false},
      {{"user", "groups"}, Column::kGroups, ValueType::kDynamic, "", true},
      {{"sourceIPs"}, Column::kSourceIps, ValueType::kDynamic, "", true},
  };
  return *fields;
}

struct Alias {
  std::string_view name;
  std::vector<std::string_view> path;
};

const std::vector<Alias>& Aliases() {
  static const auto* aliases = new std::vector<Alias>{
      {"time", {"requestReceivedTimestamp"}},
      {"user", {"user", "username"}},
      {"ns", {"objectRef", "namespace"}},
      {"namespace", {"objectRef", "namespace"}},
      {"resource", {"objectRef", "resource"}},
      {"subresource", {"objectRef", "subresource"}},
      {"name", {"objectRef", "name"}},
      {"code", {"responseStatus", "code"}},
      {"decision", {"annotations", "authorization.k8s.io/decision"}},
  };
  return *aliases;
}

const std::vector<std::string>& Roots() {
  static const auto* roots = new std::vector<std::string>{"kind",
                                                          "apiVersion",
                                                          "level",
                                                          "auditID",
                                                          "stage",
                                                          "requestURI",
                                                          "verb",
                                                          "user",
                                                          "impersonatedUser",
                                                          "authenticationMetadata",
                                                          "sourceIPs",
                                                          "userAgent",
                                                          "objectRef",
                                                          "responseStatus",
                                                          "requestObject",
                                                          "responseObject",
                                                          "requestReceivedTimestamp",
                                                          "stageTimestamp",
                                                          "annotations",
                                                          "timestamp",
                                                          "metadata",
                                                          "time",
                                                          "ns",
                                                          "namespace",
                                                          "resource",
                                                          "subresource",
                                                          "name",
                                                          "code",
                                                          "decision",
                                                          "env",
                                                          "cluster"};
  return *roots;
}

const std::vector<std::string>& UserKeys() {
  static const auto* keys = new std::vector<std::string>{"username", "uid", "groups", "extra"};
  return *keys;
}

const std::vector<std::string>& ObjectRefKeys() {
  static const auto* keys =
      new std::vector<std::string>{"resource",   "namespace",       "name",       "uid", "apiGroup",
                                   "apiVersion", "resourceVersion", "subresource"};
  return *keys;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Unknown(std::string_view what, std::string_view name,
                    const std::vector<std::string>& candidates) {
  std::string out = absl::StrCat("unknown ", Sv(what), " '", Sv(name), "'");
  std::string hint = DidYouMean(name, candidates);
  if (!hint.empty()) absl::StrAppend(&out, "; did you mean '", hint, "'?");
  return out;
}

bool KeyIs(const PathElem& e, std::string_view key) {
  return e.kind == PathElem::Kind::kKey && e.key == key;
}

}  // namespace

std::vector<storage::PathStep> ToPathSteps(const std::vector<PathElem>& path, size_t from) {
  std::vector<storage::PathStep> out;
  for (size_t i = from; i < path.size(); ++i) {
    storage::PathStep s;
    switch (path[i].kind) {
      case PathElem::Kind::kKey:
        s.kind = storage::PathStep::Kind::kKey;
        s.key = path[i].key;
        break;
      case PathElem::Kind::kIndex:
        s.kind = storage::PathStep::Kind::kIndex;
        s.index = path[i].index;
        break;
      case PathElem::Kind::kEach:
        s.kind = storage::PathStep::Kind::kEach;
        break;
    }
    out.push_back(std::move(s));
  }
  return out;
}

const std::vector<DefaultColumn>& DefaultEventColumns() {
  static const auto* columns = new std::vector<DefaultColumn>{
      {"time", Column::kTime, ValueType::kDatetime},
      {"env", Column::kEnv, ValueType::kString},
      {"cluster", Column::kCluster, ValueType::kString},
      {"verb", Column::kVerb, ValueType::kString},
      {"user", Column::kUser, ValueType::kString},
      {"ns", Column::kNamespace, ValueType::kString},
      {"resource", Column::kResource, ValueType::kString},
      {"name", Column::kName, ValueType::kString},
      {"code", Column::kCode, ValueType::kInt},
  };
  return *columns;
}

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  for (const std::string& c : candidates) {
    size_t d = EditDistance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

absl::StatusOr<ResolvedField> ResolveField(const std::vector<PathElem>& written) {
  if (written.empty() || written[0].kind != PathElem::Kind::kKey) {
    return absl::InvalidArgumentError("a field path must start with a name");
  }
  const std::string& root = written[0].key;
  ResolvedField out;
  if (written.size() == 1 && (root == "env" || root == "cluster")) {
    out.column = root == "env" ? Column::kEnv : Column::kCluster;
    out.table_column = root;
    out.type = ValueType::kString;
    return out;
  }
  if (std::find(Roots().begin(), Roots().end(), root) == Roots().end()) {
    return absl::InvalidArgumentError(Unknown("field", root, Roots()));
  }
  // Expand an alias (only a bare alias: `user` is user.username, `user.groups` is the object).
  std::vector<PathElem> path = written;
  for (const Alias& a : Aliases()) {
    if (written.size() == 1 && root == a.name) {
      path.clear();
      for (std::string_view k : a.path)
        path.push_back(PathElem{PathElem::Kind::kKey, std::string(k), 0});
    }
  }
  if (path.size() == 1 && (root == "env" || root == "cluster")) {
    return absl::InvalidArgumentError(absl::StrCat("'", root, "' has no sub-fields"));
  }
  if (path.size() >= 2 && (KeyIs(path[0], "user") || KeyIs(path[0], "impersonatedUser"))) {
    if (path[1].kind != PathElem::Kind::kKey ||
        std::find(UserKeys().begin(), UserKeys().end(), path[1].key) == UserKeys().end()) {
      return absl::InvalidArgumentError(
          Unknown(absl::StrCat("field of ", path[0].key), path[1].key, UserKeys()));
    }
  }
  if (path.size() >= 2 && KeyIs(path[0], "objectRef")) {
    if (path[1].kind != PathElem::Kind::kKey ||
        std::find(ObjectRefKeys().begin(), ObjectRefKeys().end(), path[1].key) ==
            ObjectRefKeys().end()) {
      return absl::InvalidArgumentError(
          Unknown("field of objectRef", path[1].key, ObjectRefKeys()));
    }
  }
  out.json_path = ToPathSteps(path, 0);
  for (const ColumnField& f : ColumnFields()) {
    if (path.size() < f.path.size()) continue;
    bool match = true;
    for (size_t i = 0; i < f.path.size() && match; ++i) match = KeyIs(path[i], f.path[i]);
    if (!match) continue;
    if (!f.is_list && path.size() != f.path.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field '", Sv(f.path.back()), "' is a ", Sv(TypeName(f.type)), " and has no sub-fields"));
    }
    if (f.is_list && path.size() > f.path.size() + 1) break;
    if (f.is_list && path.size() == f.path.size() + 1) {
      if (path.back().kind == PathElem::Kind::kKey) break;
      out.list_step = path.back();
    }
    out.column = f.column;
    out.is_list = f.is_list;
    out.table_column = f.table_column;
    out.type = f.type;
    break;
  }
  if (KeyIs(path[0], "requestObject")) out.body = 1;
  if (KeyIs(path[0], "responseObject")) out.body = 2;
  return out;
}

}  // namespace kq::query
