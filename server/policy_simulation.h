// `kq policy simulate` on the store: the kq.v1 AdminService.SimulatePolicy call, answered the
// same way by kqd (on its query worker pool) and by `kq --data DIR` (in-process).
//
// The policy arrives as YAML text (the file is on the client). The events of the requested
// environment are read through the query engine (`events`, optionally since a lookback) and
// fed into a retention::PolicySimulation where the data is, so no event JSON crosses the wire
// and no row limit applies: the simulation consumes the rows as they are produced.
//
//   v1::SimulatePolicyResponse response;
//   KQ_RETURN_IF_ERROR(SimulatePolicy(readers, request, options, &response));
//   KQ_ASSIGN_OR_RETURN(retention::SimulationReport report, ReportFromProto(response));
//
// Stateless functions; thread-safe as far as `readers` is.
#ifndef KQ_SERVER_POLICY_SIMULATION_H_
#define KQ_SERVER_POLICY_SIMULATION_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kq/v1/admin.pb.h"
#include "query/engine.h"
#include "retention/policy_simulate.h"

namespace kq::server {

// Parses `request.policy_yaml` and simulates it over the events of `request.env` ("" = prod)
// read through `readers`. `options` supplies the clock (the lookback is counted back from its
// now), the deadline and the cancellation flag; its default_env and max_rows are ignored.
// InvalidArgument with the policy's own error (line and field) for a bad policy or a negative
// lookback; NotFound for an unknown environment; DeadlineExceeded / Cancelled from the scan.
[[nodiscard]] absl::Status SimulatePolicy(query::ReaderFactory& readers,
                                          const v1::SimulatePolicyRequest& request,
                                          const query::QueryOptions& options,
                                          v1::SimulatePolicyResponse* response);

void ReportToProto(const retention::SimulationReport& report, v1::SimulatePolicyResponse* out);
// DataLoss when the response names a level this build does not know.
[[nodiscard]] absl::StatusOr<retention::SimulationReport> ReportFromProto(
    const v1::SimulatePolicyResponse& response);

}  // namespace kq::server

#endif  // KQ_SERVER_POLICY_SIMULATION_H_
