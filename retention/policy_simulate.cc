#include "retention/policy_simulate.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "common/strings.h"
#include "retention/policy_apply.h"
#include "storage/decoder.h"
#include "storage/event_json.h"

namespace kq::retention {

PolicySimulation::PolicySimulation(const Policy& policy)
    : policy_(policy),
      decoder_(std::make_unique<storage::Decoder>()),
      costs_(policy.rules().size() + 1) {
  for (size_t i = 0; i < policy.rules().size(); ++i) {
    costs_[i].rule = static_cast<int>(i);
    costs_[i].level = policy.rules()[i].level;
  }
}

PolicySimulation::~PolicySimulation() = default;

void PolicySimulation::AddEventJson(std::string_view json) {
  storage::Event event;
  if (!decoder_->DecodeEvent(json, &event).ok()) {
    ++undecodable_;
    return;
  }
  AddEvent(event, json.size());
}

void PolicySimulation::AddEvent(const storage::Event& event, uint64_t bytes_now) {
  storage::Event copy = event;
  PolicyOutcome outcome = ApplyPolicy(policy_, &copy);
  RuleCost& cost = outcome.decision.rule >= 0 ? costs_[outcome.decision.rule] : costs_.back();
  ++cost.events;
  cost.bytes_now += bytes_now;
  switch (outcome.action) {
    case PolicyAction::kDrop:
      break;
    case PolicyAction::kKeep:
      ++cost.events_after;
      cost.bytes_after += bytes_now;
      break;
    case PolicyAction::kReduce: {
      // What the reduction removes, measured with one writer on both sides, taken off the size
      // as stored (which may come from another writer).
      uint64_t before = storage::EventToJson(event).size();
      uint64_t after = storage::EventToJson(copy).size();
      uint64_t removed = before > after ? before - after : 0;
      ++cost.events_after;
      cost.bytes_after += bytes_now > removed ? bytes_now - removed : 0;
      break;
    }
  }
}

SimulationReport PolicySimulation::Report() const {
  SimulationReport report;
  report.rules.assign(costs_.begin(), costs_.end() - 1);
  report.unmatched = costs_.back();
  report.undecodable = undecodable_;
  for (const RuleCost& c : costs_) {
    report.total.events += c.events;
    report.total.events_after += c.events_after;
    report.total.bytes_now += c.bytes_now;
    report.total.bytes_after += c.bytes_after;
  }
  if (report.total.bytes_now > 0) {
    double total = static_cast<double>(report.total.bytes_now);
    for (RuleCost& c : report.rules) c.share = static_cast<double>(c.bytes_now) / total;
    report.unmatched.share = static_cast<double>(report.unmatched.bytes_now) / total;
    report.total.share = 1;
  }
  return report;
}

absl::StatusOr<SimulationReport> SimulatePolicy(const Policy& policy, storage::Reader* reader,
                                                const SimulateOptions& options) {
  PolicySimulation sim(policy);
  storage::ScanRange range;
  range.from = options.since;
  range.to = options.until;
  range.namespaces = options.namespaces;
  auto visit = [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
    const storage::IntColumn& time = batch.Ints(storage::Column::kTime);
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      // Batches may hold rows just outside the range (the scan does not filter rows).
      if (row < time.values.size() && time.present[row] &&
          (time.values[row] < options.since || time.values[row] >= options.until)) {
        continue;
      }
      KQ_ASSIGN_OR_RETURN(std::string json, batch.EventJson(row));
      sim.AddEventJson(json);
    }
    return true;
  };
  storage::ScanStats stats;
  KQ_RETURN_IF_ERROR(reader->Scan(range, visit, &stats));
  return sim.Report();
}

std::string SimulationJson(const SimulationReport& report) {
  std::string out = "[";
  auto add = [&](const RuleCost& c, bool first) {
    absl::StrAppend(&out, first ? "" : ",", R"({"rule":)",
                    c.rule >= 0 ? absl::StrCat(c.rule) : std::string("null"), R"(,"level":")",
                    Sv(LevelName(c.level)), R"(","events":)", c.events, R"(,"bytes_now":)",
                    c.bytes_now, R"(,"bytes_after":)", c.bytes_after, "}");
  };
  for (size_t i = 0; i < report.rules.size(); ++i) add(report.rules[i], i == 0);
  add(report.unmatched, report.rules.empty());
  return out + "]";
}

std::string FormatSimulation(const Policy& policy, const SimulationReport& report) {
  std::string out = absl::StrFormat("%-6s %-6s %-16s %12s %14s %14s %7s\n", "rule", "line", "level",
                                    "events", "bytes now", "bytes after", "share");
  auto line = [&](std::string rule, std::string file_line, const RuleCost& c) {
    absl::StrAppend(&out, absl::StrFormat("%-6s %-6s %-16s %12d %14d %14d %6.1f%%\n", rule,
                                          file_line, Sv(LevelName(c.level)), c.events, c.bytes_now,
                                          c.bytes_after, 100 * c.share));
  };
  for (const RuleCost& c : report.rules) {
    int file_line = policy.rules()[static_cast<size_t>(c.rule)].line;
    line(absl::StrCat(c.rule), file_line > 0 ? absl::StrCat(file_line) : "", c);
  }
  line("none", "", report.unmatched);
  RuleCost total = report.total;
  total.level = Level::kNone;
  absl::StrAppend(
      &out, absl::StrFormat("%-6s %-6s %-16s %12d %14d %14d %6.1f%%\n", "total", "", "",
                            total.events, total.bytes_now, total.bytes_after, 100 * total.share));
  if (report.undecodable > 0) {
    absl::StrAppend(&out, report.undecodable, " stored events could not be decoded (skipped)\n");
  }
  return out;
}

}  // namespace kq::retention
