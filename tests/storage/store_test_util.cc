#include "tests/storage/store_test_util.h"

#include <gtest/gtest.h>

#include "common/time.h"

namespace kq::testing {

storage::Event SimpleEvent(std::string audit_id, TimeMicros time, std::string ns, std::string user,
                           std::string verb, std::string name) {
  storage::Event e;
  e.kind = "Event";
  e.api_version = "audit.k8s.io/v1";
  e.level = "Metadata";
  e.audit_id = std::move(audit_id);
  e.stage = "ResponseComplete";
  e.request_uri = "/api/v1/namespaces/" + ns + "/pods/" + name;
  e.verb = std::move(verb);
  e.user.username = std::move(user);
  e.user.groups = std::vector<std::string>{"system:authenticated"};
  e.source_ips = std::vector<std::string>{"10.0.0.1"};
  e.user_agent = "kubectl/v1.29.0";
  storage::ObjectRef ref;
  ref.resource = "pods";
  ref.ns = ns;
  ref.name = std::move(name);
  ref.api_version = "v1";
  e.object_ref = ref;
  e.code = 200;
  e.response_status = R"({"metadata":{},"code":200})";
  e.request_received_time = time;
  e.request_received_timestamp = FormatTimestamp(time);
  e.stage_time = time + 1500;
  e.stage_timestamp = FormatTimestamp(e.stage_time);
  e.annotations = std::vector<std::pair<std::string, std::string>>{
      {"authorization.k8s.io/decision", "allow"}, {"authorization.k8s.io/reason", ""}};
  e.raw_size = 700;
  return e;
}

std::vector<Row> ScanAll(storage::Reader* reader, const storage::ScanRange& range,
                         storage::ScanStats* stats) {
  std::vector<Row> rows;
  absl::Status st = reader->Scan(
      range,
      [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
        const auto& times = batch.Ints(storage::Column::kTime);
        const auto& ids = batch.Strings(storage::Column::kAuditId);
        for (size_t r = 0; r < batch.num_rows(); ++r) {
          Row row;
          row.bucket = batch.bucket();
          row.ns = std::string(batch.ns());
          row.time = times.values[r];
          row.audit_id = ids.dict[ids.codes[r]];
          absl::StatusOr<std::string> json = batch.EventJson(r);
          if (!json.ok()) return json.status();
          row.json = *std::move(json);
          rows.push_back(std::move(row));
        }
        return true;
      },
      stats);
  EXPECT_TRUE(st.ok()) << st;
  return rows;
}

}  // namespace kq::testing
