// Internal to detect/ (the contract is rules.h): the second load pass, which turns a
// Collection into a RuleSet. compile.cpp holds the condition compiler, compile_rule.cpp the
// per-rule parts (exceptions, severity, output, suppress), dispatch.cpp the dispatch buckets.
//
// Macros are parsed once and inlined into every condition that uses them, so each rule's
// Program is self-contained. Errors in a macro or list are reported at the macro or list, once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "detect/condition.h"
#include "detect/rule_file.h"

namespace edi::detect {

struct Literal {
  int64_t i = 0;  // int, or bool as 0/1
  std::string s;
};

struct Literals {
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  void Add(const FieldDef& def, Literal lit) {
    if (def.type == FieldType::kString) {
      strings.push_back(std::move(lit.s));
    } else {
      ints.push_back(lit.i);
    }
  }
};

// A character of a field, list or macro name.
inline bool IsFieldNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

class Compiler {
 public:
  Compiler(const Collection& c, const FieldCatalog& catalog, const std::vector<SourceFile>& files,
           Issues* issues);
  // Returns nullptr when any error has been reported (by this pass or the first).
  std::shared_ptr<const RuleSet> Run();

 private:
  struct ParsedText {
    const SourceText* src = nullptr;
    Ast ast;
  };
  struct MacroState {
    std::vector<ParsedText> fragments;
    bool ok = true;
    bool on_stack = false;  // being inlined: a reference to it now is a cycle
    bool used = false;      // inlined into some rule
  };

  bool Parse(const SourceText& text, ParsedText* out);
  // Compiles `texts` AND-ed together; nullopt when an error was reported.
  std::optional<uint32_t> CompileTexts(const std::vector<ParsedText>& texts, Program* p);
  std::optional<uint32_t> CompileAst(const Ast& a, const SourceText& src, Program* p);
  std::optional<uint32_t> CompileRef(const Ast& a, const SourceText& src, Program* p);
  std::optional<uint32_t> CompileCompare(const Ast& a, const SourceText& src, Program* p);
  std::optional<uint32_t> CompileIn(const Ast& a, const SourceText& src, FieldId id,
                                    const FieldDef& def, Program* p);
  void WarnIfFieldLike(const SourceText& src, const Operand& rhs);
  // A text literal a field with a closed set of values never takes (see FieldDef::values).
  // `in_set`: an operand of `in (...)`, where an unquoted word could have named a list.
  void WarnIfNoValue(const SourceText& src, const FieldDef& def, const Operand& v, bool in_set);

  // Why `op` cannot apply to `def`, or nullopt.
  std::optional<std::string> TypeCheck(const FieldDef& def, CmpOp op) const;
  // Converts a value written in a rule to `def`'s type; returns why not, or nullopt.
  std::optional<std::string> ToLiteral(const FieldDef& def, bool quoted, std::string_view text,
                                       Literal* out) const;
  uint32_t EmitLiteral(Program* p, FieldId id, const FieldDef& def, CmpOp op, Literal lit);
  uint32_t EmitIn(Program* p, FieldId id, const FieldDef& def, Literals values);
  // Adds `list`'s items converted to `def`'s type; false when one does not convert.
  bool ListValues(const ListDef& list, const FieldDef& def, Literals* out);

  void CompileMacros();
  bool CompileRule(const RuleDef& rule, CompiledRule* out, RuleInfo* info);
  bool CompileExceptions(const RuleDef& rule, CompiledRule* out);
  bool CompileTuple(const std::string& label, const std::vector<FieldId>& ids,
                    const std::vector<CmpOp>& ops, const std::vector<ExceptionValue>& tuple,
                    Program* p, uint32_t* root);
  bool CompileOutput(const SourceText& src, std::vector<OutputPart>* out);
  // Fills impl->dispatch and impl->buckets (condition.h) for the enabled rules.
  void BuildDispatch(RuleSet::Impl* impl, const std::vector<RuleInfo>& infos,
                     const std::vector<Pos>& positions) const;
  void WarnUnused();

  const Collection& c_;
  const FieldCatalog& catalog_;
  const std::vector<SourceFile>& files_;
  Issues* issues_;
  std::vector<MacroState> macros_;
  std::vector<bool> list_used_;
  bool mark_used_ = false;                          // compiling a rule (not a macro on its own)
  std::unordered_set<std::string> field_prefixes_;  // "evt.", "party.", ...
};

}  // namespace edi::detect
