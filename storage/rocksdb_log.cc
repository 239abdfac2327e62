// RocksDB's messages in kq's log (StoreOptions::rocksdb_log_file off): warnings and errors only.
#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "storage/environment_impl.h"

namespace kq::storage {
namespace {

// Warnings RocksDB 7.8 gives in kq's normal operation, dropped: index files ingested by
// IngestAuditIdRuns (audit_index.cc) carry no SST unique ID for RocksDB to verify. (RocksDB
// prefixes formats with "[%s:LINE] ".)
bool Expected(std::string_view format) {
  return format.find("At least one SST file opened without unique ID to verify") !=
         std::string_view::npos;
}

// Forwards WARN and more severe messages to kq::log, prefixed with the environment, except the
// Expected ones; drops the rest (flush and compaction chatter, option dumps), so no LOG file
// grows in the data directory. Messages are cut at 1,023 bytes.
class KqRocksDbLogger : public rocksdb::Logger {
 public:
  explicit KqRocksDbLogger(std::string env)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), env_(std::move(env)) {}

  void Logv(const char* /*format*/, va_list /*ap*/) override {}  // INFO: dropped

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < rocksdb::InfoLogLevel::WARN_LEVEL || level == rocksdb::InfoLogLevel::HEADER_LEVEL ||
        Expected(format)) {
      return;
    }
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof(buf), format, ap);
    if (n < 0) return;
    log::Write(
        level == rocksdb::InfoLogLevel::WARN_LEVEL ? log::Level::kWarning : log::Level::kError,
        absl::StrCat("rocksdb (environment ", env_, "): ", buf));
  }

 private:
  const std::string env_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewKqRocksDbLogger(std::string env) {
  return std::make_shared<KqRocksDbLogger>(std::move(env));
}

}  // namespace kq::storage
