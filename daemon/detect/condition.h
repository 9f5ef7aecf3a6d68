// Internal to detect/ (the contract is rules.h): the parsed form of a condition, and the
// compiled program the rule set evaluates.
//
// A condition is parsed into an untyped Ast that still holds names; the compiler (compile.cpp)
// resolves the names against the catalog, macros and lists and emits typed Nodes into a
// Program. A Program is immutable once built and safe to evaluate from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detect/rules.h"
#include "state/field.h"

namespace edi::detect {

enum class CmpOp : uint8_t {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kContains,
  kStartsWith,
  kEndsWith,
  kExists,
};
std::string_view CmpOpName(CmpOp op);  // "=", "in", ...

// A value on the right of an operator, as written.
struct Operand {
  bool quoted = false;  // 'text' or "text" rather than a bare word
  std::string text;     // without the quotes
  size_t offset = 0;    // where it starts in the condition text
};

struct Ast {
  enum class Kind : uint8_t { kAnd, kOr, kNot, kRef, kCompare };
  Kind kind = Kind::kRef;
  size_t offset = 0;  // start of the word or keyword that opens this node
  std::string name;   // kRef: the word; kCompare: the field on the left
  CmpOp op = CmpOp::kEq;
  size_t op_offset = 0;           // kCompare: where the operator is
  std::vector<Operand> operands;  // kCompare: none for exists, several for in, else one
  std::vector<Ast> children;      // kAnd / kOr: two or more; kNot: one
};

struct ParseError {
  size_t offset = 0;
  std::string message;
};

// True when `name` can be written as one word in a condition and is not a keyword (nor
// `true`/`false`): the test for list and macro names.
bool IsPlainName(std::string_view name);

// Parses one condition. Returns false and fills *error on a syntax error.
bool ParseCondition(std::string_view text, Ast* out, ParseError* error);

enum class NodeKind : uint8_t {
  kConst,     // num != 0
  kAnd,       // kids [begin, end)
  kOr,        // kids [begin, end)
  kNot,       // begin is the child
  kBoolTrue,  // field a is present and true
  kExists,    // field a is present
  kIntLit,    // field a (int or bool as 0/1) op num
  kIntField,  // field a op field b
  kStrLit,    // field a op strings[aux]; op is = != contains startswith endswith
  kStrField,  // field a op field b
  kIntIn,     // field a in int_sets[aux] (sorted)
  kStrIn,     // field a in str_sets[aux] (sorted)
};

struct Node {
  NodeKind kind = NodeKind::kConst;
  CmpOp op = CmpOp::kEq;
  FieldId a = 0;
  FieldId b = 0;
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t aux = 0;
  int64_t num = 0;
};

// The compiled conditions of one rule: its condition, its exceptions and its severity cases
// share one node array and are evaluated from different roots.
struct Program {
  std::vector<Node> nodes;
  std::vector<uint32_t> kids;
  std::vector<std::string> strings;
  std::vector<std::vector<int64_t>> int_sets;
  std::vector<std::vector<std::string>> str_sets;

  bool Eval(uint32_t root, const FieldSource& fields) const;

  uint32_t Add(const Node& node);
  uint32_t Const(bool value);
  uint32_t Not(uint32_t child);
  // kAnd / kOr over `children`, splicing in children of the same kind; one child is returned
  // as is.
  uint32_t Group(NodeKind kind, const std::vector<uint32_t>& children);
  uint32_t IntIn(FieldId field, std::vector<int64_t> values);
  uint32_t StrIn(FieldId field, std::vector<std::string> values);
  uint32_t StrLit(FieldId field, CmpOp op, std::string value);
};

// One piece of an `output` template: literal text, or a field's value.
struct OutputPart {
  std::string text;
  bool is_field = false;
  FieldId field = 0;
  FieldType type = FieldType::kString;
};

// Renders an output template with the values of `fields` (absent: `<none>`).
std::string RenderOutput(const std::vector<OutputPart>& parts, const FieldSource& fields);

struct CompiledRule {
  Program program;
  uint32_t condition = 0;
  bool has_exceptions = false;
  uint32_t exceptions = 0;  // root of the OR of every exception tuple
  std::vector<std::pair<uint32_t, Severity>> severity_cases;  // first that holds wins
  Severity severity = Severity::kInfo;                        // when no case holds
  std::vector<OutputPart> output;
};

}  // namespace edi::detect

namespace edi {

// The compiled rules behind a RuleSet, parallel to RuleSet::rules().
//
// Dispatch (dispatch.cpp): a few fields that say what kind of call an event is (evt.trigger,
// evt.action, evt.success) are read once per evaluation, and their values pick a bucket that
// lists, in rule order, the enabled rules that can fire for them, each with its condition
// specialised to those values: a comparison on a dispatch field whose outcome the values decide
// is folded to a constant, and a rule whose condition folds to false is left out of the bucket.
// A field's slots are each value that some rule compares it with, then "present, another value"
// (only `=`, `!=`, `in` and `exists` fold there), then "absent" (every comparison is false); a
// bool field has the slots false, true, "present, neither 0 nor 1" and absent.
struct RuleSet::Impl {
  std::vector<detect::CompiledRule> rules;

  struct DispatchField {
    FieldId field = 0;
    bool is_bool = false;
    std::vector<std::string> values;  // strings: what rules compare the field with, sorted
    size_t slots() const { return (is_bool ? 2 : values.size()) + 2; }
    size_t Slot(const FieldValue& v) const;
  };
  struct Candidate {
    uint32_t rule = 0;  // into rules
    uint32_t root = 0;  // its condition specialised to the bucket's values
  };
  std::vector<DispatchField> dispatch;          // the bucket index is mixed-radix over these, first
                                                // field most significant
  std::vector<std::vector<Candidate>> buckets;  // empty only for the empty RuleSet
};

}  // namespace edi
