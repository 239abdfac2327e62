// The kq shell driven through a pseudo-terminal, as a person would use it: completion,
// multi-line queries and persistent history.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "tests/e2e/e2e_util.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace kq {
namespace {

using ::testing::HasSubstr;

using testing::Bin;

// A child on the slave side of a pty; the test reads and writes the master side.
class PtyChild {
 public:
  PtyChild(std::vector<std::string> argv, const std::map<std::string, std::string>& env) {
    struct winsize ws {};
    ws.ws_row = 40;
    ws.ws_col = 160;
    pid_ = forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      setenv("TERM", "xterm", 1);
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~PtyChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) close(master_);
  }

  void Type(std::string_view keys) {
    ASSERT_EQ(write(master_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }

  // Reads until `needle` appears in everything read so far after `from`, or the timeout.
  bool WaitFor(std::string_view needle, size_t from = 0,
               std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (screen_.find(needle, from) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) return screen_.find(needle, from) != std::string::npos;
      screen_.append(buf, n);
    }
    return true;
  }

  // Waits up to 20 s for the child to exit (reading its output meanwhile so it never blocks
  // on a full pty); kills it after that. Returns its exit code, -1 if it had to be killed.
  int Wait() {
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
      }
      WaitFor("\x01never", 0, std::chrono::seconds(1));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& screen() const { return screen_; }

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  std::string screen_;
};

TEST(ShellPtyTest, CompletesRunsMultiLineQueriesAndKeepsHistory) {
  testing::TempDir dir;
  std::string data = dir.Sub("data"), events = dir.Sub("events.jsonl");
  ASSERT_EQ(
      testing::RunProcess({Bin("kq"), "gen", "--events", "300", "--seed", "3", "--output", events})
          .exit_code,
      0);
  ASSERT_EQ(testing::RunProcess({Bin("kq"), "--data", data, "import", events}).exit_code, 0);
  std::string history = dir.Sub("history");
  std::map<std::string, std::string> env = {{"KQ_HISTORY", history},
                                            {"KQ_CONFIG", dir.Sub("config.yaml")}};
  {
    PtyChild shell({Bin("kq"), "--data", data}, env);
    ASSERT_TRUE(shell.WaitFor("kq:prod> ")) << shell.screen();
    // Tab completes a keyword ("summ" -> "summarize") and a namespace seen in the data
    // ("kube-sys -> "kube-system"). Without both the query would not parse or match; with
    // them it prints strlen("kube-system") * 1000.
    shell.Type("events | summ\t");
    shell.Type(" n = count() by ns | where ns == \"kube-sys\t");
    shell.Type(" | extend marker = strlen(ns) * 1000\r");
    ASSERT_TRUE(shell.WaitFor("11000")) << shell.screen();
    size_t mark = shell.screen().size();
    // A line ending in a pipe continues on the next line.
    shell.Type("events |\r");
    ASSERT_TRUE(shell.WaitFor("...> ", mark)) << shell.screen();
    shell.Type("count\r");
    ASSERT_TRUE(shell.WaitFor("300", mark)) << shell.screen();
    shell.Type(".quit\r");
    EXPECT_EQ(shell.Wait(), 0);
  }
  std::string saved = testing::ReadFileOrDie(history);
  EXPECT_THAT(saved, HasSubstr("summarize"));
  EXPECT_THAT(saved, HasSubstr("count"));
  {
    // The next session starts with that history: Up recalls the last query.
    PtyChild shell({Bin("kq"), "--data", data}, env);
    ASSERT_TRUE(shell.WaitFor("kq:prod> ")) << shell.screen();
    size_t mark = shell.screen().size();
    shell.Type("\x1b[A\r");
    ASSERT_TRUE(shell.WaitFor("300", mark)) << shell.screen();
    shell.Type(".quit\r");
    EXPECT_EQ(shell.Wait(), 0);
  }
}

}  // namespace
}  // namespace kq
