#include "storage/decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "storage/event_json.h"
#include "tests/testing/json_value.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::storage {
namespace {

using ::kq::testing::ParseJson;
using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kMinimal[] =
    R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-1",)"
    R"("stage":"ResponseComplete","requestURI":"/api/v1/pods?limit=1\u0026x=2","verb":"list",)"
    R"("user":{"username":"alice","groups":["dev","system:authenticated"]},)"
    R"("sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"team-a"},)"
    R"("responseStatus":{"metadata":{},"code":200},)"
    R"("requestReceivedTimestamp":"2024-05-01T10:00:00.123456Z",)"
    R"("stageTimestamp":"2024-05-01T10:00:00.200000Z"})";

// Splices `insert` after the opening brace of kMinimal.
std::string WithField(std::string_view insert) {
  std::string s = kMinimal;
  s.insert(1, std::string(insert) + ",");
  return s;
}

std::string Without(std::string_view key) {
  std::string s = kMinimal;
  std::string needle = absl::StrCat("\"", Sv(key), "\":");
  size_t at = s.find(needle);
  // Remove "key":value up to the next top-level comma: the values removed here are scalars.
  size_t end = s.find(",\"", at + needle.size());
  s.erase(at, end + 1 - at);
  return s;
}

void ExpectRoundTrip(std::string_view input, const Event& event) {
  std::string out = EventToJson(event);
  auto want = ParseJson(input);
  auto got = ParseJson(out);
  ASSERT_TRUE(want.ok()) << want.status() << ": " << input;
  ASSERT_TRUE(got.ok()) << got.status() << ": " << out;
  EXPECT_EQ(*want, *got) << "input:  " << input.substr(0, 2000)
                         << "\noutput: " << out.substr(0, 2000);
}

TEST(DecoderTest, DecodesModelledFields) {
  Decoder decoder;
  Event e;
  ASSERT_OK(decoder.DecodeEvent(kMinimal, &e));
  EXPECT_EQ(e.level, "Metadata");
  EXPECT_EQ(e.audit_id, "a-1");
  EXPECT_EQ(e.verb, "list");
  EXPECT_EQ(e.request_uri, "/api/v1/pods?limit=1&x=2");
  EXPECT_EQ(e.user.username, "alice");
  EXPECT_EQ(e.user.groups, (std::vector<std::string>{"dev", "system:authenticated"}));
  EXPECT_EQ(e.Namespace(), "team-a");
  EXPECT_EQ(e.Resource(), "pods");
  EXPECT_EQ(e.code, 200);
  // 2024-05-01T10:00:00Z is 1714557600 s after the epoch.
  EXPECT_EQ(e.request_received_time, 1714557600'123456);
  EXPECT_EQ(e.stage_time, 1714557600'200000);
  EXPECT_EQ(e.raw_size, sizeof(kMinimal) - 1);
  ExpectRoundTrip(kMinimal, e);
}

TEST(DecoderTest, KeepsUnknownFieldsAndLegacyTimestamps) {
  Decoder decoder;
  Event e;
  std::string in = WithField(
      R"("metadata":{"creationTimestamp":"2018-10-25T13:58:49Z"},"timestamp":"2018-10-25T13:58:49Z",)"
      R"("futureField":[1,2.50,{"x":null}],"n":-1e5)");
  ASSERT_OK(decoder.DecodeEvent(in, &e));
  ExpectRoundTrip(in, e);
  // Numbers are kept as written.
  EXPECT_THAT(EventToJson(e), HasSubstr("2.50"));
  EXPECT_THAT(EventToJson(e), HasSubstr("-1e5"));
}

TEST(DecoderTest, LegacyTimestampIsTheFallbackReceiveTime) {
  Decoder decoder;
  Event e;
  std::string in = Without("requestReceivedTimestamp");
  in.insert(1, R"("timestamp":"2018-10-25T13:58:49Z",)");
  ASSERT_OK(decoder.DecodeEvent(in, &e));
  EXPECT_FALSE(e.request_received_timestamp.has_value());
  EXPECT_EQ(e.request_received_time, 1540475929LL * 1000000);  // date -d ... +%s
  ExpectRoundTrip(in, e);
}

TEST(DecoderTest, PresenceOfEmptyContainersIsKept) {
  Decoder decoder;
  Event e;
  std::string in = WithField(R"("annotations":{})");
  in.replace(in.find(R"("user":{)"), 8, R"("user":{"extra":{},"uid":"",)");
  ASSERT_OK(decoder.DecodeEvent(in, &e));
  ASSERT_TRUE(e.annotations.has_value());
  EXPECT_TRUE(e.annotations->empty());
  ExpectRoundTrip(in, e);
}

struct Rejection {
  std::string name;
  std::string input;
  std::string reason;
};

class RejectTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(RejectTest, RefusesWithReason) {
  DecodeOptions options;
  options.max_event_bytes = 4096;
  options.max_depth = 8;
  Decoder decoder(options);
  Event e;
  EXPECT_THAT(decoder.DecodeEvent(GetParam().input, &e),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().reason)));
}

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

