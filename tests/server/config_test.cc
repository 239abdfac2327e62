#include "server/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::server {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<ParsedArgs> Parse(std::vector<std::string> args) {
  std::vector<const char*> argv = {"kqd"};
  for (const auto& a : args) argv.push_back(a.c_str());
  return ParseArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(ConfigTest, DefaultsAreTheDocumentedOnes) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs p, Parse({}));
  EXPECT_EQ(p.config.data_dir, "./kq-data");
  EXPECT_EQ(p.config.grpc_listen, "127.0.0.1:9910");
  EXPECT_EQ(p.config.http_listen, "127.0.0.1:9911");
  EXPECT_EQ(p.config.memory_budget, 256ull * 1024 * 1024);
  ASSERT_EQ(p.config.environments.size(), 2u);
  EXPECT_EQ(p.config.environments[0].name, "prod");
  EXPECT_EQ(p.config.environments[1].name, "dev");
}

TEST(ConfigTest, FlagsInBothSpellings) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs p,
                       Parse({"--data", "/d", "--grpc-listen=0.0.0.0:0", "--memory-budget", "1GiB",
                              "--queue-depth=7", "--log-format", "json"}));
  EXPECT_EQ(p.config.data_dir, "/d");
  EXPECT_EQ(p.config.grpc_listen, "0.0.0.0:0");
  EXPECT_EQ(p.config.memory_budget, 1ull << 30);
  EXPECT_EQ(p.config.queue_depth, 7u);
  EXPECT_EQ(p.config.log_format, "json");
}

