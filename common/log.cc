#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/json_escape.h"
#include "common/strings.h"
#include "common/time.h"

namespace kq::log {
namespace {

std::atomic<Format> g_format{Format::kText};
std::atomic<Level> g_min_level{Level::kInfo};
std::mutex g_mu;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarning:
      return "WARN";
    case Level::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

void SetFormat(Format format) { g_format = format; }
void SetMinLevel(Level level) { g_min_level = level; }

void Write(Level level, std::string_view message) {
  if (level < g_min_level.load()) return;
  std::string time = FormatTimestamp(Clock::Real()->Now());
  std::string line;
  if (g_format.load() == Format::kJson) {
    line = absl::StrCat("{\"time\":\"", time, "\",\"level\":\"", LevelName(level),
                        "\",\"msg\":", JsonQuote(message), "}\n");
  } else {
    line = absl::StrCat(time, " ", LevelName(level), " ", Sv(message), "\n");
  }
  std::lock_guard<std::mutex> lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace kq::log
