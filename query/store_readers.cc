#include "query/store_readers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"

namespace kq::query {

absl::StatusOr<std::unique_ptr<storage::Reader>> StoreReaders::Open(std::string_view env) {
  storage::Environment* e = store_->Find(env);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrCat("no environment '", Sv(env), "' (configured: ",
                                            absl::StrJoin(store_->EnvironmentNames(), ", "), ")"));
  }
  return e->NewReader();
}

}  // namespace kq::query