INSTANTIATE_TEST_SUITE_P(
    Cases, RejectTest,
    ::testing::Values(
        Rejection{"NotJson", R"({"a":})", "JSON"},
        Rejection{"Scalar", "hello", "not a JSON object"},
        Rejection{"NotObject", "[1,2]", "not a JSON object"},
        Rejection{"Truncated", std::string(kMinimal).substr(0, 120), "truncated"},
        Rejection{"InvalidUtf8", WithField("\"x\":\"\xff\xfe\""), "invalid UTF-8"},
        Rejection{"Nul", WithField(std::string("\"x\":\"a\0b\"", 9)), "NUL byte"},
        Rejection{"MissingAuditId", Without("auditID"), "missing required field \"auditID\""},
        Rejection{"MissingVerb", Without("verb"), "missing required field \"verb\""},
        Rejection{"MissingLevel", Without("level"), "missing required field \"level\""},
        Rejection{"MissingStage", Without("stage"), "missing required field \"stage\""},
        Rejection{"MissingReceived", Without("requestReceivedTimestamp"),
                  "missing required field \"requestReceivedTimestamp\""},
        Rejection{"DuplicateWrongType", WithField(R"("verb":7)"), "field verb: expected a string"},
        Rejection{"WrongType",
                  std::string(kMinimal).replace(std::string(kMinimal).find(R"("list")"), 6, "7"),
                  "field verb: expected a string, got a number"},
        Rejection{"WrongTypeGroups", WithField(R"("impersonatedUser":{"groups":"x"})"),
                  "impersonatedUser.groups: expected an array of strings"},
        Rejection{"WrongTypeAnnotation", WithField(R"("annotations":{"a":1})"),
                  "annotations.a: expected a string"},
        Rejection{"BadTimestamp",
                  std::string(kMinimal).replace(std::string(kMinimal).find("2024-05-01T10:00:00.2"),
                                                4, "20x4"),
                  "stageTimestamp: invalid timestamp"},
        Rejection{"DuplicateKey", WithField(R"("auditID":"other")"), "duplicate key \"auditID\""},
        Rejection{"DuplicateUnknownKey", WithField(R"("zz":1,"zz":2)"), "duplicate key \"zz\""},
        Rejection{"DuplicateAnnotation", WithField(R"("annotations":{"a":"1","a":"2"})"),
                  "duplicate key \"annotations.a\""},
        Rejection{"TooDeep", WithField("\"requestObject\":" + Nested(9)), "nesting deeper than 8"},
        Rejection{"BadBody", WithField(R"("requestObject":{"a" 1})"), "in field requestObject"},
        Rejection{"BadNestedBody", WithField(R"("requestObject":{"a":[1,]})"),
                  "field requestObject: invalid JSON"},
        Rejection{"Oversized", WithField("\"x\":\"" + std::string(5000, 'a') + "\""),
                  "larger than the limit of 4096 bytes"},
        Rejection{"TrailingContent", std::string(kMinimal) + "{}", "after the event"}),
    [](const ::testing::TestParamInfo<Rejection>& info) { return info.param.name; });

