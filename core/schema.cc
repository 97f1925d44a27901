#include "core/schema.h"

namespace vigil {

int Schema::AddField(FieldDef f) {
  if (Find(f.name) >= 0) return -1;
  fields_.push_back(std::move(f));
  return static_cast<int>(fields_.size()) - 1;
}

int Schema::Find(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace vigil
