// Fields: the named, typed facts of one (event, party) pair that rule conditions are written
// over, e.g. `evt.action`, `party.owner`, `msg.downloaded_by_client`.
//
// The state stage defines the catalog of fields and produces a FieldSource per (event, party);
// the rule engine resolves field names to ids once, at load, and reads values by id per event.
// A FieldCatalog is immutable after construction and safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace edi {

enum class FieldType : uint8_t { kBool, kInt, kString };
std::string_view FieldTypeName(FieldType t);  // "bool", "int", "string"

using FieldId = uint16_t;

struct FieldDef {
  std::string name;  // "party.owner"
  FieldType type = FieldType::kString;
  std::string meaning;  // one line, shown by `edi-audit fields`
  // Every value a string field can take, when that set is closed (evt.action); else empty.
  std::vector<std::string> values;
};

// The value of a field for one (event, party). `present` is false when the fact does not exist
// for this event (no owner, custody unknown, ...): every comparison with an absent value is
// false, and `exists` tests for presence. String views stay valid until the source changes.
struct FieldValue {
  bool present = false;
  FieldType type = FieldType::kString;
  int64_t i = 0;  // kInt, and kBool as 0/1
  std::string_view s;

  static FieldValue Absent() { return {}; }
  static FieldValue Bool(bool b) { return {true, FieldType::kBool, b ? 1 : 0, {}}; }
  static FieldValue Int(int64_t v) { return {true, FieldType::kInt, v, {}}; }
  static FieldValue Str(std::string_view v) { return {true, FieldType::kString, 0, v}; }
};

class FieldCatalog {
 public:
  explicit FieldCatalog(std::vector<FieldDef> defs);

  // The id of `name`, or nullopt when there is no such field.
  std::optional<FieldId> Find(std::string_view name) const;
  const FieldDef& def(FieldId id) const { return defs_[id]; }
  const std::vector<FieldDef>& defs() const { return defs_; }
  size_t size() const { return defs_.size(); }

 private:
  std::vector<FieldDef> defs_;
  std::unordered_map<std::string, FieldId> by_name_;
};

// Read access to the field values of one (event, party) pair.
class FieldSource {
 public:
  virtual ~FieldSource() = default;
  virtual FieldValue Get(FieldId id) const = 0;
};

}  // namespace edi