TEST(DecoderTest, AcceptsDepthAtTheLimit) {
  DecodeOptions options;
  options.max_depth = 8;
  Decoder decoder(options);
  Event e;
  // The event is depth 1, so a body may hold 7 more levels.
  EXPECT_OK(decoder.DecodeEvent(WithField("\"requestObject\":" + Nested(7)), &e));
}

TEST(DecoderTest, LargeEventsDecode) {
  Decoder decoder;
  Event e;
  std::string body = "{\"data\":\"" + std::string(5 << 20, 'x') + "\"}";
  std::string in = WithField("\"responseObject\":" + body);
  ASSERT_OK(decoder.DecodeEvent(in, &e));
  EXPECT_EQ(e.response_object->size(), body.size());
}

TEST(DecoderTest, LinesKeepGoingPastBadLines) {
  Decoder decoder;
  std::string text = std::string(kMinimal) + "\n\n{\"kind\": 0}\n" + kMinimal + "\n" +
                     std::string(kMinimal).substr(0, 50);
  std::vector<Event> events;
  std::vector<DecodeError> errors;
  decoder.DecodeLines(text, &events, &errors);
  EXPECT_EQ(events.size(), 2u);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].index, 3u);
  EXPECT_THAT(errors[0].reason, HasSubstr("line 3: field kind: expected a string, got a number"));
  EXPECT_EQ(errors[0].raw, "{\"kind\": 0}");
  EXPECT_EQ(errors[1].index, 5u);
  EXPECT_THAT(errors[1].reason, HasSubstr("truncated"));
}

TEST(DecoderTest, EventListItemsAreIndependent) {
  Decoder decoder;
  std::string item = std::string(kMinimal);
  std::string body =
      R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)" + item +
      R"(,{"level":"Metadata"},7,)" + item + "]}";
  std::vector<Event> events;
  std::vector<DecodeError> errors;
  decoder.DecodeBody(body, &events, &errors);
  EXPECT_EQ(events.size(), 2u);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].index, 1u);
  EXPECT_THAT(errors[0].reason, HasSubstr("item 1: missing required field"));
  EXPECT_EQ(errors[1].index, 2u);
  EXPECT_THAT(errors[1].reason, HasSubstr("not a JSON object"));
}

TEST(DecoderTest, BodyOfOneEventOrLines) {
  Decoder decoder;
  std::vector<Event> events;
  std::vector<DecodeError> errors;
  decoder.DecodeBody(std::string(kMinimal) + "\n" + kMinimal + "\n", &events, &errors);
  EXPECT_EQ(events.size(), 2u);
  EXPECT_TRUE(errors.empty());
  events.clear();
  decoder.DecodeBody("{\n  \"level\": \"Metadata\"\n}", &events, &errors);
  EXPECT_TRUE(events.empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].reason, HasSubstr("missing required field"));
}

