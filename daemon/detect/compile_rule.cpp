// Second load pass, per rule: condition, exceptions, severity cases, output and suppress key.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detect/compiler.h"

namespace edi::detect {

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::optional<CmpOp> ParseComp(std::string_view s) {
  static const std::pair<std::string_view, CmpOp> kComps[] = {{"=", CmpOp::kEq},
                                                              {"!=", CmpOp::kNe},
                                                              {"<", CmpOp::kLt},
                                                              {"<=", CmpOp::kLe},
                                                              {">", CmpOp::kGt},
                                                              {">=", CmpOp::kGe},
                                                              {"in", CmpOp::kIn},
                                                              {"contains", CmpOp::kContains},
                                                              {"startswith", CmpOp::kStartsWith},
                                                              {"endswith", CmpOp::kEndsWith}};
  for (const auto& [name, op] : kComps) {
    if (name == s) return op;
  }
  return std::nullopt;
}

}  // namespace

std::shared_ptr<const RuleSet> Compiler::Run() {
  list_used_.assign(c_.lists.size(), false);
  CompileMacros();
  mark_used_ = true;
  std::vector<RuleInfo> infos;
  // Of the rules compiled, for the dispatch's warnings on their conditions: where the condition
  // was last written (an override's `append` or `replace`: the operator's file), else the rule.
  std::vector<Pos> positions;
  auto impl = std::make_unique<RuleSet::Impl>();
  for (const RuleDef& rule : c_.rules) {
    CompiledRule compiled;
    RuleInfo info;
    if (!CompileRule(rule, &compiled, &info) || rule.broken) continue;
    infos.push_back(std::move(info));
    positions.push_back(rule.condition.empty() ? rule.pos : rule.condition.back().pos);
    impl->rules.push_back(std::move(compiled));
  }
  mark_used_ = false;
  WarnUnused();
  if (issues_->has_errors()) return nullptr;
  BuildDispatch(impl.get(), infos, positions);
  return std::make_shared<const RuleSet>(std::move(infos), std::move(impl));
}

bool Compiler::CompileRule(const RuleDef& rule, CompiledRule* out, RuleInfo* info) {
  bool ok = true;
  std::vector<ParsedText> condition(rule.condition.size());
  for (size_t i = 0; i < rule.condition.size(); ++i) {
    ok = Parse(rule.condition[i], &condition[i]) && ok;
  }
  if (ok && !condition.empty()) {
    std::optional<uint32_t> root = CompileTexts(condition, &out->program);
    ok = root.has_value();
    out->condition = root.value_or(0);
  }
  ok = CompileExceptions(rule, out) && ok;
  out->severity = rule.severity;
  for (const SeverityCase& sc : rule.severity_cases) {
    std::vector<ParsedText> when(1);
    std::optional<uint32_t> root;
    if (Parse(sc.when, &when[0])) root = CompileTexts(when, &out->program);
    if (root) out->severity_cases.emplace_back(*root, sc.severity);
    ok = ok && root.has_value();
  }
  ok = CompileOutput(rule.output, &out->output) && ok;

  info->id = rule.id;
  info->desc = rule.desc;
  info->tags = rule.tags;
  info->enabled = rule.enabled;
  info->default_severity = rule.severity;
  info->file = rule.pos.file >= 0 ? files_[rule.pos.file].name : "";
  info->line = rule.pos.line;
  for (const Scalar& name : rule.suppress) {
    if (std::optional<FieldId> id = catalog_.Find(name.text)) {
      info->suppress.push_back(*id);
    } else {
      issues_->Add(LoadCode::kUnknownField, name.pos,
                   "rule " + Quote(rule.id) + " suppress: unknown field " + Quote(name.text));
      ok = false;
    }
  }
  return ok;
}

