#include "state/field.h"

namespace edi {

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kBool:
      return "bool";
    case FieldType::kInt:
      return "int";
    case FieldType::kString:
      return "string";
  }
  return "?";
}

FieldCatalog::FieldCatalog(std::vector<FieldDef> defs) : defs_(std::move(defs)) {
  for (size_t i = 0; i < defs_.size(); ++i) {
    by_name_.emplace(defs_[i].name, static_cast<FieldId>(i));
  }
}

std::optional<FieldId> FieldCatalog::Find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

}  // namespace edi
