#include "retention/policy_apply.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace kq::retention {
namespace {

// A bounds-checked walker over JSON text, enough to find members of objects and elements of
// arrays without building a tree. Every function returns nullopt on malformed input.
class JsonWalker {
 public:
  struct Member {
    std::string_view key;  // raw text between the quotes (escapes not resolved)
    size_t key_start;      // offset of the opening quote
    size_t value_start;
    size_t value_end;  // one past the value
  };

  explicit JsonWalker(std::string_view text) : s_(text) {}

  size_t SkipSpace(size_t p) const {
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t' || s_[p] == '\n' || s_[p] == '\r')) {
      ++p;
    }
    return p;
  }

  // One past the end of the value starting at p (after spaces).
  std::optional<size_t> SkipValue(size_t p, int depth = 0) const {
    if (depth > 512) return std::nullopt;
    p = SkipSpace(p);
    if (p >= s_.size()) return std::nullopt;
    char c = s_[p];
    if (c == '"') return SkipString(p);
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      p = SkipSpace(p + 1);
      if (p < s_.size() && s_[p] == close) return p + 1;
      while (true) {
        if (c == '{') {
          std::optional<size_t> k = SkipString(SkipSpace(p));
          if (!k) return std::nullopt;
          p = SkipSpace(*k);
          if (p >= s_.size() || s_[p] != ':') return std::nullopt;
          ++p;
        }
        std::optional<size_t> v = SkipValue(p, depth + 1);
        if (!v) return std::nullopt;
        p = SkipSpace(*v);
        if (p >= s_.size()) return std::nullopt;
        if (s_[p] == close) return p + 1;
        if (s_[p] != ',') return std::nullopt;
        ++p;
      }
    }
    size_t start = p;
    while (p < s_.size() && s_[p] != ',' && s_[p] != '}' && s_[p] != ']' && s_[p] != ' ' &&
           s_[p] != '\n' && s_[p] != '\r' && s_[p] != '\t') {
      ++p;
    }
    if (p == start) return std::nullopt;
    return p;
  }

  // The members of the object starting at p (after spaces).
  std::optional<std::vector<Member>> Members(size_t p) const {
    p = SkipSpace(p);
    if (p >= s_.size() || s_[p] != '{') return std::nullopt;
    std::vector<Member> out;
    p = SkipSpace(p + 1);
    if (p < s_.size() && s_[p] == '}') return out;
    while (true) {
      p = SkipSpace(p);
      std::optional<size_t> k = SkipString(p);
      if (!k) return std::nullopt;
      Member m;
      m.key = s_.substr(p + 1, *k - p - 2);
      m.key_start = p;
      p = SkipSpace(*k);
      if (p >= s_.size() || s_[p] != ':') return std::nullopt;
      m.value_start = SkipSpace(p + 1);
      std::optional<size_t> v = SkipValue(m.value_start);
      if (!v) return std::nullopt;
      m.value_end = *v;
      out.push_back(m);
      p = SkipSpace(*v);
      if (p >= s_.size()) return std::nullopt;
      if (s_[p] == '}') return out;
      if (s_[p] != ',') return std::nullopt;
      ++p;
    }
  }

  // Start offsets of the elements of the array starting at p.
  std::optional<std::vector<size_t>> Elements(size_t p) const {
    p = SkipSpace(p);
    if (p >= s_.size() || s_[p] != '[') return std::nullopt;
    std::vector<size_t> out;
    p = SkipSpace(p + 1);
    if (p < s_.size() && s_[p] == ']') return out;
    while (true) {
      p = SkipSpace(p);
      out.push_back(p);
      std::optional<size_t> v = SkipValue(p);
      if (!v) return std::nullopt;
      p = SkipSpace(*v);
      if (p >= s_.size()) return std::nullopt;
      if (s_[p] == ']') return out;
      if (s_[p] != ',') return std::nullopt;
      ++p;
    }
  }

  char At(size_t p) const { return p < s_.size() ? s_[p] : '\0'; }

 private:
  std::optional<size_t> SkipString(size_t p) const {
    if (p >= s_.size() || s_[p] != '"') return std::nullopt;
    for (++p; p < s_.size(); ++p) {
      if (s_[p] == '\\') {
        ++p;
      } else if (s_[p] == '"') {
        return p + 1;
      }
    }
    return std::nullopt;
  }

  std::string_view s_;
};

using Range = std::pair<size_t, size_t>;

// Adds the byte range that removes member `i` of `members` (with its separating comma).
void AddMemberRemoval(const std::vector<JsonWalker::Member>& members, size_t i,
                      std::vector<Range>* cut) {
  if (i > 0) {
    cut->push_back({members[i - 1].value_end, members[i].value_end});
  } else if (members.size() > 1) {
    cut->push_back({members[0].key_start, members[1].key_start});
  } else {
    cut->push_back({members[0].key_start, members[0].value_end});
  }
}

// metadata.managedFields of the object at `p`.
void CollectObject(const JsonWalker& w, size_t p, std::vector<Range>* cut) {
  std::optional<std::vector<JsonWalker::Member>> members = w.Members(p);
  if (!members) return;
  for (const JsonWalker::Member& m : *members) {
    if (m.key != "metadata" || w.At(m.value_start) != '{') continue;
    std::optional<std::vector<JsonWalker::Member>> meta = w.Members(m.value_start);
    if (!meta) return;
    for (size_t i = 0; i < meta->size(); ++i) {
      if ((*meta)[i].key == "managedFields") AddMemberRemoval(*meta, i, cut);
    }
  }
}

