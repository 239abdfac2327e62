// Tests of the traffic generator's output: determinism, JSON shape, policy, stages, mix, sizes.
#include "tools/gen/generator.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/json_value.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/gen/scenarios.h"

namespace kq::gen {
namespace {

using ::kq::testing::JsonValue;
using ::kq::testing::ParseJson;
using ::testing::HasSubstr;

std::string GenerateAll(const GenOptions& options) {
  std::string out;
  absl::Status status = Generate(options, [&out](std::string_view chunk) {
    out.append(chunk);
    return absl::OkStatus();
  });
  EXPECT_OK(status);
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  EXPECT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "") << "output must end with a newline";
  lines.pop_back();
  return lines;
}

// The audit policy the generator is meant to follow, written from the brief and
// reference/k8s-audit.md rather than from the generator's code.
std::string_view ExpectedLevel(const JsonValue& event) {
  const JsonValue* ref = event.Find("objectRef");
  if (ref == nullptr) return "Metadata";
  const std::string_view resource = ref->Str("resource");
  const std::string_view sub = ref->Str("subresource");
  const std::string_view verb = event.Str("verb");
  static const std::set<std::string_view> kConnect = {"exec", "attach", "portforward", "proxy",
                                                      "log"};
  if (resource == "secrets" || resource == "leases" || resource == "tokenreviews" ||
      sub == "token" || kConnect.count(sub) > 0) {
    return "Metadata";
  }
  if (verb == "get" || verb == "list" || verb == "watch") return "Metadata";
  if ((resource == "pods" || resource == "deployments") && sub.empty()) return "RequestResponse";
  return "Request";
}

// Go struct order of audit.k8s.io/v1 Event, ObjectReference and UserInfo
// (reference/k8s-audit.md section 1a); checked against real events in CorpusShapeTest.
const std::vector<std::string_view> kEventOrder = {"kind",
                                                   "apiVersion",
                                                   "level",
                                                   "auditID",
                                                   "stage",
                                                   "requestURI",
                                                   "verb",
                                                   "user",
                                                   "impersonatedUser",
                                                   "sourceIPs",
                                                   "userAgent",
                                                   "objectRef",
                                                   "responseStatus",
                                                   "requestObject",
                                                   "responseObject",
                                                   "requestReceivedTimestamp",
                                                   "stageTimestamp",
                                                   "annotations"};
const std::vector<std::string_view> kRefOrder = {
    "resource",   "namespace",       "name",       "uid", "apiGroup",
    "apiVersion", "resourceVersion", "subresource"};
const std::vector<std::string_view> kUserOrder = {"username", "uid", "groups", "extra"};

// Keys of `object` must appear in `order`'s order and be known.
void ExpectKeyOrder(const JsonValue& object, const std::vector<std::string_view>& order,
                    std::string_view what) {
  size_t next = 0;
  for (const auto& [key, value] : object.members) {
    auto it = std::find(order.begin() + static_cast<ptrdiff_t>(next), order.end(), key);
    ASSERT_NE(it, order.end()) << what << ": key \"" << key << "\" unknown or out of order";
    next = static_cast<size_t>(it - order.begin()) + 1;
  }
}

bool IsMicroTime(std::string_view s) {
  if (s.size() != 27 || s[26] != 'Z' || s[19] != '.') return false;
  absl::StatusOr<TimeMicros> t = ParseTimestamp(s);
  return t.ok() && FormatTimestamp(*t) == s;
}

// Count within `sigmas` binomial standard deviations of n*p.
void ExpectShare(std::string_view what, uint64_t count, uint64_t n, double p, double sigmas = 5) {
  const double mean = static_cast<double>(n) * p;
  const double sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(count), mean, sigmas * sd + 1)
      << what << ": " << count << " of " << n << ", expected share " << p;
}

double Weight(Scenario s) {
  return static_cast<double>(ScenarioTable()[static_cast<size_t>(s)].weight) / kWeightTotal;
}

TEST(GeneratorTest, SameSeedGivesIdenticalOutput) {
  GenOptions options;
  options.seed = 7;
  options.events = 5000;
  const std::string a = GenerateAll(options);
  const std::string b = GenerateAll(options);
  EXPECT_EQ(a, b);
  EXPECT_EQ(Lines(a).size(), 5000u);
}

