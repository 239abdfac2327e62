// Retention tiers: how long each environment keeps its audit events, and in what form.
//
// Ages count from an event's requestReceivedTimestamp. For one environment (and optionally one
// namespace):
//
//   age < hot                      hot: full events, bodies included
//   hot <= age < warm              warm: bodies dropped, metadata kept and queryable
//   with an archive:
//     warm <= age < archive        archived: moved out of the store into files
//     archive <= age               deleted (the archive files too)
//   without an archive:
//     warm <= age < delete         still warm (a grace period; delete defaults to warm)
//     delete <= age                deleted
//
// Defaults (issue 7): prod hot 7d, warm 90d, archive until 400d; dev hot 1d, warm 7d, deleted at
// 14d, no archive. Overrides per namespace (kube-system, vault kept longer) replace some of the
// ages; overrides per level are accepted only if they lengthen retention (enforcement works on
// whole (day, namespace) ranges, so a namespace is kept as long as its longest-lived level).
//
// YAML (the `retention:` section of the kqd config, or a file for `kq retention report
// --policy`):
//
//   prod:
//     hot: 7d
//     warm: 90d
//     archive: 400d
//     namespaces:
//       kube-system: {warm: 180d}
//       vault: {hot: 30d, archive: 730d}
//     levels:
//       RequestResponse: {hot: 14d}
//   dev: {hot: 1d, warm: 7d, delete: 14d, archive: none}
//
// Plain value types; thread-compatible.
#ifndef KQ_RETENTION_TIERS_H_
#define KQ_RETENTION_TIERS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "retention/policy.h"
#include "retention/yaml.h"

namespace kq::retention {

// The ages (micros) of one tier set. Valid when 0 <= hot <= warm, warm > 0, and archive (if
// any) >= warm, delete_at >= warm.
struct TierAges {
  TimeMicros hot = 0;
  TimeMicros warm = 0;
  std::optional<TimeMicros> archive;  // nullopt: no archive
  TimeMicros delete_at = 0;           // with an archive: equal to *archive

  // Age at which events leave the store (archived or deleted).
  TimeMicros LeaveStoreAt() const { return archive ? warm : delete_at; }
  bool operator==(const TierAges&) const = default;
  // "hot 7d, warm 90d, archive until 400d" / "hot 1d, warm 7d, deleted at 14d".
  std::string ToString() const;
};

struct EnvironmentRetention {
  std::string env;
  TierAges ages;                                             // the environment's own
  std::vector<std::pair<std::string, TierAges>> namespaces;  // overrides, resolved
  std::vector<std::pair<Level, TierAges>> levels;            // overrides, resolved

  // The ages that apply to namespace `ns` (its override, else the environment's), lengthened by
  // the level overrides (each age is the maximum over them).
  TierAges ForNamespace(std::string_view ns) const;
  // The distinct ages in force: those of namespaces without an override, then each override's.
  std::vector<TierAges> AllAges() const;

 private:
  // `a` lengthened by the level overrides (each age the maximum).
  TierAges Lengthened(TierAges a) const;
};

struct RetentionConfig {
  std::vector<EnvironmentRetention> environments;

  // nullptr when `env` has no retention configured (then nothing is ever removed).
  const EnvironmentRetention* Find(std::string_view env) const;

  // prod and dev with the defaults above.
  static RetentionConfig Defaults();
  // Parses the section (a map of environment name to settings) over Defaults(): prod and dev
  // keep their defaults unless listed, and start from them when listed; any other environment
  // needs hot and warm. A policy that makes no sense is
  // refused with the line: "kqd.yaml:12:11: retention.prod.warm: warm (5d) is shorter than hot
  // (7d)".
  [[nodiscard]] static absl::StatusOr<RetentionConfig> FromYaml(const yaml::Node& section);
};

}  // namespace kq::retention

#endif  // KQ_RETENTION_TIERS_H_