bool StripBody(std::optional<std::string>* body) {
  if (!body->has_value()) return false;
  std::string stripped;
  if (!StripManagedFields(**body, &stripped)) return false;
  **body = std::move(stripped);
  return true;
}

}  // namespace

bool StripManagedFields(std::string_view json, std::string* out) {
  JsonWalker w(json);
  std::optional<std::vector<JsonWalker::Member>> top = w.Members(0);
  if (!top) return false;
  std::vector<Range> cut;
  CollectObject(w, 0, &cut);
  for (const JsonWalker::Member& m : *top) {
    if (m.key != "items" || w.At(m.value_start) != '[') continue;
    std::optional<std::vector<size_t>> items = w.Elements(m.value_start);
    if (!items) return false;
    for (size_t item : *items) CollectObject(w, item, &cut);
  }
  if (cut.empty()) return false;
  std::sort(cut.begin(), cut.end());
  std::string result;
  result.reserve(json.size());
  size_t pos = 0;
  for (const Range& r : cut) {
    result.append(json.substr(pos, r.first - pos));
    pos = r.second;
  }
  result.append(json.substr(pos));
  *out = std::move(result);
  return true;
}

RequestAttributes AttributesFromEvent(const storage::Event& event) {
  RequestAttributes a;
  const storage::UserInfo& user = event.user;
  a.has_user = user.username.has_value() || user.groups.has_value();
  if (user.username) a.user = *user.username;
  if (user.groups) a.groups.assign(user.groups->begin(), user.groups->end());
  a.verb = event.verb;
  if (event.object_ref) {
    const storage::ObjectRef& ref = *event.object_ref;
    a.is_resource_request = true;
    if (ref.ns) a.ns = *ref.ns;
    if (ref.api_group) a.api_group = *ref.api_group;
    if (ref.resource) a.resource = *ref.resource;
    if (ref.subresource) a.subresource = *ref.subresource;
    if (ref.name) a.name = *ref.name;
  }
  if (event.request_uri) {
    std::string_view uri = *event.request_uri;
    a.path = uri.substr(0, uri.find('?'));
  }
  return a;
}

std::string_view PolicyActionName(PolicyAction action) {
  switch (action) {
    case PolicyAction::kDrop:
      return "drop";
    case PolicyAction::kKeep:
      return "keep";
    case PolicyAction::kReduce:
      return "reduce";
  }
  return "keep";
}

PolicyOutcome ApplyPolicy(const Policy& policy, storage::Event* event) {
  PolicyOutcome out;
  out.decision = policy.Evaluate(AttributesFromEvent(*event));
  const PolicyDecision& d = out.decision;
  std::optional<Stage> stage = StageFromName(event->stage);
  if (d.level == Level::kNone || (stage && d.omit_stages.Contains(*stage))) {
    out.action = PolicyAction::kDrop;
    return out;
  }
  bool changed = false;
  std::optional<Level> recorded = LevelFromName(event->level);
  if (recorded && *recorded > d.level) {
    event->level = std::string(LevelName(d.level));
    changed = true;
    if (d.level < Level::kRequestResponse) event->response_object.reset();
    if (d.level < Level::kRequest) event->request_object.reset();
  }
  if (d.omit_managed_fields) {
    changed = StripBody(&event->request_object) || changed;
    changed = StripBody(&event->response_object) || changed;
  }
  out.action = changed ? PolicyAction::kReduce : PolicyAction::kKeep;
  return out;
}

PolicyApplier::PolicyApplier(std::shared_ptr<const Policy> policy)
    : policy_(std::move(policy)), slots_(new Slot[policy_->rules().size() + 1]) {}

PolicyOutcome PolicyApplier::Apply(storage::Event* event) {
  PolicyOutcome out = ApplyPolicy(*policy_, event);
  size_t slot =
      out.decision.rule >= 0 ? static_cast<size_t>(out.decision.rule) : policy_->rules().size();
  switch (out.action) {
    case PolicyAction::kDrop:
      slots_[slot].dropped.fetch_add(1, std::memory_order_relaxed);
      break;
    case PolicyAction::kReduce:
      slots_[slot].reduced.fetch_add(1, std::memory_order_relaxed);
      break;
    case PolicyAction::kKeep:
      slots_[slot].kept.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  return out;
}

std::vector<PolicyRuleCounters> PolicyApplier::Counters() const {
  size_t n = policy_->rules().size();
  std::vector<PolicyRuleCounters> out(n + 1);
  for (size_t i = 0; i <= n; ++i) {
    PolicyRuleCounters& c = out[i];
    c.rule = i < n ? static_cast<int>(i) : -1;
    c.dropped = slots_[i].dropped.load(std::memory_order_relaxed);
    c.reduced = slots_[i].reduced.load(std::memory_order_relaxed);
    c.kept = slots_[i].kept.load(std::memory_order_relaxed);
    c.events = c.dropped + c.reduced + c.kept;
  }
  return out;
}

}  // namespace kq::retention
