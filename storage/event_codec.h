// Binary encodings of the parts of an Event that segments keep outside their own columns
// (docs/format.md: "Rest", "UserInfo", columns 66 and 67). Internal to the storage module.
// Pure functions; thread-safe.
#ifndef KQ_STORAGE_EVENT_CODEC_H_
#define KQ_STORAGE_EVENT_CODEC_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/event.h"

namespace kq::storage {

void EncodeAnnotations(const std::vector<std::pair<std::string, std::string>>& annotations,
                       std::string* out);
[[nodiscard]] bool DecodeAnnotations(std::string_view in,
                                     std::vector<std::pair<std::string, std::string>>* out);

void EncodeExtra(const std::vector<std::pair<std::string, std::vector<std::string>>>& extra,
                 std::string* out);
[[nodiscard]] bool DecodeExtra(std::string_view in,
                               std::vector<std::pair<std::string, std::vector<std::string>>>* out);

void EncodeUserInfo(const UserInfo& user, std::string* out);
[[nodiscard]] bool DecodeUserInfo(std::string_view in, UserInfo* out);

// What DecodeRest learned besides the fields it set.
struct RestInfo {
  bool object_ref_present = false;
  bool received_text_present = true;
};

// The Rest blob of one row: everything not held by another column. With `type_meta` false,
// kind and apiVersion are left out.
void EncodeRest(const Event& event, std::string* out, bool type_meta = true);

// Every field of `event` except kind and apiVersion (and env), as one byte string: equal for
// two events exactly when they are the same event (as the log backend and a webhook item of
// one request are). The dedupe hash is taken over it.
void EncodeIdentity(const Event& event, std::string* out);
// Sets kind, apiVersion, impersonatedUser, authenticationMetadata, objectRef uid /
// resourceVersion / unknown members, user unknown members, unknown members and
// non-canonical timestamp texts on *event.
[[nodiscard]] bool DecodeRest(std::string_view in, Event* event, RestInfo* info);

}  // namespace kq::storage

#endif  // KQ_STORAGE_EVENT_CODEC_H_
