#pragma once
// A stream's declared shape: typed fields addressed by slot.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/value.h"

namespace vigil {

struct FieldDef {
  std::string name;               // display name as written: "geo.country", "http-status"
  std::vector<std::string> path;  // JSON path components: {"geo","country"}
  Type type = Type::kNull;
};

// Immutable after construction by the binder. Slots are indices into `fields`.
class Schema {
 public:
  Schema() = default;
  explicit Schema(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  const std::vector<FieldDef>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  const FieldDef& field(int slot) const { return fields_[slot]; }

  // Adds a field and returns its slot. Returns -1 if the name is already present.
  int AddField(FieldDef f);
  // Slot of the field with this display name, or -1.
  int Find(std::string_view name) const;

 private:
  std::string name_;
  std::vector<FieldDef> fields_;
};

}  // namespace vigil
