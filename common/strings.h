// String glue between std::string_view and abseil.
//
// Debian 12's abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so absl::string_view is
// its own type and absl::StrCat / absl::Status do not accept std::string_view. kq code uses
// std::string_view; wrap it with Sv() where it meets abseil: absl::StrCat("x", Sv(name)).
#ifndef KQ_COMMON_STRINGS_H_
#define KQ_COMMON_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace kq {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view StdSv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace kq

#endif  // KQ_COMMON_STRINGS_H_