TEST(GeneratorTest, NextMatchesGenerate) {
  GenOptions options;
  options.events = 300;
  Generator generator(options);
  std::string via_next;
  while (generator.Next(&via_next)) via_next.push_back('\n');
  EXPECT_EQ(generator.produced(), 300u);
  EXPECT_EQ(via_next, GenerateAll(options));
  std::string more;
  EXPECT_FALSE(generator.Next(&more));
  EXPECT_EQ(more, "");
}

TEST(GeneratorTest, DifferentSeedsAndClustersDiffer) {
  GenOptions options;
  options.events = 200;
  const std::string base = GenerateAll(options);
  options.seed = 2;
  const std::string other_seed = GenerateAll(options);
  EXPECT_NE(base, other_seed);
  // Not just a shifted copy: the first lines differ too.
  EXPECT_NE(Lines(base)[0], Lines(other_seed)[0]);
  options.seed = 1;
  options.cluster = "prod-eu";
  const std::string other_cluster = GenerateAll(options);
  EXPECT_NE(base, other_cluster);
  EXPECT_THAT(other_cluster, HasSubstr("\"system:node:prod-eu-"));
  EXPECT_THAT(other_cluster, ::testing::Not(HasSubstr("system:node:demo-")));
}

TEST(GeneratorTest, ZeroEventsWritesNothing) {
  GenOptions options;
  options.events = 0;
  EXPECT_EQ(GenerateAll(options), "");
  options.format = GenOptions::Format::kEventList;
  EXPECT_EQ(GenerateAll(options), "");
}

