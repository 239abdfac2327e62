// Logging to stderr, as text ("2026-11-26T15:00:00.000000Z INFO  message k=v") or as one JSON
// object per line. Thread-safe; lines from concurrent threads never interleave.
#ifndef KQ_COMMON_LOG_H_
#define KQ_COMMON_LOG_H_

#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace kq::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class Format { kText, kJson };

// Process-wide settings; call before starting threads.
void SetFormat(Format format);
void SetMinLevel(Level level);

void Write(Level level, std::string_view message);

template <typename... Args>
void Info(const Args&... args) {
  Write(Level::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void Warning(const Args&... args) {
  Write(Level::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void Error(const Args&... args) {
  Write(Level::kError, absl::StrCat(args...));
}
template <typename... Args>
void Debug(const Args&... args) {
  Write(Level::kDebug, absl::StrCat(args...));
}

}  // namespace kq::log

#endif  // KQ_COMMON_LOG_H_
