// Byte coding for keys and values: fixed-width big-endian integers (which sort as their
// values when compared as bytes) and LEB128 varints.
#ifndef KQ_COMMON_CODING_H_
#define KQ_COMMON_CODING_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace kq {

// Appends `v` as 8 big-endian bytes.
void PutFixed64BE(std::string* out, uint64_t v);
// Appends `v` as 4 big-endian bytes.
void PutFixed32BE(std::string* out, uint32_t v);
// Reads 8 (4) big-endian bytes from the front of `in` and advances it; false if too short.
bool GetFixed64BE(std::string_view* in, uint64_t* v);
bool GetFixed32BE(std::string_view* in, uint32_t* v);

// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
void PutVarint64(std::string* out, uint64_t v);
// Reads a varint from the front of `in` and advances it; false if truncated or too long.
bool GetVarint64(std::string_view* in, uint64_t* v);

// Zig-zag maps signed to unsigned so small magnitudes give small varints.
inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Appends a varint length followed by the bytes of `s`.
void PutLengthPrefixed(std::string* out, std::string_view s);
// Reads what PutLengthPrefixed wrote; `s` points into the input. False if truncated.
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);

}  // namespace kq

#endif  // KQ_COMMON_CODING_H_
