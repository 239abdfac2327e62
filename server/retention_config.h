// The `retention:` section of kqd's config file: read from a YAML node or a file, and printed
// back (for `kqd --print-config`) as YAML that RetentionConfig::FromYaml reads again.
// Pure functions; thread-safe.
#ifndef KQ_SERVER_RETENTION_CONFIG_H_
#define KQ_SERVER_RETENTION_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "retention/tiers.h"
#include "retention/yaml.h"

namespace kq::server {

// The section's value (a map of environment name to tiers); a null node keeps the defaults.
[[nodiscard]] absl::StatusOr<retention::RetentionConfig> ParseRetentionSection(
    const yaml::Node& section);
// A YAML file holding the section's value (for the --retention FILE flag).
[[nodiscard]] absl::StatusOr<retention::RetentionConfig> ReadRetentionFile(const std::string& path);
// The section's value as block YAML, indented by two spaces under a `retention:` key.
std::string FormatRetentionYaml(const retention::RetentionConfig& config);

}  // namespace kq::server

#endif  // KQ_SERVER_RETENTION_CONFIG_H_
