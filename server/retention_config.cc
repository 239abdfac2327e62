#include "server/retention_config.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/policy.h"

namespace kq::server {
namespace {

std::string FlowAges(const retention::TierAges& a) {
  std::string out =
      absl::StrCat("{hot: ", FormatDuration(a.hot), ", warm: ", FormatDuration(a.warm));
  if (a.archive) {
    absl::StrAppend(&out, ", archive: ", FormatDuration(*a.archive), "}");
  } else {
    absl::StrAppend(&out, ", archive: none, delete: ", FormatDuration(a.delete_at), "}");
  }
  return out;
}

}  // namespace

absl::StatusOr<retention::RetentionConfig> ParseRetentionSection(const yaml::Node& section) {
  if (section.IsNull()) return retention::RetentionConfig::Defaults();
  return retention::RetentionConfig::FromYaml(section);
}

absl::StatusOr<retention::RetentionConfig> ReadRetentionFile(const std::string& path) {
  KQ_ASSIGN_OR_RETURN(yaml::Node root, yaml::ParseFile(path));
  return ParseRetentionSection(root);
}

std::string FormatRetentionYaml(const retention::RetentionConfig& config) {
  std::string out;
  for (const auto& env : config.environments) {
    if (env.namespaces.empty() && env.levels.empty()) {
      absl::StrAppend(&out, "\n  ", env.env, ": ", FlowAges(env.ages));
      continue;
    }
    // Overrides need a block map.
    const retention::TierAges& a = env.ages;
    absl::StrAppend(&out, "\n  ", env.env, ":\n    hot: ", FormatDuration(a.hot),
                    "\n    warm: ", FormatDuration(a.warm), "\n    archive: ",
                    a.archive ? FormatDuration(*a.archive) : std::string("none"));
    if (!a.archive) absl::StrAppend(&out, "\n    delete: ", FormatDuration(a.delete_at));
    if (!env.namespaces.empty()) {
      absl::StrAppend(&out, "\n    namespaces:");
      for (const auto& [ns, ages] : env.namespaces) {
        absl::StrAppend(&out, "\n      \"", ns, "\": ", FlowAges(ages));
      }
    }
    if (!env.levels.empty()) {
      absl::StrAppend(&out, "\n    levels:");
      for (const auto& [level, ages] : env.levels) {
        absl::StrAppend(&out, "\n      ", Sv(retention::LevelName(level)), ": ", FlowAges(ages));
      }
    }
  }
  return out.empty() ? std::string("{}") : out;
}

}  // namespace kq::server