// Events of different shapes, so that a reused Event meets fields present in one and absent,
// shorter or longer in the next.
std::vector<std::string> VariedEvents() {
  return {
      kMinimal,
      Without("requestURI"),
      WithField(R"("impersonatedUser":{"username":"bob","groups":["a","b","c"]})"),
      WithField(R"("annotations":{"k1":"v1","k2":"v2","authorization.k8s.io/decision":"allow"})"),
      WithField(R"("annotations":{"k2":"other"})"),
      WithField(R"("requestObject":{"spec":{"replicas":3}},"responseObject":[1,2])"),
      WithField(R"("userAgent":"kubectl/v1.29","authenticationMetadata":{"x":1})"),
      WithField(R"("future":{"a":[1]},"timestamp":"2024-05-01T10:00:00Z")"),
      R"({"level":"Request","auditID":"b-2","stage":"ResponseStarted","verb":"watch",)"
      R"("user":{"uid":"u-1","extra":{"scopes":["x","y"]},"more":true},)"
      R"("objectRef":{"resource":"pods","name":"p","uid":"o-1","resourceVersion":"9","x":1},)"
      R"("requestReceivedTimestamp":"2024-05-01T10:00:00Z","stageTimestamp":"2024-05-01T10:00:01Z"})",
      R"({"level":"Metadata","auditID":"d-4","stage":"ResponseComplete","verb":"get",)"
      R"("user":{"username":"sa","extra":{"a":["1","2","3"],"b":["z"]}},)"
      R"("requestReceivedTimestamp":"2024-05-01T10:00:00Z","stageTimestamp":"2024-05-01T10:00:01Z"})",
      R"({"level":"Metadata","auditID":"c-3","stage":"Panic","verb":"get","user":{},)"
      R"("sourceIPs":[],"requestReceivedTimestamp":"2024-05-01T10:00:00.1+02:00",)"
      R"("stageTimestamp":"2024-05-01T10:00:00.2+02:00"})",
  };
}

// Decoding into a reused Event gives exactly the Event a fresh decode gives, whatever the
// reused Event held before: every varied event after every other one.
TEST(DecoderTest, DecodingIntoAReusedEventEqualsAFreshDecode) {
  const std::vector<std::string> inputs = VariedEvents();
  Decoder decoder;
  std::vector<Event> fresh(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) ASSERT_OK(decoder.DecodeEvent(inputs[i], &fresh[i]));
  for (size_t before = 0; before < inputs.size(); ++before) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      Event reused;
      ASSERT_OK(decoder.DecodeEvent(inputs[before], &reused));
      reused.env = "prod";  // set by the pipeline: cleared by a decode, like every field
      ASSERT_OK(decoder.DecodeEvent(inputs[i], &reused));
      EXPECT_EQ(reused, fresh[i]) << "after " << before << ": " << inputs[i];
    }
  }
}

