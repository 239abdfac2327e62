#include "server/policy_simulation.h"

#include <limits>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/policy.h"

namespace kq::server {
namespace {

// Feeds the whole-event column of an `events` result into a simulation.
class SimulationSink : public query::RowSink {
 public:
  explicit SimulationSink(retention::PolicySimulation* simulation) : simulation_(simulation) {}

  absl::Status OnSchema(const std::vector<query::ColumnInfo>& columns) override {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].type == query::ValueType::kEvent) event_column_ = i;
    }
    if (event_column_ == kNone) {
      return absl::InternalError("the event query did not return whole events");
    }
    return absl::OkStatus();
  }

  absl::Status OnRows(std::span<const query::Row> rows) override {
    for (const query::Row& row : rows) {
      if (const auto* json = std::get_if<query::Json>(&row[event_column_])) {
        simulation_->AddEventJson(json->text);
      }
    }
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kNone = std::numeric_limits<size_t>::max();
  retention::PolicySimulation* simulation_;
  size_t event_column_ = kNone;
};

void CostToProto(const retention::RuleCost& c, v1::PolicyRuleCost* out) {
  out->set_rule(c.rule);
  out->set_level(std::string(retention::LevelName(c.level)));
  out->set_events(c.events);
  out->set_events_after(c.events_after);
  out->set_bytes_now(c.bytes_now);
  out->set_bytes_after(c.bytes_after);
  out->set_share(c.share);
}

absl::StatusOr<retention::RuleCost> CostFromProto(const v1::PolicyRuleCost& c) {
  std::optional<retention::Level> level = retention::LevelFromName(c.level());
  if (!level.has_value()) {
    return absl::DataLossError(
        absl::StrCat("kqd sent an unknown policy level \"", c.level(), "\" for rule ", c.rule()));
  }
  return retention::RuleCost{c.rule(),      *level,          c.events(), c.events_after(),
                             c.bytes_now(), c.bytes_after(), c.share()};
}

}  // namespace

absl::Status SimulatePolicy(query::ReaderFactory& readers, const v1::SimulatePolicyRequest& request,
                            const query::QueryOptions& options,
                            v1::SimulatePolicyResponse* response) {
  if (request.lookback_micros() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("lookback_micros must not be negative (got ", request.lookback_micros(), ")"));
  }
  const std::string name = request.policy_name().empty() ? "policy" : request.policy_name();
  KQ_ASSIGN_OR_RETURN(retention::Policy policy,
                      retention::Policy::Parse(request.policy_yaml(), name));
  query::QueryOptions run = options;
  run.default_env = request.env().empty() ? "prod" : request.env();
  run.max_rows = std::numeric_limits<uint64_t>::max();
  std::string text = "events";
  if (request.lookback_micros() > 0) {
    text = absl::StrCat("events | where time >= datetime(",
                        FormatTimestamp(run.clock->Now() - request.lookback_micros()), ")");
  }
  retention::PolicySimulation simulation(policy);
  SimulationSink sink(&simulation);
  KQ_RETURN_IF_ERROR(query::RunQuery(readers, text, run, sink, nullptr));
  ReportToProto(simulation.Report(), response);
  return absl::OkStatus();
}

void ReportToProto(const retention::SimulationReport& report, v1::SimulatePolicyResponse* out) {
  out->Clear();
  for (const retention::RuleCost& c : report.rules) CostToProto(c, out->add_rules());
  CostToProto(report.unmatched, out->mutable_unmatched());
  CostToProto(report.total, out->mutable_total());
  out->set_undecodable(report.undecodable);
}

absl::StatusOr<retention::SimulationReport> ReportFromProto(
    const v1::SimulatePolicyResponse& response) {
  retention::SimulationReport report;
  for (const v1::PolicyRuleCost& c : response.rules()) {
    KQ_ASSIGN_OR_RETURN(retention::RuleCost cost, CostFromProto(c));
    report.rules.push_back(cost);
  }
  KQ_ASSIGN_OR_RETURN(report.unmatched, CostFromProto(response.unmatched()));
  KQ_ASSIGN_OR_RETURN(report.total, CostFromProto(response.total()));
  report.undecodable = response.undecodable();
  return report;
}

}  // namespace kq::server
