// JSON string quoting for code that writes JSON text without a JSON library.
#ifndef KQ_COMMON_JSON_ESCAPE_H_
#define KQ_COMMON_JSON_ESCAPE_H_

#include <string>
#include <string_view>

namespace kq {

// Appends `s` as a quoted JSON string ("..." with \" \\ \n \uXXXX escapes) to `out`.
// `s` is taken as UTF-8 and copied byte for byte apart from the escapes.
void AppendJsonQuoted(std::string_view s, std::string* out);

// Returns `s` as a quoted JSON string.
std::string JsonQuote(std::string_view s);

}  // namespace kq

#endif  // KQ_COMMON_JSON_ESCAPE_H_
