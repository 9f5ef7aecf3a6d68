// First load pass: reads rule files item by item into a Collection, applying overrides.
// Rule items are handled in collect_rule.cpp.

#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/yaml_document.h"
#include "detect/condition.h"
#include "detect/rule_file.h"

namespace edi::detect {

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

void ItemReader::Report(LoadCode code, const Pos& pos, const std::string& message) const {
  issues_->Add(code, pos, label_.empty() ? message : label_ + ": " + message);
}

Pos ItemReader::pos() const {
  YAML::Mark m = item_.Mark();
  if (m.is_null() || m.line < 0) return {file_, 0, 0};
  return {file_, m.line + 1, m.column + 1};
}

Pos ItemReader::PosOf(const YAML::Node& node) const {
  YAML::Mark m = node.Mark();
  if (m.is_null() || m.line < 0) return pos();
  return {file_, m.line + 1, m.column + 1};
}

bool ItemReader::Has(std::string_view key) const { return item_[std::string(key)].IsDefined(); }

bool ItemReader::Text(std::string_view key, bool required, Scalar* out) const {
  YAML::Node v = item_[std::string(key)];
  if (!v.IsDefined()) {
    if (required) Report(LoadCode::kMissingKey, pos(), "missing key " + Quote(key));
    return false;
  }
  if (!v.IsScalar()) {
    Report(LoadCode::kBadValue, PosOf(v), Quote(key) + " must be a single value");
    return false;
  }
  *out = {v.Scalar(), PosOf(v)};
  return true;
}

bool ItemReader::Bool(std::string_view key, bool* out) const {
  Scalar s;
  if (!Text(key, false, &s)) return false;
  if (s.text != "true" && s.text != "false") {
    Report(LoadCode::kBadValue, s.pos, Quote(key) + " must be true or false");
    return false;
  }
  *out = s.text == "true";
  return true;
}

bool ItemReader::ScalarList(const YAML::Node& node, std::string_view what,
                            std::vector<Scalar>* out) const {
  out->clear();
  if (node.IsNull()) return true;
  if (!node.IsSequence()) {
    Report(LoadCode::kBadValue, PosOf(node), std::string(what) + " must be a list");
    return false;
  }
  bool ok = true;
  for (const YAML::Node& e : node) {
    if (!e.IsScalar()) {
      Report(LoadCode::kBadValue, PosOf(e), std::string(what) + " must hold single values");
      ok = false;
      continue;
    }
    out->push_back({e.Scalar(), PosOf(e)});
  }
  return ok;
}

bool ItemReader::TextList(std::string_view key, bool allow_single, std::vector<Scalar>* out) const {
  YAML::Node v = item_[std::string(key)];
  if (!v.IsDefined()) return false;
  if (allow_single && v.IsScalar()) {
    *out = {{v.Scalar(), PosOf(v)}};
    return true;
  }
  return ScalarList(v, Quote(key), out);
}

bool ItemReader::Source(std::string_view key, std::string owner, SourceText* out) const {
  Scalar s;
  if (!Text(key, true, &s)) return false;
  *out = {std::move(owner), std::move(s.text), s.pos};
  return true;
}

void ItemReader::WarnUnknownKeys(const std::vector<std::string_view>& known) const {
  for (auto it = item_.begin(); it != item_.end(); ++it) {
    const std::string key = it->first.Scalar();
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (!found) {
      Report(LoadCode::kUnknownKey, PosOf(it->first), "unknown key " + Quote(key) + " (ignored)");
    }
  }
}

bool ItemReader::ReadOverride(std::string_view name_key, const std::vector<std::string_view>& known,
                              const std::vector<std::pair<std::string_view, bool>>& allowed,
                              Overrides* out) const {
  YAML::Node ov = item_["override"];
  if (!ov.IsMap()) {
    Report(LoadCode::kBadOverride, PosOf(ov),
           "'override' must map keys to append or replace, e.g. {condition: append}");
    return false;
  }
  bool ok = true;
  std::vector<std::string> named;
  for (auto it = ov.begin(); it != ov.end(); ++it) {
    const std::string key = it->first.Scalar();
    named.push_back(key);
    const YAML::Node mode = it->second;
    const std::pair<std::string_view, bool>* rule = nullptr;
    for (const auto& a : allowed) rule = a.first == key ? &a : rule;
    if (rule == nullptr) {
      Report(LoadCode::kBadOverride, PosOf(it->first), Quote(key) + " cannot be overridden");
      ok = false;
      continue;
    }
    std::string m = mode.IsScalar() ? mode.Scalar() : "";
    if (m == "replace" || (m == "append" && rule->second)) {
      (*out)[key] = m == "append" ? OverrideMode::kAppend : OverrideMode::kReplace;
    } else {
      Report(LoadCode::kBadOverride, PosOf(mode),
             "override of " + Quote(key) + " must be " +
                 (rule->second ? "append or replace" : "replace"));
      ok = false;
      continue;
    }
    if (!Has(key)) {
      Report(LoadCode::kBadOverride, PosOf(it->first),
             "override names " + Quote(key) + " but the item has no " + Quote(key));
      ok = false;
    }
  }
  for (auto it = item_.begin(); it != item_.end(); ++it) {
    const std::string key = it->first.Scalar();
    bool is_known = false;
    for (std::string_view k : known) is_known = is_known || k == key;
    bool is_named = false;
    for (const std::string& n : named) is_named = is_named || n == key;
    if (key == name_key || key == "override" || !is_known || is_named) continue;
    bool overridable = false;
    for (const auto& a : allowed) overridable = overridable || a.first == key;
    Report(LoadCode::kBadOverride, PosOf(it->first),
           overridable ? Quote(key) + " needs a mode in 'override' (append or replace)"
                       : Quote(key) + " cannot be overridden");
    ok = false;
  }
  return ok;
}

namespace {

bool CheckName(const ItemReader& item, const Scalar& name, std::string_view kind,
               const FieldCatalog& catalog) {
  if (!IsPlainName(name.text)) {
    item.Report(LoadCode::kBadName, name.pos,
                std::string(kind) + " name " + Quote(name.text) +
                    " must be one word of letters, digits and _ . : / @ + - *, and no keyword");
    return false;
  }
  if (catalog.Find(name.text)) {
    item.Report(LoadCode::kBadName, name.pos,
                std::string(kind) + " name " + Quote(name.text) + " is already a field");
    return false;
  }
  return true;
}

void CollectList(ItemReader& item, const FieldCatalog& catalog, Collection* c) {
  Scalar name;
  if (!item.Text("list", true, &name)) return;
  item.set_label("list " + Quote(name.text));
  const std::vector<std::string_view> known = {"list", "items", "override"};
  item.WarnUnknownKeys(known);
  Overrides ov;
  bool is_override = item.Has("override");
  if (is_override && !item.ReadOverride("list", known, {{"items", true}}, &ov)) return;
  std::vector<Scalar> items;
  if (!item.Has("items")) {
    item.Report(LoadCode::kMissingKey, item.pos(), "missing key 'items'");
    return;
  }
  if (!item.TextList("items", false, &items)) return;
  auto found = c->list_index.find(name.text);
  if (is_override) {
    if (found == c->list_index.end()) {
      item.Report(LoadCode::kOverrideUnknownList, item.pos(),
                  "overrides a list not defined before");
      return;
    }
    ListDef& list = c->lists[found->second];
    if (ov["items"] == OverrideMode::kReplace) list.items.clear();
    list.items.insert(list.items.end(), items.begin(), items.end());
    return;
  }
  if (found != c->list_index.end()) {
    item.Report(LoadCode::kDuplicateList, item.pos(),
                "already defined at " + item.issues()->Where(c->lists[found->second].pos) +
                    "; to change it add override: {items: append} or {items: replace}");
    return;
  }
  if (!CheckName(item, name, "list", catalog)) return;
  c->list_index.emplace(name.text, c->lists.size());
  c->lists.push_back({name.text, item.pos(), std::move(items)});
}

void CollectMacro(ItemReader& item, const FieldCatalog& catalog, Collection* c) {
  Scalar name;
  if (!item.Text("macro", true, &name)) return;
  item.set_label("macro " + Quote(name.text));
  const std::vector<std::string_view> known = {"macro", "condition", "override"};
  item.WarnUnknownKeys(known);
  Overrides ov;
  bool is_override = item.Has("override");
  if (is_override && !item.ReadOverride("macro", known, {{"condition", true}}, &ov)) return;
  SourceText condition;
  if (!item.Source("condition", "macro " + Quote(name.text), &condition)) return;
  auto found = c->macro_index.find(name.text);
  if (is_override) {
    if (found == c->macro_index.end()) {
      item.Report(LoadCode::kOverrideUnknownMacro, item.pos(),
                  "overrides a macro not defined before");
      return;
    }
    MacroDef& macro = c->macros[found->second];
    if (ov["condition"] == OverrideMode::kReplace) {
      for (const SourceText& t : macro.condition) macro.replaced += t.text + "\n";
      macro.condition.clear();
    }
    macro.condition.push_back(std::move(condition));
    return;
  }
  if (found != c->macro_index.end()) {
    item.Report(LoadCode::kDuplicateMacro, item.pos(),
                "already defined at " + item.issues()->Where(c->macros[found->second].pos) +
                    "; to change it add override: {condition: append} or {condition: replace}");
    return;
  }
  if (!CheckName(item, name, "macro", catalog)) return;
  c->macro_index.emplace(name.text, c->macros.size());
  c->macros.push_back({name.text, item.pos(), {std::move(condition)}, {}});
}

// False when the file needs a newer engine: the rest of it is not read.
bool CheckEngineVersion(const ItemReader& item) {
  Scalar v;
  if (!item.Text("required_engine_version", true, &v)) return true;
  int version = 0;
  auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), version);
  if (ec != std::errc() || end != v.text.data() + v.text.size() || version < 0) {
    item.Report(LoadCode::kBadValue, v.pos, "required_engine_version must be a whole number");
    return true;
  }
  if (version > kEngineVersion) {
    item.Report(LoadCode::kEngineVersion, v.pos,
                "the file needs rule engine version " + v.text + "; this is version " +
                    std::to_string(kEngineVersion));
    return false;
  }
  return true;
}

