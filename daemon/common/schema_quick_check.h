// A quick check of parsed JSON against a JSON Schema, for the hot path.
//
// RapidJSON's schema validator allocates for every value it checks; on access-log records it
// costs more than the parse itself. SchemaQuickCheck compiles the same schema into a small tree
// and checks a parsed document against it without allocating. It answers one question only:
// "is this document certainly valid?" A yes is exact: every document it accepts is accepted by
// the full validator. A no means "ask the full validator", which then gives the verdict and the
// precise reason; the quick check never explains anything.
//
// Supported keywords (draft-04): type, enum (strings, integers, booleans, null), required,
// properties, additionalProperties (true or absent), items (one schema), minLength, maxLength,
// minimum, maximum, pattern (anchored sequences of literals and character classes with counts:
// "^[0-9]{9}$"), $ref to "#/definitions/...". Annotations (title, description, $schema, id,
// definitions, default, examples) are ignored. Any other keyword, or a pattern outside that
// shape, makes the schema node holding it answer "no" for every value, so the full validator
// checks it: the quick check may be slower on such a schema, never wrong.
//
// Thread-safety: immutable after Compile; share it between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace edi {

class SchemaQuickCheck {
 public:
  // Compiles `schema` (the schema's JSON). Never fails: what it cannot check is left to the
  // full validator.
  static std::unique_ptr<const SchemaQuickCheck> Compile(const rapidjson::Value& schema);
  ~SchemaQuickCheck();

  // True if `doc` is certainly valid; false if the full validator must decide.
  bool CertainlyValid(const rapidjson::Value& doc) const;

  // How many schema nodes answer "no" for every value (unsupported keywords or patterns);
  // 0 for the shipped access-log schema. For tests and diagnostics.
  int unsupported_nodes() const { return unsupported_; }

  struct Node;

 private:
  SchemaQuickCheck() = default;
  std::vector<std::unique_ptr<Node>> nodes_;  // nodes_[0] is the root
  int unsupported_ = 0;
  friend class SchemaQuickCheckCompiler;
};

}  // namespace edi
