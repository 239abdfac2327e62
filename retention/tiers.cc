#include "retention/tiers.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"

namespace kq::retention {
namespace {

TierAges ProdDefaults() {
  TierAges a;
  a.hot = 7 * kMicrosPerDay;
  a.warm = 90 * kMicrosPerDay;
  a.archive = 400 * kMicrosPerDay;
  a.delete_at = 400 * kMicrosPerDay;
  return a;
}

TierAges DevDefaults() {
  TierAges a;
  a.hot = 1 * kMicrosPerDay;
  a.warm = 7 * kMicrosPerDay;
  a.delete_at = 14 * kMicrosPerDay;
  return a;
}

[[nodiscard]] absl::StatusOr<TimeMicros> ParseAge(const yaml::Node& node) {
  if (node.IsScalar() && !node.scalar().empty() && node.scalar()[0] == '-') {
    return node.Error(absl::StrCat("an age cannot be negative, got \"", node.scalar(), "\""));
  }
  return node.Duration();
}

// Applies the age fields of `node` (hot, warm, archive, delete) over *ages. `node` has been
// checked to be a map.
[[nodiscard]] absl::Status ApplyAges(const yaml::Node& node, TierAges* ages) {
  const yaml::Node* hot = node.Find("hot");
  const yaml::Node* warm = node.Find("warm");
  const yaml::Node* archive = node.Find("archive");
  const yaml::Node* del = node.Find("delete");
  if (hot != nullptr) {
    KQ_ASSIGN_OR_RETURN(ages->hot, ParseAge(*hot));
  }
  if (warm != nullptr) {
    KQ_ASSIGN_OR_RETURN(ages->warm, ParseAge(*warm));
  }
  if (archive != nullptr) {
    std::string_view text = archive->IsScalar() ? std::string_view(archive->scalar()) : "";
    if (archive->IsNull() || text == "none" || text == "false") {
      ages->archive.reset();
      if (del == nullptr) ages->delete_at = std::max(ages->delete_at, ages->warm);
    } else {
      KQ_ASSIGN_OR_RETURN(TimeMicros a, ParseAge(*archive));
      ages->archive = a;
    }
  }
  if (del != nullptr) {
    if (ages->archive) {
      return del->Error(
          "with an archive, events are deleted when the archive expires: set \"archive\" (or "
          "\"archive: none\" to delete without archiving)");
    }
    KQ_ASSIGN_OR_RETURN(ages->delete_at, ParseAge(*del));
  } else if (!ages->archive) {
    ages->delete_at = std::max(ages->delete_at, ages->warm);
  }
  if (ages->archive) ages->delete_at = *ages->archive;
  // Validation, each error pointing at the field that breaks the order.
  auto at = [&](const yaml::Node* field) { return field != nullptr ? field : &node; };
  if (ages->warm <= 0) return at(warm)->Error("warm must be longer than 0s");
  if (ages->warm < ages->hot) {
    return at(warm)->Error(absl::StrCat("warm (", FormatDuration(ages->warm),
                                        ") is shorter than hot (", FormatDuration(ages->hot), ")"));
  }
  if (ages->archive && *ages->archive < ages->warm) {
    return at(archive)->Error(absl::StrCat("archive (", FormatDuration(*ages->archive),
                                           ") is shorter than warm (", FormatDuration(ages->warm),
                                           ")"));
  }
  if (!ages->archive && ages->delete_at < ages->warm) {
    return at(del)->Error(absl::StrCat("delete (", FormatDuration(ages->delete_at),
                                       ") is shorter than warm (", FormatDuration(ages->warm),
                                       ")"));
  }
  return absl::OkStatus();
}

// True when every age of `a` is at least the one of `base` (a keeps everything longer).
bool Lengthens(const TierAges& a, const TierAges& base) {
  if (a.hot < base.hot || a.warm < base.warm) return false;
  if (base.archive && !a.archive) return false;
  if (base.archive && a.archive && *a.archive < *base.archive) return false;
  return a.delete_at >= base.delete_at;
}

[[nodiscard]] absl::StatusOr<EnvironmentRetention> ParseEnvironment(const std::string& env,
                                                                    const yaml::Node& node) {
  KQ_RETURN_IF_ERROR(node.ExpectMap({"hot", "warm", "archive", "delete", "namespaces", "levels"}));
  EnvironmentRetention out;
  out.env = env;
  if (env == "prod") {
    out.ages = ProdDefaults();
  } else if (env == "dev") {
    out.ages = DevDefaults();
  } else if (node.Find("hot") == nullptr || node.Find("warm") == nullptr) {
    return node.Error(absl::StrCat("environment \"", env,
                                   "\" has no defaults: \"hot\" and \"warm\" are required"));
  } else {
    out.ages.delete_at = 0;
  }
  KQ_RETURN_IF_ERROR(ApplyAges(node, &out.ages));
  if (const yaml::Node* ns = node.Find("namespaces"); ns != nullptr && !ns->IsNull()) {
    if (!ns->IsMap()) return ns->Error("expected a map of namespace name to ages");
    for (const yaml::Node::Entry& e : ns->entries()) {
      KQ_RETURN_IF_ERROR(e.value.ExpectMap({"hot", "warm", "archive", "delete"}));
      TierAges ages = out.ages;
      KQ_RETURN_IF_ERROR(ApplyAges(e.value, &ages));
      out.namespaces.emplace_back(e.key.scalar(), ages);
    }
  }
  if (const yaml::Node* lv = node.Find("levels"); lv != nullptr && !lv->IsNull()) {
    if (!lv->IsMap()) return lv->Error("expected a map of level to ages");
    for (const yaml::Node::Entry& e : lv->entries()) {
      std::optional<Level> level = LevelFromName(e.key.scalar());
      if (!level || *level == Level::kNone) {
        return e.key.Error(absl::StrCat("unknown level \"", e.key.scalar(),
                                        "\" (expected Metadata, Request or RequestResponse)"));
      }
      KQ_RETURN_IF_ERROR(e.value.ExpectMap({"hot", "warm", "archive", "delete"}));
      TierAges ages = out.ages;
      KQ_RETURN_IF_ERROR(ApplyAges(e.value, &ages));
      if (!Lengthens(ages, out.ages)) {
        return e.value.Error(
            "a level override can only lengthen retention: events are removed by whole day and "
            "namespace, never per level");
      }
      out.levels.emplace_back(*level, ages);
    }
  }
  return out;
}

}  // namespace

std::string TierAges::ToString() const {
  std::string out = absl::StrCat("hot ", FormatDuration(hot), ", warm ", FormatDuration(warm));
  if (archive) {
    absl::StrAppend(&out, ", archive until ", FormatDuration(*archive));
  } else {
    absl::StrAppend(&out, ", deleted at ", FormatDuration(delete_at));
  }
  return out;
}

TierAges EnvironmentRetention::ForNamespace(std::string_view ns) const {
  TierAges out = ages;
  for (const auto& [name, a] : namespaces) {
    if (name == ns) out = a;
  }
  return Lengthened(out);
}

std::vector<TierAges> EnvironmentRetention::AllAges() const {
  std::vector<TierAges> out = {Lengthened(ages)};
  for (const auto& [name, a] : namespaces) out.push_back(Lengthened(a));
  return out;
}

TierAges EnvironmentRetention::Lengthened(TierAges out) const {
  for (const auto& [level, a] : levels) {
    out.hot = std::max(out.hot, a.hot);
    out.warm = std::max(out.warm, a.warm);
    if (a.archive) out.archive = std::max(out.archive.value_or(0), *a.archive);
    out.delete_at = std::max(out.delete_at, a.delete_at);
  }
  if (out.archive) out.delete_at = *out.archive;
  return out;
}

const EnvironmentRetention* RetentionConfig::Find(std::string_view env) const {
  for (const EnvironmentRetention& e : environments) {
    if (e.env == env) return &e;
  }
  return nullptr;
}

RetentionConfig RetentionConfig::Defaults() {
  RetentionConfig c;
  c.environments.push_back({"prod", ProdDefaults(), {}, {}});
  c.environments.push_back({"dev", DevDefaults(), {}, {}});
  return c;
}

absl::StatusOr<RetentionConfig> RetentionConfig::FromYaml(const yaml::Node& section) {
  if (!section.IsMap()) return section.Error("expected a map of environment name to tiers");
  RetentionConfig c = Defaults();
  for (const yaml::Node::Entry& e : section.entries()) {
    KQ_ASSIGN_OR_RETURN(EnvironmentRetention env, ParseEnvironment(e.key.scalar(), e.value));
    auto same = [&](const EnvironmentRetention& x) { return x.env == env.env; };
    auto it = std::find_if(c.environments.begin(), c.environments.end(), same);
    if (it != c.environments.end()) {
      *it = std::move(env);
    } else {
      c.environments.push_back(std::move(env));
    }
  }
  return c;
}

}  // namespace kq::retention
