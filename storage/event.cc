#include "storage/event.h"

namespace kq::storage {
namespace {
const std::string kEmpty;
}  // namespace

const std::string& Event::Namespace() const {
  return object_ref.has_value() && object_ref->ns.has_value() ? *object_ref->ns : kEmpty;
}

const std::string& Event::Name() const {
  return object_ref.has_value() && object_ref->name.has_value() ? *object_ref->name : kEmpty;
}

const std::string& Event::Resource() const {
  return object_ref.has_value() && object_ref->resource.has_value() ? *object_ref->resource
                                                                    : kEmpty;
}

const std::string* Event::Annotation(std::string_view key) const {
  if (!annotations.has_value()) return nullptr;
  for (const auto& [k, v] : *annotations) {
    if (k == key) return &v;
  }
  return nullptr;
}

}  // namespace kq::storage
