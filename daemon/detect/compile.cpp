// Second load pass: resolves the names in conditions against the field catalog, macros and
// lists, checks types, and emits each rule's Program.

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "detect/compiler.h"

namespace edi::detect {

namespace {

bool TakesValue(const FieldDef& def, std::string_view text) {
  return def.values.empty() ||
         std::find(def.values.begin(), def.values.end(), text) != def.values.end();
}

std::string ValuesOf(const FieldDef& def) {
  std::string s;
  for (const std::string& v : def.values) s += (s.empty() ? "" : ", ") + v;
  return s;
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

bool IsOrdering(CmpOp op) {
  return op == CmpOp::kLt || op == CmpOp::kLe || op == CmpOp::kGt || op == CmpOp::kGe;
}

bool IsStringOp(CmpOp op) {
  return op == CmpOp::kContains || op == CmpOp::kStartsWith || op == CmpOp::kEndsWith;
}

}  // namespace

Compiler::Compiler(const Collection& c, const FieldCatalog& catalog,
                   const std::vector<SourceFile>& files, Issues* issues)
    : c_(c), catalog_(catalog), files_(files), issues_(issues) {
  for (const FieldDef& def : catalog.defs()) {
    size_t dot = def.name.find('.');
    if (dot != std::string::npos) field_prefixes_.insert(def.name.substr(0, dot + 1));
  }
}

bool Compiler::Parse(const SourceText& text, ParsedText* out) {
  ParseError error;
  out->src = &text;
  if (ParseCondition(text.text, &out->ast, &error)) return true;
  issues_->AddIn(LoadCode::kSyntax, text, error.offset, error.message);
  return false;
}

std::optional<std::string> Compiler::TypeCheck(const FieldDef& def, CmpOp op) const {
  if (IsOrdering(op) && def.type != FieldType::kInt) {
    return Quote(CmpOpName(op)) + " needs an int field; " + Quote(def.name) + " is " +
           std::string(FieldTypeName(def.type));
  }
  if (IsStringOp(op) && def.type != FieldType::kString) {
    return Quote(CmpOpName(op)) + " needs a string field; " + Quote(def.name) + " is " +
           std::string(FieldTypeName(def.type));
  }
  if (op == CmpOp::kIn && def.type == FieldType::kBool) {
    return "'in' needs an int or string field; " + Quote(def.name) + " is bool";
  }
  return std::nullopt;
}

std::optional<std::string> Compiler::ToLiteral(const FieldDef& def, bool quoted,
                                               std::string_view text, Literal* out) const {
  switch (def.type) {
    case FieldType::kString:
      out->s = std::string(text);
      return std::nullopt;
    case FieldType::kBool:
      if (!quoted && (text == "true" || text == "false")) {
        out->i = text == "true" ? 1 : 0;
        return std::nullopt;
      }
      return Quote(def.name) + " is bool and compares with true or false, not " + Quote(text);
    case FieldType::kInt: {
      const char* end = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(text.data(), end, out->i);
      if (!quoted && ec == std::errc() && ptr == end) return std::nullopt;
      return Quote(def.name) + " is int and compares with whole numbers, not " +
             (quoted ? "the text " : "") + Quote(text);
    }
  }
  return "unknown field type";
}

uint32_t Compiler::EmitLiteral(Program* p, FieldId id, const FieldDef& def, CmpOp op, Literal lit) {
  if (def.type == FieldType::kString) return p->StrLit(id, op, std::move(lit.s));
  Node n;
  n.kind = NodeKind::kIntLit;
  n.op = op;
  n.a = id;
  n.num = lit.i;
  return p->Add(n);
}

bool Compiler::ListValues(const ListDef& list, const FieldDef& def, Literals* out) {
  if (mark_used_) list_used_[c_.list_index.at(list.name)] = true;
  bool ok = true;
  for (const Scalar& item : list.items) {
    Literal lit;
    if (auto why = ToLiteral(def, false, item.text, &lit)) {
      issues_->Add(LoadCode::kTypeMismatch, item.pos, "list " + Quote(list.name) + ": " + *why);
      ok = false;
      continue;
    }
    if (def.type == FieldType::kString && !TakesValue(def, item.text)) {
      issues_->Add(LoadCode::kUnknownValue, item.pos,
                   "list " + Quote(list.name) + ": " + Quote(item.text) + " is no value of " +
                       Quote(def.name) + " (its values: " + ValuesOf(def) + ")");
    }
    out->Add(def, std::move(lit));
  }
  return ok;
}

uint32_t Compiler::EmitIn(Program* p, FieldId id, const FieldDef& def, Literals values) {
  if (def.type == FieldType::kInt) return p->IntIn(id, std::move(values.ints));
  return p->StrIn(id, std::move(values.strings));
}

std::optional<uint32_t> Compiler::CompileTexts(const std::vector<ParsedText>& texts, Program* p) {
  std::vector<uint32_t> roots;
  bool ok = true;
  for (const ParsedText& t : texts) {
    std::optional<uint32_t> r = CompileAst(t.ast, *t.src, p);
    if (r) roots.push_back(*r);
    ok = ok && r.has_value();
  }
  if (!ok || roots.empty()) return std::nullopt;
  return p->Group(NodeKind::kAnd, roots);
}

std::optional<uint32_t> Compiler::CompileAst(const Ast& a, const SourceText& src, Program* p) {
  switch (a.kind) {
    case Ast::Kind::kAnd:
    case Ast::Kind::kOr: {
      std::vector<uint32_t> kids;
      bool ok = true;
      for (const Ast& child : a.children) {
        std::optional<uint32_t> r = CompileAst(child, src, p);
        if (r) kids.push_back(*r);
        ok = ok && r.has_value();
      }
      if (!ok) return std::nullopt;
      return p->Group(a.kind == Ast::Kind::kAnd ? NodeKind::kAnd : NodeKind::kOr, kids);
    }
    case Ast::Kind::kNot: {
      std::optional<uint32_t> r = CompileAst(a.children[0], src, p);
      if (!r) return std::nullopt;
      return p->Not(*r);
    }
    case Ast::Kind::kRef:
      return CompileRef(a, src, p);
    case Ast::Kind::kCompare:
      return CompileCompare(a, src, p);
  }
  return std::nullopt;
}

std::optional<uint32_t> Compiler::CompileRef(const Ast& a, const SourceText& src, Program* p) {
  if (a.name == "true" || a.name == "false") return p->Const(a.name == "true");
  if (auto m = c_.macro_index.find(a.name); m != c_.macro_index.end()) {
    MacroState& macro = macros_[m->second];
    if (macro.on_stack) {
      issues_->AddIn(LoadCode::kMacroCycle, src, a.offset,
                     "macro " + Quote(a.name) + " is used inside its own definition");
      return std::nullopt;
    }
    if (!macro.ok) return std::nullopt;  // its errors are reported where it is defined
    macro.used = macro.used || mark_used_;
    macro.on_stack = true;
    std::optional<uint32_t> r = CompileTexts(macro.fragments, p);
    macro.on_stack = false;
    return r;
  }
  if (std::optional<FieldId> id = catalog_.Find(a.name)) {
    const FieldDef& def = catalog_.def(*id);
    if (def.type != FieldType::kBool) {
      issues_->AddIn(LoadCode::kTypeMismatch, src, a.offset,
                     Quote(a.name) + " is " + std::string(FieldTypeName(def.type)) +
                         "; only a bool field is a condition by itself (try " +
                         Quote(a.name + " exists") + ")");
      return std::nullopt;
    }
    Node n;
    n.kind = NodeKind::kBoolTrue;
    n.a = *id;
    return p->Add(n);
  }
  // Field names are dotted and macro names usually are not: name the likelier mistake.
  if (a.name.find('.') != std::string::npos) {
    issues_->AddIn(LoadCode::kUnknownField, src, a.offset, "unknown field " + Quote(a.name));
  } else {
    issues_->AddIn(LoadCode::kUnknownMacro, src, a.offset, "unknown macro " + Quote(a.name));
  }
  return std::nullopt;
}

void Compiler::WarnIfFieldLike(const SourceText& src, const Operand& rhs) {
  size_t dot = rhs.text.find('.');
  if (rhs.quoted || dot == std::string::npos) return;
  if (field_prefixes_.contains(rhs.text.substr(0, dot + 1))) {
    issues_->AddIn(
        LoadCode::kFieldLikeLiteral, src, rhs.offset,
        Quote(rhs.text) + " is no field, so it is compared as text; quote it if the text is meant");
  }
}

void Compiler::WarnIfNoValue(const SourceText& src, const FieldDef& def, const Operand& v,
                             bool in_set) {
  if (def.type != FieldType::kString || TakesValue(def, v.text)) return;
  issues_->AddIn(LoadCode::kUnknownValue, src, v.offset,
                 Quote(v.text) + " is no value of " + Quote(def.name) + " (its values: " +
                     ValuesOf(def) + ")" + (in_set && !v.quoted ? ", nor a list" : ""));
}

std::optional<uint32_t> Compiler::CompileCompare(const Ast& a, const SourceText& src, Program* p) {
  std::optional<FieldId> id = catalog_.Find(a.name);
  if (!id) {
    issues_->AddIn(LoadCode::kUnknownField, src, a.offset, "unknown field " + Quote(a.name));
    return std::nullopt;
  }
  const FieldDef& def = catalog_.def(*id);
  if (a.op == CmpOp::kExists) {
    Node n;
    n.kind = NodeKind::kExists;
    n.a = *id;
    return p->Add(n);
  }
  if (auto why = TypeCheck(def, a.op)) {
    issues_->AddIn(LoadCode::kTypeMismatch, src, a.op_offset, *why);
    return std::nullopt;
  }
  if (a.op == CmpOp::kIn) return CompileIn(a, src, *id, def, p);
  const Operand& rhs = a.operands[0];
  if (std::optional<FieldId> other = rhs.quoted ? std::nullopt : catalog_.Find(rhs.text)) {
    const FieldDef& odef = catalog_.def(*other);
    if (odef.type != def.type) {
      issues_->AddIn(LoadCode::kTypeMismatch, src, rhs.offset,
                     "cannot compare " + Quote(def.name) + " (" +
                         std::string(FieldTypeName(def.type)) + ") with " + Quote(odef.name) +
                         " (" + std::string(FieldTypeName(odef.type)) + ")");
      return std::nullopt;
    }
    Node n;
    n.kind = def.type == FieldType::kString ? NodeKind::kStrField : NodeKind::kIntField;
    n.op = a.op;
    n.a = *id;
    n.b = *other;
    return p->Add(n);
  }
  Literal lit;
  if (auto why = ToLiteral(def, rhs.quoted, rhs.text, &lit)) {
    issues_->AddIn(LoadCode::kTypeMismatch, src, rhs.offset, *why);
    return std::nullopt;
  }
  if (def.type == FieldType::kString) {
    WarnIfFieldLike(src, rhs);
    WarnIfNoValue(src, def, rhs, false);
  }
  return EmitLiteral(p, *id, def, a.op, std::move(lit));
}

std::optional<uint32_t> Compiler::CompileIn(const Ast& a, const SourceText& src, FieldId id,
                                            const FieldDef& def, Program* p) {
  Literals values;
  bool ok = true;
  for (const Operand& v : a.operands) {
    auto list = v.quoted ? c_.list_index.end() : c_.list_index.find(v.text);
    if (list != c_.list_index.end()) {
      ok = ListValues(c_.lists[list->second], def, &values) && ok;
      continue;
    }
    Literal lit;
    if (auto why = ToLiteral(def, v.quoted, v.text, &lit)) {
      bool maybe_list = !v.quoted && def.type == FieldType::kInt;
      issues_->AddIn(maybe_list ? LoadCode::kUnknownList : LoadCode::kTypeMismatch, src, v.offset,
                     maybe_list ? "no list " + Quote(v.text) + ", and " + *why : *why);
      ok = false;
      continue;
    }
    WarnIfNoValue(src, def, v, true);
    values.Add(def, std::move(lit));
  }
  if (!ok) return std::nullopt;
  return EmitIn(p, id, def, std::move(values));
}

void Compiler::CompileMacros() {
  macros_.resize(c_.macros.size());
  for (size_t i = 0; i < c_.macros.size(); ++i) {
    for (const SourceText& text : c_.macros[i].condition) {
      ParsedText parsed;
      macros_[i].ok = Parse(text, &parsed) && macros_[i].ok;
      macros_[i].fragments.push_back(std::move(parsed));
    }
  }
  // Compiled once on their own, so that errors in unused macros are reported too.
  for (size_t i = 0; i < c_.macros.size(); ++i) {
    if (!macros_[i].ok) continue;
    Program scratch;
    macros_[i].on_stack = true;
    macros_[i].ok = CompileTexts(macros_[i].fragments, &scratch).has_value();
    macros_[i].on_stack = false;
  }
}

namespace {

// Whether `name` occurs in `text` as a word of its own (not within a longer name).
bool NamesWord(std::string_view text, std::string_view name) {
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    const size_t end = at + name.size();
    if ((at == 0 || !IsFieldNameChar(text[at - 1])) &&
        (end == text.size() || !IsFieldNameChar(text[end]))) {
      return true;
    }
  }
  return false;
}

}  // namespace

void Compiler::WarnUnused() {
  // A list or macro that a condition an override replaced used was used where it was defined:
  // its file is not to be edited for the override's sake.
  std::string replaced;
  for (const RuleDef& r : c_.rules) replaced += r.replaced;
  for (const MacroDef& m : c_.macros) replaced += m.replaced;
  for (size_t i = 0; i < c_.lists.size(); ++i) {
    if (!list_used_[i] && !NamesWord(replaced, c_.lists[i].name)) {
      issues_->Add(LoadCode::kUnusedList, c_.lists[i].pos,
                   "list " + Quote(c_.lists[i].name) + " is not used by any rule");
    }
  }
  for (size_t i = 0; i < c_.macros.size(); ++i) {
    if (!macros_[i].used && !NamesWord(replaced, c_.macros[i].name)) {
      issues_->Add(LoadCode::kUnusedMacro, c_.macros[i].pos,
                   "macro " + Quote(c_.macros[i].name) + " is not used by any rule");
    }
  }
  for (const RuleDef& r : c_.rules) {
    if (r.defined_disabled && !r.enabled) {
      issues_->Add(
          LoadCode::kRuleNeverEnabled, r.pos,
          "rule " + Quote(r.id) + " is defined with enabled: false and no later file enables it");
    }
  }
}

std::shared_ptr<const RuleSet> CompileRules(const Collection& collection,
                                            const FieldCatalog& catalog,
                                            const std::vector<SourceFile>& files, Issues* issues) {
  Compiler compiler(collection, catalog, files, issues);
  return compiler.Run();
}

}  // namespace edi::detect