// Returns false when the rest of the file must not be read.
bool CollectItem(int file, const YAML::Node& node, const FieldCatalog& catalog, Collection* c,
                 Issues* issues) {
  ItemReader item(file, node, issues);
  if (!node.IsMap()) {
    item.Report(LoadCode::kUnknownItem, item.pos(),
                "an item must be a map starting with rule, macro, list or "
                "required_engine_version");
    return true;
  }
  int kinds =
      item.Has("rule") + item.Has("macro") + item.Has("list") + item.Has("required_engine_version");
  if (kinds != 1) {
    item.Report(LoadCode::kUnknownItem, item.pos(),
                kinds == 0 ? "an item needs one of rule, macro, list or required_engine_version"
                           : "an item may define only one of rule, macro, list or "
                             "required_engine_version");
    return true;
  }
  if (item.Has("rule")) {
    CollectRule(item, c);
  } else if (item.Has("macro")) {
    CollectMacro(item, catalog, c);
  } else if (item.Has("list")) {
    CollectList(item, catalog, c);
  } else {
    item.WarnUnknownKeys({"required_engine_version"});
    return CheckEngineVersion(item);
  }
  return true;
}

}  // namespace

void CollectFile(int file, const SourceFile& source, const FieldCatalog& catalog, Collection* c,
                 Issues* issues) {
  YAML::Node doc;
  try {
    doc = LoadOneYamlDocument(source.text);
  } catch (const YAML::Exception& e) {
    Pos pos{file, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    issues->Add(LoadCode::kSyntax, pos, "invalid YAML: " + e.msg);
    return;
  }
  if (doc.IsNull()) return;
  if (!doc.IsSequence()) {
    ItemReader whole(file, doc, issues);
    issues->Add(LoadCode::kSyntax, whole.pos(),
                "a rule file is a YAML list of items (- rule: ..., - macro: ..., - list: ...)");
    return;
  }
  for (const YAML::Node& node : doc) {
    try {
      if (!CollectItem(file, node, catalog, c, issues)) return;
    } catch (const YAML::Exception& e) {
      // Accessors above avoid throwing conversions; this keeps a surprise from escaping.
      issues->Add(LoadCode::kSyntax, ItemReader(file, node, issues).pos(), e.what());
    }
  }
}

}  // namespace edi::detect