TEST(GeneratorTest, RejectsBadOptions) {
  GenOptions options;
  options.rate = 0;
  EXPECT_THAT(ValidateGenOptions(options),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rate")));
  options.rate = std::nan("");
  EXPECT_FALSE(ValidateGenOptions(options).ok());
  options.rate = 10;
  options.batch_size = 0;
  EXPECT_THAT(ValidateGenOptions(options),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch")));
  options.batch_size = 10;
  options.cluster = "Bad_Name";
  EXPECT_THAT(ValidateGenOptions(options),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cluster")));
  options.cluster = "";
  EXPECT_FALSE(ValidateGenOptions(options).ok());
  bool called = false;
  EXPECT_FALSE(Generate(options, [&called](std::string_view) {
                 called = true;
                 return absl::OkStatus();
               }).ok());
  EXPECT_FALSE(called);
}

TEST(GeneratorTest, SinkErrorStopsGeneration) {
  GenOptions options;
  options.events = 20'000;  // more than one 1 MiB chunk
  int calls = 0;
  absl::Status status = Generate(options, [&calls](std::string_view) {
    ++calls;
    return absl::DataLossError("disk full");
  });
  EXPECT_THAT(status, testing::StatusIs(absl::StatusCode::kDataLoss, HasSubstr("disk full")));
  EXPECT_EQ(calls, 1);
}

TEST(GeneratorTest, EventListBatchesHoldTheSameEventsWithoutTypeMeta) {
  GenOptions options;
  options.events = 1000;
  options.batch_size = 400;
  const std::vector<std::string> events = Lines(GenerateAll(options));
  options.format = GenOptions::Format::kEventList;
  const std::vector<std::string> lists = Lines(GenerateAll(options));
  ASSERT_EQ(lists.size(), 3u);
  const std::string type_meta = R"("kind":"Event","apiVersion":"audit.k8s.io/v1",)";
  const size_t sizes[] = {400, 400, 200};
  size_t index = 0;
  for (size_t b = 0; b < lists.size(); ++b) {
    absl::StatusOr<JsonValue> list = ParseJson(lists[b]);
    ASSERT_TRUE(list.ok()) << "batch " << b << " is not JSON";
    ASSERT_EQ(list->members.size(), 4u);
    EXPECT_EQ(list->members[0].first, "kind");
    EXPECT_EQ(list->Str("kind"), "EventList");
    EXPECT_EQ(list->Str("apiVersion"), "audit.k8s.io/v1");
    ASSERT_NE(list->Find("metadata"), nullptr);
    EXPECT_TRUE(list->Find("metadata")->members.empty());
    const JsonValue* items = list->Find("items");
    ASSERT_NE(items, nullptr);
    ASSERT_EQ(items->items.size(), sizes[b]);
    for (const JsonValue& item : items->items) {
      EXPECT_EQ(item.Find("kind"), nullptr);
      EXPECT_EQ(item.Find("apiVersion"), nullptr);
      EXPECT_EQ(item.members[0].first, "level");
    }
    // Byte for byte, the items are the JSON-lines events without kind/apiVersion.
    std::string expected =
        R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)";
    for (size_t i = 0; i < sizes[b]; ++i, ++index) {
      if (i > 0) expected.push_back(',');
      std::string event = events[index];
      ASSERT_EQ(event.compare(1, type_meta.size(), type_meta), 0);
      event.erase(1, type_meta.size());
      expected.append(event);
    }
    expected.append("]}");
    EXPECT_EQ(lists[b], expected);
  }
}

// One large sample, parsed once, shared by the shape and mix tests.
class GeneratedSample : public ::testing::Test {
 protected:
  static constexpr uint64_t kEvents = 60'000;
  static constexpr double kRate = 250;

  static void SetUpTestSuite() {
    GenOptions options;
    options.seed = 42;
    options.events = kEvents;
    options.rate = kRate;
    options.start = kDefaultStart;
    raw_ = new std::vector<std::string>(Lines(GenerateAll(options)));
    events_ = new std::vector<JsonValue>();
    events_->reserve(raw_->size());
    for (const std::string& line : *raw_) {
      absl::StatusOr<JsonValue> event = ParseJson(line);
      if (!event.ok()) {
        ADD_FAILURE() << "not JSON: " << line.substr(0, 300);
        continue;
      }
      events_->push_back(std::move(*event));
    }
  }
  static void TearDownTestSuite() {
    delete raw_;
    delete events_;
  }

  static std::vector<std::string>* raw_;
  static std::vector<JsonValue>* events_;
};
std::vector<std::string>* GeneratedSample::raw_ = nullptr;
std::vector<JsonValue>* GeneratedSample::events_ = nullptr;

TEST_F(GeneratedSample, EveryLineIsAnEventWithTheRequiredFieldsInGoOrder) {
  ASSERT_EQ(raw_->size(), kEvents);
  ASSERT_EQ(events_->size(), kEvents);
  const std::set<std::string_view> levels = {"Metadata", "Request", "RequestResponse"};
  const std::set<std::string_view> stages = {"RequestReceived", "ResponseStarted",
                                             "ResponseComplete"};
  for (size_t i = 0; i < events_->size(); ++i) {
    const JsonValue& e = (*events_)[i];
    SCOPED_TRACE(raw_->at(i).substr(0, 400));
    ExpectKeyOrder(e, kEventOrder, "event");
    EXPECT_EQ(e.Str("kind"), "Event");
    EXPECT_EQ(e.Str("apiVersion"), "audit.k8s.io/v1");
    EXPECT_EQ(levels.count(e.Str("level")), 1u);
    EXPECT_EQ(stages.count(e.Str("stage")), 1u);
    const std::string_view id = e.Str("auditID");
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');  // UUID version 4
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef-"), std::string_view::npos);
    EXPECT_EQ(e.Str("requestURI").substr(0, 1), "/");
    EXPECT_FALSE(e.Str("verb").empty());
    const JsonValue* user = e.Find("user");
    ASSERT_NE(user, nullptr);
    ExpectKeyOrder(*user, kUserOrder, "user");
    EXPECT_FALSE(user->Str("username").empty());
    const JsonValue* ips = e.Find("sourceIPs");
    ASSERT_NE(ips, nullptr);
    ASSERT_FALSE(ips->items.empty());
    if (const JsonValue* ref = e.Find("objectRef")) {
      ExpectKeyOrder(*ref, kRefOrder, "objectRef");
      EXPECT_FALSE(ref->Str("resource").empty());
      EXPECT_FALSE(ref->Str("apiVersion").empty());
    }
    const std::string_view received = e.Str("requestReceivedTimestamp");
    const std::string_view at = e.Str("stageTimestamp");
    EXPECT_TRUE(IsMicroTime(received)) << received;
    EXPECT_TRUE(IsMicroTime(at)) << at;
    EXPECT_LE(received, at);  // same width, so text order is time order
    const bool rr = e.Str("stage") == "RequestReceived";
    const JsonValue* status = e.Find("responseStatus");
    if (rr) {
      EXPECT_EQ(status, nullptr);
      EXPECT_EQ(e.Find("annotations"), nullptr);
      EXPECT_EQ(received, at);
    } else {
      ASSERT_NE(status, nullptr);
      ASSERT_FALSE(status->members.empty());
      EXPECT_EQ(status->members.front().first, "metadata");
      EXPECT_TRUE(status->members.front().second.members.empty());
      EXPECT_EQ(status->members.back().first, "code");
      const JsonValue* annotations = e.Find("annotations");
      ASSERT_NE(annotations, nullptr);
      const std::string_view decision = annotations->Str("authorization.k8s.io/decision");
      EXPECT_TRUE(decision == "allow" || decision == "forbid") << decision;
      EXPECT_NE(annotations->Find("authorization.k8s.io/reason"), nullptr);
      EXPECT_EQ(decision == "forbid", status->Find("code")->number == 403);
      // Go writes map keys sorted.
      EXPECT_TRUE(std::is_sorted(annotations->members.begin(), annotations->members.end(),
                                 [](const auto& a, const auto& b) { return a.first < b.first; }));
    }
  }
}

TEST_F(GeneratedSample, RawTextIsEscapedLikeGo) {
  for (const std::string& line : *raw_) {
    // Go's encoder writes &, < and > as \u0026, \u003c and \u003e everywhere.
    ASSERT_EQ(line.find_first_of("&<>"), std::string::npos) << line.substr(0, 300);
  }
  uint64_t with_escaped_query = 0;
  for (const std::string& line : *raw_) {
    if (line.find("\\u0026") != std::string::npos) ++with_escaped_query;
  }
  EXPECT_GT(with_escaped_query, kEvents / 100);
}

TEST_F(GeneratedSample, EventsComeOutInStageTimestampOrderAtTheConfiguredRate) {
  std::string_view previous;
  for (const JsonValue& e : *events_) {
    ASSERT_LE(previous, e.Str("stageTimestamp"));
    previous = e.Str("stageTimestamp");
  }
  ASSERT_OK_AND_ASSIGN(TimeMicros first, ParseTimestamp(events_->front().Str("stageTimestamp")));
  ASSERT_OK_AND_ASSIGN(TimeMicros last, ParseTimestamp(previous));
  EXPECT_GE(first, kDefaultStart);
  EXPECT_LT(first, kDefaultStart + kMicrosPerSecond);
  const double expected_seconds = kEvents / kRate;  // 240 s
  EXPECT_NEAR(static_cast<double>(last - kDefaultStart) / kMicrosPerSecond, expected_seconds,
              expected_seconds * 0.05);
}

TEST_F(GeneratedSample, LevelsAndBodiesFollowThePolicy) {
  uint64_t with_request_body = 0;
  uint64_t with_response_body = 0;
  for (size_t i = 0; i < events_->size(); ++i) {
    const JsonValue& e = (*events_)[i];
    SCOPED_TRACE(raw_->at(i).substr(0, 400));
    const std::string_view level = e.Str("level");
    ASSERT_EQ(level, ExpectedLevel(e));
    const bool complete = e.Str("stage") == "ResponseComplete";
    if (e.Find("requestObject") != nullptr) {
      ++with_request_body;
      EXPECT_TRUE(complete);
      EXPECT_NE(level, "Metadata");
    }
    if (e.Find("responseObject") != nullptr) {
      ++with_response_body;
      EXPECT_TRUE(complete);
      EXPECT_EQ(level, "RequestResponse");
    }
    // Writes of pods and deployments that the apiserver accepted carry both bodies (a denied
    // request never reaches the handler that records them).
    const JsonValue* status = e.Find("responseStatus");
    if (complete && level == "RequestResponse" && status->Find("code")->number < 400) {
      EXPECT_NE(e.Find("requestObject"), nullptr);
      EXPECT_NE(e.Find("responseObject"), nullptr);
    }
  }
  EXPECT_GT(with_request_body, kEvents / 20);
  EXPECT_GT(with_response_body, kEvents / 100);
}

TEST_F(GeneratedSample, StagesMatchWhatTheApiserverEmits) {
  std::map<std::string_view, std::vector<const JsonValue*>> by_id;
  for (const JsonValue& e : *events_) by_id[e.Str("auditID")].push_back(&e);
  uint64_t exec_started = 0;
  for (const auto& [id, stages] : by_id) {
    std::set<std::string_view> seen;
    for (const JsonValue* e : stages) {
      EXPECT_TRUE(seen.insert(e->Str("stage")).second) << "duplicate stage for " << id;
      EXPECT_EQ(e->Str("requestReceivedTimestamp"),
                stages.front()->Str("requestReceivedTimestamp"));
      EXPECT_EQ(e->Str("requestURI"), stages.front()->Str("requestURI"));
      EXPECT_EQ(e->Str("verb"), stages.front()->Str("verb"));
      if (e->Str("stage") != "ResponseStarted") continue;
      // Only long-running requests: watch, and the connect subresources.
      const JsonValue* ref = e->Find("objectRef");
      const std::string_view sub = ref != nullptr ? ref->Str("subresource") : "";
      EXPECT_TRUE(e->Str("verb") == "watch" || sub == "exec" || sub == "log")
          << e->Str("verb") << " " << sub;
      if (sub == "exec") {
        ++exec_started;
        EXPECT_EQ(e->Find("responseStatus")->Find("code")->number, 101);
      }
    }
  }
  EXPECT_GT(exec_started, 0u);
}

TEST_F(GeneratedSample, MixOfRequestsFollowsTheConfiguredWeights) {
  // Classify each request (auditID) by what its events show; each class comes from exactly
  // one scenario, so its share must match that scenario's weight.
  std::map<std::string_view, const JsonValue*> requests;
  for (const JsonValue& e : *events_) {
    const JsonValue*& slot = requests[e.Str("auditID")];
    if (slot == nullptr || e.Str("stage") == "ResponseComplete") slot = &e;
  }
  uint64_t node_leases = 0, impersonated = 0, anonymous = 0, execs = 0, logs = 0;
  uint64_t secret_enumeration = 0, privileged = 0, watches = 0;
  for (const auto& [id, e] : requests) {
    const JsonValue* ref = e->Find("objectRef");
    const std::string_view resource = ref ? ref->Str("resource") : "";
    const std::string_view ns = ref ? ref->Str("namespace") : "";
    const std::string_view sub = ref ? ref->Str("subresource") : "";
    const std::string_view verb = e->Str("verb");
    if (verb == "update" && resource == "leases" && ns == "kube-node-lease") ++node_leases;
    if (e->Find("impersonatedUser") != nullptr) ++impersonated;
    if (e->Find("user")->Str("username") == "system:anonymous") ++anonymous;
    if (sub == "exec") ++execs;
    if (sub == "log") ++logs;
    if (verb == "watch") ++watches;
    if (verb == "list" && resource == "secrets" && ns.empty()) ++secret_enumeration;
    if (const JsonValue* body = e->Find("requestObject")) {
      const JsonValue* spec = body->Find("spec");
      const JsonValue* containers = spec ? spec->Find("containers") : nullptr;
      if (containers != nullptr && resource == "pods" && verb == "create") {
        for (const JsonValue& c : containers->items) {
          const JsonValue* sc = c.Find("securityContext");
          const JsonValue* p = sc ? sc->Find("privileged") : nullptr;
          if (p != nullptr && p->boolean) ++privileged;
        }
      }
    }
  }
  const uint64_t n = requests.size();
  ExpectShare("node leases", node_leases, n, Weight(Scenario::kNodeLease));
  ExpectShare("impersonation", impersonated, n, Weight(Scenario::kImpersonation));
  ExpectShare("anonymous", anonymous, n, Weight(Scenario::kAnonymous));
  ExpectShare("exec", execs, n, Weight(Scenario::kHumanExec));
  ExpectShare("logs", logs, n, Weight(Scenario::kHumanLogs));
  ExpectShare("watch", watches, n,
              Weight(Scenario::kSystemWatch) + Weight(Scenario::kOperatorWatch));
  ExpectShare("secret enumeration", secret_enumeration, n, Weight(Scenario::kSecretEnumeration));
  ExpectShare("privileged pods", privileged, n, Weight(Scenario::kPrivilegedPod));
  EXPECT_GT(privileged, 0u);
  EXPECT_GT(secret_enumeration, 0u);

  // Requests that log RequestReceived: the scenarios whose stages include it. (Counted per
  // request, since a watch's ResponseComplete can fall after the sample ends.)
  double received_share = 0;
  for (const ScenarioInfo& info : ScenarioTable()) {
    if (info.stages & kReceived) received_share += static_cast<double>(info.weight) / kWeightTotal;
  }
  uint64_t received = 0;
  for (const JsonValue& e : *events_) received += e.Str("stage") == "RequestReceived";
  ExpectShare("requests with RequestReceived", received, n, received_share);
}

TEST_F(GeneratedSample, SizesAreRealistic) {
  double metadata_bytes = 0, body_bytes = 0;
  uint64_t metadata = 0, bodies = 0;
  for (size_t i = 0; i < raw_->size(); ++i) {
    const size_t size = raw_->at(i).size();
    EXPECT_GT(size, 300u);
    EXPECT_LT(size, 64u << 10);
    const JsonValue& e = (*events_)[i];
    if (e.Find("responseObject") != nullptr) {
      body_bytes += static_cast<double>(size);
      ++bodies;
    } else if (e.Str("level") == "Metadata") {
      metadata_bytes += static_cast<double>(size);
      ++metadata;
    }
  }
  ASSERT_GT(metadata, 0u);
  ASSERT_GT(bodies, 0u);
  const double metadata_mean = metadata_bytes / static_cast<double>(metadata);
  const double body_mean = body_bytes / static_cast<double>(bodies);
  EXPECT_GT(metadata_mean, 700);  // "about 1 KB"
  EXPECT_LT(metadata_mean, 1500);
  EXPECT_GT(body_mean, 3000);  // "several KB"
  EXPECT_LT(body_mean, 12000);
}

TEST_F(GeneratedSample, CoversTheNamespacesAndActorsOfARealCluster) {
  std::map<std::string, uint64_t> namespaces;
  std::set<std::string> agents;
  for (const JsonValue& e : *events_) {
    if (const JsonValue* ref = e.Find("objectRef"))
      ++namespaces[std::string(ref->Str("namespace"))];
    agents.insert(std::string(e.Str("userAgent").substr(0, e.Str("userAgent").find('/'))));
  }
  for (const char* ns : {"kube-system", "kube-node-lease", "payments", "checkout", "vault",
                         "monitoring", "default"}) {
    EXPECT_GT(namespaces[ns], 0u) << ns;
  }
  // Skewed: kube-system has more than any application namespace.
  for (const char* ns : {"payments", "checkout", "vault", "monitoring"}) {
    EXPECT_GT(namespaces["kube-system"], namespaces[ns]) << ns;
  }
  for (const char* agent : {"kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy",
                            "coredns", "kubectl", "curl"}) {
    EXPECT_EQ(agents.count(agent), 1u) << agent;
  }
}

// The real OpenShift samples (written by kube-apiserver) have the key order the generator
// follows, and Metadata events of a similar size.
TEST_F(GeneratedSample, ShapeMatchesRealApiserverEvents) {
  double real_bytes = 0;
  uint64_t real_metadata = 0;
  for (const char* name : {"openshift-4.6-kube-apiserver-metadata.jsonl",
                           "openshift-4.6-openshift-apiserver-metadata.jsonl",
                           "openshift-4.12-clo-audit_in.requestresponse.jsonl"}) {
    const std::string text = testing::ReadFileOrDie(testing::CorpusDir() / "samples" / name);
    ASSERT_FALSE(text.empty()) << name;
    for (const std::string& line : Lines(text)) {
      absl::StatusOr<JsonValue> real = ParseJson(line);
      ASSERT_TRUE(real.ok()) << name;
      ExpectKeyOrder(*real, kEventOrder, name);
      if (const JsonValue* ref = real->Find("objectRef")) ExpectKeyOrder(*ref, kRefOrder, name);
      ExpectKeyOrder(*real->Find("user"), kUserOrder, name);
      if (real->Str("level") == "Metadata") {
        real_bytes += static_cast<double>(line.size());
        ++real_metadata;
      }
    }
  }
  ASSERT_GT(real_metadata, 20u);
  double ours = 0;
  uint64_t metadata = 0;
  for (size_t i = 0; i < raw_->size(); ++i) {
    if ((*events_)[i].Str("level") != "Metadata") continue;
    ours += static_cast<double>(raw_->at(i).size());
    ++metadata;
  }
  const double real_mean = real_bytes / static_cast<double>(real_metadata);
  const double our_mean = ours / static_cast<double>(metadata);
  EXPECT_GT(our_mean, real_mean * 0.6) << "real Metadata mean " << real_mean;
  EXPECT_LT(our_mean, real_mean * 1.6) << "real Metadata mean " << real_mean;
}

}  // namespace
}  // namespace kq::gen
