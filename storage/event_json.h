// Writing an Event back as JSON text: equal (as JSON values, key order aside) to the JSON it
// was decoded from. Modelled fields come in Kubernetes' struct order, then unknown fields.
// Timestamps are written with their original text; raw bodies byte for byte. Attribution (env,
// cluster) is not part of the event JSON and is not written.
#ifndef KQ_STORAGE_EVENT_JSON_H_
#define KQ_STORAGE_EVENT_JSON_H_

#include <string>

#include "storage/event.h"

namespace kq::storage {

// Appends the event as one line of JSON (no trailing newline) to *out. With `type_meta` false,
// kind and apiVersion are left out (as in webhook EventList items).
void AppendEventJson(const Event& event, std::string* out, bool type_meta = true);
std::string EventToJson(const Event& event);

// Appends a UserInfo object ({"username":...}) to *out.
void AppendUserInfoJson(const UserInfo& user, std::string* out);
// Appends an ObjectReference object to *out.
void AppendObjectRefJson(const ObjectRef& ref, std::string* out);

}  // namespace kq::storage

#endif  // KQ_STORAGE_EVENT_JSON_H_
