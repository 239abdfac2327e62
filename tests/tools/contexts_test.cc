#include "tools/kq/contexts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/kq/shell.h"

namespace kq::cli {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ContextsTest, MissingFileIsEmpty) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(ContextConfig config, LoadContexts(dir.Sub("none.yaml")));
  EXPECT_TRUE(config.contexts.empty());
  EXPECT_EQ(config.current, "");
}

TEST(ContextsTest, SaveThenLoadKeepsEveryField) {
  testing::TempDir dir;
  ContextConfig config;
  config.current = "dev";
  config.contexts.push_back({"prod", "kq.internal:9910", "", "prod", "/ca.pem", "", ""});
  config.contexts.push_back({"dev", "", "/data/kq \"x\"", "dev", "", "/c.pem", "/k.pem"});
  std::string path = dir.Sub("sub/config.yaml");
  ASSERT_OK(SaveContexts(path, config));
  ASSERT_OK_AND_ASSIGN(ContextConfig loaded, LoadContexts(path));
  EXPECT_EQ(loaded.current, "dev");
  ASSERT_EQ(loaded.contexts.size(), 2u);
  EXPECT_EQ(loaded.contexts[0].server, "kq.internal:9910");
  EXPECT_EQ(loaded.contexts[0].tls_ca, "/ca.pem");
  EXPECT_EQ(loaded.contexts[1].data, "/data/kq \"x\"");
  EXPECT_EQ(loaded.contexts[1].tls_key, "/k.pem");
  ASSERT_NE(loaded.Find("dev"), nullptr);
  EXPECT_EQ(loaded.Find("staging"), nullptr);
}

TEST(ContextsTest, MalformedFilesNameTheProblem) {
  testing::TempDir dir;
  std::string path = dir.Sub("config.yaml");
  testing::WriteFileOrDie(path, "contexts:\n  - name: a\n    server: x:1\n    data: /d\n");
  EXPECT_THAT(LoadContexts(path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exactly one of server")));
  testing::WriteFileOrDie(path, "contexts:\n  - name: a\n    sever: x:1\n");
  EXPECT_THAT(LoadContexts(path), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sever")));
  testing::WriteFileOrDie(path, "current-context: b\ncontexts:\n  - name: a\n    server: x:1\n");
  EXPECT_THAT(LoadContexts(path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not one of")));
}

TEST(ShellTest, StatementsContinueUntilComplete) {
  EXPECT_TRUE(IsCompleteStatement("events | take 10"));
  EXPECT_FALSE(IsCompleteStatement("events |"));
  EXPECT_FALSE(IsCompleteStatement("events | where verb in (\"get\","));
  EXPECT_FALSE(IsCompleteStatement("events | where user == \"a"));
  EXPECT_FALSE(IsCompleteStatement("events | where a == 1 and"));
  EXPECT_TRUE(IsCompleteStatement("events\n| where name == \"(\""));
}

}  // namespace
}  // namespace kq::cli