bool Compiler::CompileExceptions(const RuleDef& rule, CompiledRule* out) {
  bool ok = true;
  std::vector<uint32_t> tuples;
  for (const ExceptionDef& e : rule.exceptions) {
    std::string label = "rule " + Quote(rule.id) + " exception " + Quote(e.name);
    bool shape_ok = true;
    if (!e.comps.empty() && e.comps.size() != e.fields.size()) {
      issues_->Add(LoadCode::kBadException, e.pos,
                   label + ": " + std::to_string(e.fields.size()) + " fields but " +
                       std::to_string(e.comps.size()) + " comps");
      ok = false;
      continue;
    }
    std::vector<FieldId> ids;
    std::vector<CmpOp> ops;
    for (size_t i = 0; i < e.fields.size(); ++i) {
      std::optional<FieldId> id = catalog_.Find(e.fields[i].text);
      if (!id) {
        issues_->Add(LoadCode::kUnknownField, e.fields[i].pos,
                     label + ": unknown field " + Quote(e.fields[i].text));
        shape_ok = false;
        continue;
      }
      const Scalar* comp = e.comps.empty() ? nullptr : &e.comps[i];
      std::optional<CmpOp> op = comp ? ParseComp(comp->text) : CmpOp::kEq;
      if (!op) {
        issues_->Add(LoadCode::kBadException, comp->pos,
                     label + ": unknown comp " + Quote(comp->text) +
                         " (= != < <= > >= in contains startswith endswith)");
        shape_ok = false;
        continue;
      }
      if (auto why = TypeCheck(catalog_.def(*id), *op)) {
        issues_->Add(LoadCode::kTypeMismatch, comp ? comp->pos : e.fields[i].pos,
                     label + ": " + *why);
        shape_ok = false;
        continue;
      }
      ids.push_back(*id);
      ops.push_back(*op);
    }
    if (!shape_ok) {
      ok = false;
      continue;
    }
    for (size_t t = 0; t < e.tuples.size(); ++t) {
      if (e.tuples[t].size() != ids.size()) {
        issues_->Add(LoadCode::kBadException, e.tuple_pos[t],
                     label + ": a tuple of " + std::to_string(e.tuples[t].size()) + " values for " +
                         std::to_string(ids.size()) + " fields");
        ok = false;
        continue;
      }
      uint32_t root = 0;
      if (CompileTuple(label, ids, ops, e.tuples[t], &out->program, &root)) {
        tuples.push_back(root);
      } else {
        ok = false;
      }
    }
  }
  if (ok && !tuples.empty()) {
    out->has_exceptions = true;
    out->exceptions = out->program.Group(NodeKind::kOr, tuples);
  }
  return ok;
}

bool Compiler::CompileTuple(const std::string& label, const std::vector<FieldId>& ids,
                            const std::vector<CmpOp>& ops, const std::vector<ExceptionValue>& tuple,
                            Program* p, uint32_t* root) {
  bool ok = true;
  std::vector<uint32_t> parts;
  for (size_t i = 0; i < ids.size(); ++i) {
    const FieldDef& def = catalog_.def(ids[i]);
    const ExceptionValue& v = tuple[i];
    if (ops[i] == CmpOp::kIn) {
      Literals values;
      if (v.is_list) {
        for (const Scalar& item : v.items) {
          Literal lit;
          if (auto why = ToLiteral(def, false, item.text, &lit)) {
            issues_->Add(LoadCode::kTypeMismatch, item.pos, label + ": " + *why);
            ok = false;
            continue;
          }
          values.Add(def, std::move(lit));
        }
      } else if (auto list = c_.list_index.find(v.items[0].text); list != c_.list_index.end()) {
        ok = ListValues(c_.lists[list->second], def, &values) && ok;
      } else {
        issues_->Add(LoadCode::kUnknownList, v.pos,
                     label + ": comp 'in' takes a list of values or a list name; no list " +
                         Quote(v.items[0].text));
        ok = false;
        continue;
      }
      parts.push_back(EmitIn(p, ids[i], def, std::move(values)));
      continue;
    }
    if (v.is_list) {
      issues_->Add(LoadCode::kBadException, v.pos,
                   label + ": a list of values needs comp 'in' for " + Quote(def.name));
      ok = false;
      continue;
    }
    Literal lit;
    if (auto why = ToLiteral(def, false, v.items[0].text, &lit)) {
      issues_->Add(LoadCode::kTypeMismatch, v.pos, label + ": " + *why);
      ok = false;
      continue;
    }
    parts.push_back(EmitLiteral(p, ids[i], def, ops[i], std::move(lit)));
  }
  if (!ok || parts.empty()) return false;
  *root = p->Group(NodeKind::kAnd, parts);
  return true;
}

bool Compiler::CompileOutput(const SourceText& src, std::vector<OutputPart>* out) {
  const std::string& t = src.text;
  std::string literal;
  bool ok = true;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '%') {
      literal.push_back(t[i]);
      continue;
    }
    if (i + 1 < t.size() && t[i + 1] == '%') {
      literal.push_back('%');
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < t.size() && IsFieldNameChar(t[end])) ++end;
    while (end > i + 1 && t[end - 1] == '.') --end;  // a sentence's full stop
    if (end == i + 1) {
      literal.push_back('%');
      continue;
    }
    std::string name = t.substr(i + 1, end - i - 1);
    std::optional<FieldId> id = catalog_.Find(name);
    if (!id) {
      issues_->AddIn(LoadCode::kUnknownField, src, i, "unknown field " + Quote(name));
      ok = false;
    } else {
      if (!literal.empty()) out->push_back({std::move(literal), false, 0, FieldType::kString});
      literal.clear();
      out->push_back({"", true, *id, catalog_.def(*id).type});
    }
    i = end - 1;
  }
  if (!literal.empty()) out->push_back({std::move(literal), false, 0, FieldType::kString});
  return ok;
}

}  // namespace edi::detect
