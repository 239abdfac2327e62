// Reading what a store holds back in server tests, with the storage library only (independent
// of the query engine).
#ifndef KQ_TESTS_SERVER_STORED_IDS_H_
#define KQ_TESTS_SERVER_STORED_IDS_H_

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "storage/store.h"
#include "tests/testing/status_matchers.h"

namespace kq::testing {

// auditID -> how many times `env` holds it.
inline std::map<std::string, int> StoredIdCounts(storage::Environment* env) {
  std::map<std::string, int> ids;
  auto reader = env->NewReader();
  EXPECT_OK(reader->Scan(
      storage::ScanRange{},
      [&](const storage::EventBatch& b) -> absl::StatusOr<bool> {
        const auto& col = b.Strings(storage::Column::kAuditId);
        for (uint32_t c : col.codes) ids[std::string(col.dict[c])]++;
        return true;
      },
      nullptr));
  return ids;
}

}  // namespace kq::testing

#endif  // KQ_TESTS_SERVER_STORED_IDS_H_