// DecodeLinesInto, whatever the part size, gives the events and errors of one DecodeLines.
TEST(DecoderTest, DecodingLinesInPartsEqualsDecodingThemAtOnce) {
  std::string text;
  for (int round = 0; round < 3; ++round) {
    for (const std::string& e : VariedEvents()) text += e + "\n";
    text += "\n{\"kind\": 0}\n  \n";
  }
  text += std::string(kMinimal).substr(0, 50);  // a truncated last line without newline
  Decoder decoder;
  std::vector<Event> all;
  std::vector<DecodeError> all_errors;
  decoder.DecodeLines(text, &all, &all_errors);
  ASSERT_EQ(all.size(), 3 * VariedEvents().size());
  ASSERT_EQ(all_errors.size(), 4u);
  for (size_t part : {1, 2, 7, 64}) {
    std::vector<Event> slots(part), got;
    std::vector<DecodeError> errors;
    std::string_view rest = text;
    uint64_t line = 0;
    while (!rest.empty()) {
      size_t n = decoder.DecodeLinesInto(&rest, &line, std::span<Event>(slots), &errors);
      ASSERT_LE(n, part);
      got.insert(got.end(), slots.begin(), slots.begin() + n);
    }
    EXPECT_EQ(line, static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')) + 1);
    EXPECT_EQ(got, all) << "part " << part;
    ASSERT_EQ(errors.size(), all_errors.size()) << "part " << part;
    for (size_t i = 0; i < errors.size(); ++i) {
      EXPECT_EQ(errors[i].index, all_errors[i].index);
      EXPECT_EQ(errors[i].reason, all_errors[i].reason);
      EXPECT_EQ(errors[i].raw, all_errors[i].raw);
    }
  }
  EXPECT_THAT(all_errors.back().reason, HasSubstr("the last line has no newline"));
}

// Mutated corpus lines: every line either decodes to an event that writes back as valid JSON or
// is refused with a reason; nothing crashes (run under -DKQ_SANITIZE=ON to check memory too).
TEST(DecoderTest, MutatedInputNeverCrashes) {
  std::string text = ::kq::testing::ReadFileOrDie(::kq::testing::CorpusDir() / "samples" /
                                                  "openshift-4.6-kube-apiserver-metadata.jsonl");
  std::mt19937 rng(99);
  Decoder decoder;
  size_t decoded = 0, refused = 0;
  for (int round = 0; round < 300; ++round) {
    std::string mutated = text;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < edits; ++k) {
      size_t pos = rng() % mutated.size();
      switch (rng() % 4) {
        case 0:
          mutated[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          mutated.erase(pos, 1 + rng() % 20);
          break;
        case 2:
          mutated.insert(mutated.begin() + static_cast<std::ptrdiff_t>(pos),
                         "{}[]\",:\\0"[rng() % 10]);
          break;
        default:
          mutated.resize(pos);
          break;
      }
      if (mutated.empty()) mutated.push_back('{');
    }
    std::vector<Event> events;
    std::vector<DecodeError> errors;
    decoder.DecodeBody(mutated, &events, &errors);
    for (const auto& e : events) {
      EXPECT_TRUE(ParseJson(EventToJson(e)).ok()) << EventToJson(e);
    }
    for (const auto& err : errors) EXPECT_FALSE(err.reason.empty());
    decoded += events.size();
    refused += errors.size();
  }
  EXPECT_GT(decoded, 0u);
  EXPECT_GT(refused, 0u);
}

// Every event of the shared corpus decodes and writes back equal to its input.
TEST(DecoderCorpusTest, EverySampleRoundTrips) {
  namespace fs = std::filesystem;
  fs::path samples = ::kq::testing::CorpusDir() / "samples";
  ASSERT_TRUE(fs::exists(samples)) << samples;
  Decoder decoder;
  size_t files = 0, total_events = 0;
  for (const auto& entry : fs::recursive_directory_iterator(samples)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".md") continue;
    std::string name = entry.path().filename().string();
    std::string text = ::kq::testing::ReadFileOrDie(entry.path());
    std::vector<Event> events;
    std::vector<DecodeError> errors;
    decoder.DecodeBody(text, &events, &errors);
    ++files;
    total_events += events.size();
    if (name == "fal_01_003.json") {
      EXPECT_TRUE(events.empty());
      ASSERT_EQ(errors.size(), 1u);
      EXPECT_THAT(errors[0].reason, HasSubstr("field kind: expected a string, got a number"));
      continue;
    }
    if (entry.path().parent_path().filename() == "cloud-envelopes") continue;
    EXPECT_TRUE(errors.empty()) << name << ": " << errors[0].reason;
    EXPECT_FALSE(events.empty()) << name;
    if (name == "openshift-clo-webhook-eventlist-via-vector.json") {
      auto list = ParseJson(text);
      ASSERT_TRUE(list.ok()) << list.status();
      const auto& items = (*list)["items"].items;
      ASSERT_EQ(items.size(), events.size());
      for (size_t i = 0; i < items.size(); ++i) {
        auto got = ParseJson(EventToJson(events[i]));
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(items[i], *got) << name << " item " << i;
      }
      continue;
    }
    // JSON lines: event k is line k among the non-blank lines.
    std::vector<std::string_view> lines;
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      if (line.find_first_not_of(" \t\r") != std::string_view::npos) lines.push_back(line);
    }
    ASSERT_EQ(lines.size(), events.size()) << name;
    for (size_t i = 0; i < lines.size(); ++i) ExpectRoundTrip(lines[i], events[i]);
  }
  // 47 falco files (46 + the malformed one) + 4 OpenShift files + 1 EventList + 2 envelopes.
  EXPECT_EQ(files, 54u);
  // 51 falco events (52 minus the malformed one), 100 + 5 + 10 + 18 OpenShift, 2 in the
  // EventList, 3 raw events among the cloud envelopes.
  EXPECT_EQ(total_events, 51u + 133u + 2u + 3u);
}

}  // namespace
}  // namespace kq::storage