TEST(ConfigTest, BadFlagsNameTheFlagAndTheReason) {
  EXPECT_THAT(Parse({"--nope", "1"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown flag --nope")));
  EXPECT_THAT(Parse({"--queue-depth", "0"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--queue-depth: must be between 1 and 100000, got 0")));
  EXPECT_THAT(Parse({"--memory-budget", "12parsecs"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--memory-budget")));
  EXPECT_THAT(Parse({"--http-listen", "localhost"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("HOST:PORT")));
  EXPECT_THAT(Parse({"--log-format", "xml"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("text, json")));
  EXPECT_THAT(Parse({"--data"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--data needs a value")));
  EXPECT_THAT(Parse({"--tls-key", "k.pem"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("given together")));
}

TEST(ConfigTest, EnvironmentFlagsReplaceTheDefaults) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs p,
                       Parse({"--environment", "staging=/disk2/st", "--environment", "qa"}));
  ASSERT_EQ(p.config.environments.size(), 2u);
  EXPECT_EQ(p.config.environments[0].name, "staging");
  EXPECT_EQ(p.config.environments[0].dir, "/disk2/st");
  EXPECT_EQ(p.config.environments[1].name, "qa");
  EXPECT_EQ(p.config.environments[1].dir, "");
  EXPECT_THAT(Parse({"--environment", "Prod"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must match")));
  EXPECT_THAT(Parse({"--environment", "a", "--environment", "a"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("listed twice")));
}

TEST(ConfigTest, YamlFileWithFlagsOnTop) {
  testing::TempDir dir;
  std::string path = dir.Sub("kqd.yaml");
  testing::WriteFileOrDie(path,
                          "data: /var/lib/kq\n"
                          "memory-budget: 512MiB\n"
                          "environments:\n"
                          "  - name: prod\n"
                          "    dir: /fast/prod\n"
                          "  - name: dev\n"
                          "tail:\n"
                          "  - env: prod\n"
                          "    cluster: c1\n"
                          "    glob: /var/log/audit*.log\n");
  ASSERT_OK_AND_ASSIGN(ParsedArgs p, Parse({"--config", path, "--data", "/override"}));
  EXPECT_EQ(p.config.data_dir, "/override");
  EXPECT_EQ(p.config.memory_budget, 512ull << 20);
  ASSERT_EQ(p.config.environments.size(), 2u);
  EXPECT_EQ(p.config.environments[0].dir, "/fast/prod");
  ASSERT_EQ(p.config.tail_sources.size(), 1u);
  EXPECT_EQ(p.config.tail_sources[0], (TailSource{"prod", "c1", "/var/log/audit*.log"}));
  EXPECT_EQ(p.config.config_file, path);
}

TEST(ConfigTest, BadYamlNamesFileLineAndKey) {
  testing::TempDir dir;
  std::string path = dir.Sub("bad.yaml");
  testing::WriteFileOrDie(path, "data: /x\nqueue-depth: 0\n");
  EXPECT_THAT(Parse({"--config", path}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad.yaml:2:14: queue-depth: must be between 1 and 100000")));
  testing::WriteFileOrDie(path, "data: /x\nmemory_budget: 1GiB\n");
  EXPECT_THAT(Parse({"--config", path}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad.yaml:2:1: unknown option \"memory_budget\"")));
  testing::WriteFileOrDie(path, "tail:\n  - env: nosuch\n    glob: /x\n");
  EXPECT_THAT(Parse({"--config", path}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("environment \"nosuch\" is not configured")));
  EXPECT_THAT(Parse({"--config", dir.Sub("missing.yaml")}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.yaml")));
}

TEST(ConfigTest, PrintConfigReadsBackToTheSameConfig) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs p,
                       Parse({"--data", "/d x", "--environment", "prod=/p", "--environment", "dev",
                              "--tail", "prod/c1=/l/*.log", "--webhook-body-limit", "3MiB",
                              "--durability", "buffered", "--rocksdb-log", "file"}));
  std::string yaml = PrintConfig(p.config);
  ServerConfig back;
  back.environments.clear();
  ASSERT_OK(ApplyYaml(yaml, "printed", &back));
  EXPECT_EQ(back.data_dir, "/d x");
  EXPECT_EQ(back.webhook_body_limit, 3u << 20);
  EXPECT_EQ(back.durability, "buffered");
  EXPECT_EQ(back.rocksdb_log, "file");
  ASSERT_EQ(back.environments.size(), 2u);
  EXPECT_EQ(back.environments[0].dir, "/p");
  ASSERT_EQ(back.tail_sources.size(), 1u);
  EXPECT_EQ(back.tail_sources[0], (TailSource{"prod", "c1", "/l/*.log"}));
  EXPECT_EQ(PrintConfig(back), yaml);
}

TEST(ConfigTest, AuditPoliciesPerEnvironmentSourceAndCluster) {
  testing::TempDir dir;
  std::string path = dir.Sub("kqd.yaml");
  testing::WriteFileOrDie(path,
                          "audit-policy: /p/default.yaml\n"
                          "audit-policies:\n"
                          "  - env: prod\n"
                          "    file: /p/prod.yaml\n"
                          "  - env: prod\n"
                          "    source: webhook\n"
                          "    cluster: edge\n"
                          "    file: /p/edge.yaml\n"
                          "  - env: dev\n"
                          "    source: import\n"
                          "    file: \"\"\n");
  ASSERT_OK_AND_ASSIGN(ParsedArgs p, Parse({"--config", path}));
  EXPECT_EQ(p.config.audit_policy, "/p/default.yaml");
  ASSERT_EQ(p.config.audit_policies.size(), 3u);
  EXPECT_EQ(p.config.audit_policies[0], (PolicyScope{"prod", "", "", "/p/prod.yaml", ""}));
  EXPECT_EQ(p.config.audit_policies[1],
            (PolicyScope{"prod", "webhook", "edge", "/p/edge.yaml", ""}));
  EXPECT_EQ(p.config.audit_policies[2], (PolicyScope{"dev", "import", "", "", ""}));
  EXPECT_EQ(p.config.audit_policies[1].origin, path + ":5:5");

  // Flags: ENV[/SOURCE[/CLUSTER]]=FILE, * for any source; they replace the file's list.
  ASSERT_OK_AND_ASSIGN(ParsedArgs f, Parse({"--config", path, "--audit-policies", "dev=/p/dev.yaml",
                                            "--audit-policies", "prod/*/c2=/p/c2.yaml",
                                            "--audit-policies", "prod/tail=/p/tail.yaml"}));
  ASSERT_EQ(f.config.audit_policies.size(), 3u);
  EXPECT_EQ(f.config.audit_policies[0], (PolicyScope{"dev", "", "", "/p/dev.yaml", ""}));
  EXPECT_EQ(f.config.audit_policies[1], (PolicyScope{"prod", "", "c2", "/p/c2.yaml", ""}));
  EXPECT_EQ(f.config.audit_policies[2], (PolicyScope{"prod", "tail", "", "/p/tail.yaml", ""}));

  std::string yaml = PrintConfig(p.config);
  ServerConfig back;
  ASSERT_OK(ApplyYaml(yaml, "printed", &back));
  EXPECT_EQ(back.audit_policies, p.config.audit_policies);
  EXPECT_EQ(back.audit_policy, "/p/default.yaml");
}

TEST(ConfigTest, BadAuditPoliciesAreRefused) {
  EXPECT_THAT(Parse({"--audit-policies", "staging=/p.yaml"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("audit-policies: environment \"staging\" is not configured")));
  EXPECT_THAT(Parse({"--audit-policies", "prod/kafka=/p.yaml"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("source \"kafka\" is not one of webhook, tail, grpc, import")));
  EXPECT_THAT(Parse({"--audit-policies", "prod/webhook"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected ENV[/SOURCE[/CLUSTER]]=FILE")));
  EXPECT_THAT(Parse({"--audit-policies", "prod/webhook=/a.yaml", "--audit-policies",
                     "prod/webhook=/b.yaml"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("listed twice")));
  testing::TempDir dir;
  std::string path = dir.Sub("bad.yaml");
  testing::WriteFileOrDie(path, "audit-policies:\n  - env: prod\n    sorce: tail\n    file: /x\n");
  EXPECT_THAT(Parse({"--config", path}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.yaml:3:5")));
  testing::WriteFileOrDie(path, "audit-policies:\n  - env: prod\n    source: tail\n");
  EXPECT_THAT(Parse({"--config", path}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing \"file\"")));
}

TEST(ConfigTest, HelpListsEveryOption) {
  std::string help = HelpText();
  for (const auto& o : Options()) {
    EXPECT_THAT(help, HasSubstr("--" + std::string(o.name))) << o.name;
    EXPECT_FALSE(o.description.empty()) << o.name;
  }
}

TEST(ConfigTest, Sizes) {
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_EQ(*ParseSize("2k"), 2048u);
  EXPECT_EQ(*ParseSize("3MiB"), 3u << 20);
  EXPECT_EQ(*ParseSize("1GB"), 1u << 30);
  EXPECT_FALSE(ParseSize("").ok());
  EXPECT_FALSE(ParseSize("MiB").ok());
  EXPECT_FALSE(ParseSize("99999999999999999999").ok());
  EXPECT_FALSE(ParseSize("20000000000T").ok());
  EXPECT_EQ(FormatSize(256u << 20), "256MiB");
  EXPECT_EQ(FormatSize(1000), "1000");
}

}  // namespace
}  // namespace kq::server
