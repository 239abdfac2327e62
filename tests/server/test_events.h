// Audit events and webhook bodies written by hand for the server tests.
#ifndef KQ_TESTS_SERVER_TEST_EVENTS_H_
#define KQ_TESTS_SERVER_TEST_EVENTS_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/time.h"

namespace kq::testing {

// `second` seconds after the start of the previous hour (fixed per process): recent enough that
// kqd's default retention (which runs at startup) keeps the events, and always in one hour.
inline std::string TestTimestamp(int second) {
  static const TimeMicros base = [] {
    TimeMicros now = Clock::Real()->Now();
    return now - now % kMicrosPerHour - kMicrosPerHour;
  }();
  return FormatTimestamp(base + second * kMicrosPerSecond);
}

// One ResponseComplete event; `id` makes the auditID unique, `second` (below 3600) sets the
// timestamps (see TestTimestamp).
inline std::string MakeEventJson(const std::string& id, int second = 0,
                                 const std::string& ns = "team-a",
                                 const std::string& verb = "get") {
  std::string ts = TestTimestamp(second);
  return absl::StrCat(
      R"({"level":"Metadata","auditID":")", id,
      R"(","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/)", ns,
      R"(/pods/p","verb":")", verb,
      R"(","user":{"username":"alice","groups":["dev"]},"sourceIPs":["10.0.0.1"],)",
      R"("objectRef":{"resource":"pods","namespace":")", ns,
      R"(","name":"p","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},)",
      R"("requestReceivedTimestamp":")", ts, R"(","stageTimestamp":")", ts, R"("})");
}

// The body kube-apiserver's webhook POSTs: an EventList whose items carry no kind/apiVersion.
inline std::string MakeEventList(const std::vector<std::string>& items) {
  return absl::StrCat(R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},)",
                      R"("items":[)", absl::StrJoin(items, ","), "]}");
}

// `n` events with auditIDs "<prefix>-0" .. "<prefix>-<n-1>".
inline std::vector<std::string> MakeEvents(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(MakeEventJson(absl::StrCat(prefix, "-", i), i % 60));
  return out;
}

}  // namespace kq::testing

#endif  // KQ_TESTS_SERVER_TEST_EVENTS_H_
