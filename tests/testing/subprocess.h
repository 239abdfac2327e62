// Running the project's binaries from tests: one-shot commands with captured output, and
// long-running children (kqd) whose stderr can be watched for a line.
#ifndef KQ_TESTS_TESTING_SUBPROCESS_H_
#define KQ_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kq::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with `input` on stdin and `env` added to the environment; waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv, std::string_view input = "",
                         const std::map<std::string, std::string>& env = {});

// A child process with stdout and stderr captured to files in `log_dir` (kept for diagnosis).
// The destructor kills it (SIGKILL) if it is still running. Not thread-safe.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_dir,
               const std::map<std::string, std::string>& env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Polls stderr until a line containing `needle` appears; returns that line, or nullopt on
  // timeout or when the child exits first.
  std::optional<std::string> WaitForStderrLine(std::string_view needle,
                                               std::chrono::milliseconds timeout);
  std::string Stderr() const;
  std::string Stdout() const;
  void Signal(int sig);
  // Waits for exit; returns the exit code (128 + signal when killed).
  int Wait();
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string out_path_, err_path_;
};

}  // namespace kq::testing

#endif  // KQ_TESTS_TESTING_SUBPROCESS_H_
