#include "server/tail_query.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace kq::server {

absl::Status CheckTailQuery(std::string_view query) {
  std::vector<std::string_view> stages;
  size_t start = 0;
  char quote = 0;
  for (size_t i = 0; i < query.size(); ++i) {
    char c = query[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '|') {
      stages.push_back(query.substr(start, i - start));
      start = i + 1;
    }
  }
  stages.push_back(query.substr(start));
  for (size_t i = 1; i < stages.size(); ++i) {
    std::string_view s = StdSv(absl::StripLeadingAsciiWhitespace(Sv(stages[i])));
    if (s.substr(0, 5) != "where" || (s.size() > 5 && !absl::ascii_isspace(s[5]))) {
      return absl::InvalidArgumentError(
          absl::StrCat("tail takes a source followed only by `where` stages; stage ", i + 1,
                       " is \"", Sv(s.substr(0, 40)), "\" (run it as a query instead)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kq::server
