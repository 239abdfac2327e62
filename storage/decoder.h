// Decoding audit events from JSON: one event, JSON lines (the log backend), or a request body
// (a webhook EventList, a single event, or JSON lines).
//
// Decoding is item by item: a bad item becomes a DecodeError (with its index, a reason a person
// understands and its raw bytes, for quarantine) and never stops its neighbours. Rejected:
// invalid JSON, invalid UTF-8, raw NUL bytes, truncated input, duplicate keys in the event and
// its modelled sub-objects, nesting deeper than DecodeOptions::max_depth, items larger than
// DecodeOptions::max_event_bytes, missing required fields and wrong types. Unknown fields are
// accepted and kept (see storage/event.h).
//
// A Decoder owns parser buffers that grow to the largest item seen; it is not thread-safe: use
// one per thread. The returned Events own their data.
#ifndef KQ_STORAGE_DECODER_H_
#define KQ_STORAGE_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "storage/event.h"

namespace kq::storage {

struct DecodeOptions {
  // Largest accepted event, in bytes of JSON. Default 16 MiB (real RequestResponse events of
  // large Lists reach several MiB).
  size_t max_event_bytes = 16u << 20;
  // Deepest accepted nesting of objects and arrays, counting the event itself as 1.
  int max_depth = 128;
  // Raw bytes kept in DecodeError::raw, at most. Default 1 MiB.
  size_t max_error_raw_bytes = 1u << 20;
};

struct DecodeError {
  // 0-based index of the item in an EventList, or 1-based line number for JSON lines.
  uint64_t index = 0;
  bool is_line = false;
  std::string reason;  // e.g. "line 3: missing required field \"auditID\""
  std::string raw;     // the item's bytes (truncated to max_error_raw_bytes)
};

class Decoder {
 public:
  explicit Decoder(DecodeOptions options = {});
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes one JSON object into *event (overwritten). InvalidArgument with the reason when the
  // text is not one acceptable event.
  [[nodiscard]] absl::Status DecodeEvent(std::string_view json, Event* event);

  // Decodes JSON lines: one event per line; blank lines are skipped; a final line without a
  // newline is decoded too. Appends to *events and *errors (DecodeError::index = line number).
  void DecodeLines(std::string_view text, std::vector<Event>* events,
                   std::vector<DecodeError>* errors);

  // DecodeLines a part at a time, into Events the caller reuses: decodes the lines at the
  // front of *text into events[0], events[1], ... (each overwritten; its buffers are reused,
  // so decoding into the same Events again allocates little) until every element of `events`
  // holds an event or *text is empty. Consumed lines leave *text; *line_number is the number
  // of the last line consumed (start at 0). Returns the events decoded; failed lines are
  // appended to *errors.
  size_t DecodeLinesInto(std::string_view* text, uint64_t* line_number, std::span<Event> events,
                         std::vector<DecodeError>* errors);

  // Decodes a webhook body: an EventList ({"items":[...]}, items with or without kind and
  // apiVersion; DecodeError::index = item index), else a single event or JSON lines. A body
  // that is not JSON at all gives one DecodeError for the whole body.
  void DecodeBody(std::string_view body, std::vector<Event>* events,
                  std::vector<DecodeError>* errors);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kq::storage

#endif  // KQ_STORAGE_DECODER_H_
