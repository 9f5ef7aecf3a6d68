// The hot path: evaluating compiled rules against one (event, party)'s fields.

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detect/condition.h"
#include "detect/rules.h"

namespace edi {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "?";
}

std::optional<Severity> ParseSeverity(std::string_view name) {
  for (Severity s :
       {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical}) {
    if (SeverityName(s) == name) return s;
  }
  return std::nullopt;
}

namespace detect {

namespace {

[[gnu::always_inline]] inline bool CompareInt(int64_t x, CmpOp op, int64_t y) {
  switch (op) {
    case CmpOp::kEq:
      return x == y;
    case CmpOp::kNe:
      return x != y;
    case CmpOp::kLt:
      return x < y;
    case CmpOp::kLe:
      return x <= y;
    case CmpOp::kGt:
      return x > y;
    case CmpOp::kGe:
      return x >= y;
    default:
      return false;
  }
}

[[gnu::always_inline]] inline bool CompareStr(std::string_view x, CmpOp op, std::string_view y) {
  switch (op) {
    case CmpOp::kEq:
      return x == y;
    case CmpOp::kNe:
      return x != y;
    case CmpOp::kContains:
      return x.find(y) != std::string_view::npos;
    case CmpOp::kStartsWith:
      return x.starts_with(y);
    case CmpOp::kEndsWith:
      return x.ends_with(y);
    default:
      return false;
  }
}

struct ViewLess {
  bool operator()(std::string_view x, std::string_view y) const { return x < y; }
};

// A leaf, or a constant; false for the other kinds. Inlined into Eval's loops, so that the
// common rule, a conjunction of comparisons, costs one call.
[[gnu::always_inline]] inline bool EvalLeaf(const Program& p, const Node& n,
                                            const FieldSource& fields) {
  switch (n.kind) {
    case NodeKind::kConst:
      return n.num != 0;
    case NodeKind::kBoolTrue: {
      FieldValue v = fields.Get(n.a);
      return v.present && v.i != 0;
    }
    case NodeKind::kExists:
      return fields.Get(n.a).present;
    case NodeKind::kIntLit: {
      FieldValue v = fields.Get(n.a);
      return v.present && CompareInt(v.i, n.op, n.num);
    }
    case NodeKind::kIntField: {
      FieldValue v = fields.Get(n.a);
      if (!v.present) return false;
      FieldValue w = fields.Get(n.b);
      return w.present && CompareInt(v.i, n.op, w.i);
    }
    case NodeKind::kStrLit: {
      FieldValue v = fields.Get(n.a);
      return v.present && CompareStr(v.s, n.op, p.strings[n.aux]);
    }
    case NodeKind::kStrField: {
      FieldValue v = fields.Get(n.a);
      if (!v.present) return false;
      FieldValue w = fields.Get(n.b);
      return w.present && CompareStr(v.s, n.op, w.s);
    }
    case NodeKind::kIntIn: {
      FieldValue v = fields.Get(n.a);
      const std::vector<int64_t>& set = p.int_sets[n.aux];
      return v.present && std::binary_search(set.begin(), set.end(), v.i);
    }
    case NodeKind::kStrIn: {
      FieldValue v = fields.Get(n.a);
      const std::vector<std::string>& set = p.str_sets[n.aux];
      return v.present && std::binary_search(set.begin(), set.end(), v.s, ViewLess());
    }
    default:
      return false;
  }
}

bool IsComposite(NodeKind k) {
  return k == NodeKind::kAnd || k == NodeKind::kOr || k == NodeKind::kNot;
}

}  // namespace

bool Program::Eval(uint32_t root, const FieldSource& fields) const {
  const Node& n = nodes[root];
  switch (n.kind) {
    case NodeKind::kAnd:
      for (uint32_t k = n.begin; k < n.end; ++k) {
        const Node& c = nodes[kids[k]];
        if (!(IsComposite(c.kind) ? Eval(kids[k], fields) : EvalLeaf(*this, c, fields))) {
          return false;
        }
      }
      return true;
    case NodeKind::kOr:
      for (uint32_t k = n.begin; k < n.end; ++k) {
        const Node& c = nodes[kids[k]];
        if (IsComposite(c.kind) ? Eval(kids[k], fields) : EvalLeaf(*this, c, fields)) return true;
      }
      return false;
    case NodeKind::kNot:
      return !Eval(n.begin, fields);
    default:
      return EvalLeaf(*this, n, fields);
  }
}

uint32_t Program::Add(const Node& node) {
  nodes.push_back(node);
  return static_cast<uint32_t>(nodes.size() - 1);
}

uint32_t Program::Const(bool value) {
  Node n;
  n.kind = NodeKind::kConst;
  n.num = value ? 1 : 0;
  return Add(n);
}

uint32_t Program::Not(uint32_t child) {
  Node n;
  n.kind = NodeKind::kNot;
  n.begin = child;
  return Add(n);
}

uint32_t Program::Group(NodeKind kind, const std::vector<uint32_t>& children) {
  if (children.size() == 1) return children[0];
  std::vector<uint32_t> flat;
  for (uint32_t c : children) {
    const Node& child = nodes[c];
    if (child.kind == kind) {
      flat.insert(flat.end(), kids.begin() + child.begin, kids.begin() + child.end);
    } else {
      flat.push_back(c);
    }
  }
  Node n;
  n.kind = kind;
  n.begin = static_cast<uint32_t>(kids.size());
  kids.insert(kids.end(), flat.begin(), flat.end());
  n.end = static_cast<uint32_t>(kids.size());
  return Add(n);
}

uint32_t Program::IntIn(FieldId field, std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  Node n;
  n.kind = NodeKind::kIntIn;
  n.a = field;
  n.aux = static_cast<uint32_t>(int_sets.size());
  int_sets.push_back(std::move(values));
  return Add(n);
}

uint32_t Program::StrIn(FieldId field, std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  Node n;
  n.kind = NodeKind::kStrIn;
  n.a = field;
  n.aux = static_cast<uint32_t>(str_sets.size());
  str_sets.push_back(std::move(values));
  return Add(n);
}

uint32_t Program::StrLit(FieldId field, CmpOp op, std::string value) {
  Node n;
  n.kind = NodeKind::kStrLit;
  n.op = op;
  n.a = field;
  n.aux = static_cast<uint32_t>(strings.size());
  strings.push_back(std::move(value));
  return Add(n);
}

std::string RenderOutput(const std::vector<OutputPart>& parts, const FieldSource& fields) {
  std::string out;
  for (const OutputPart& p : parts) {
    if (!p.is_field) {
      out += p.text;
      continue;
    }
    FieldValue v = fields.Get(p.field);
    if (!v.present) {
      out += "<none>";
    } else if (p.type == FieldType::kString) {
      out += v.s;
    } else if (p.type == FieldType::kBool) {
      out += v.i != 0 ? "true" : "false";
    } else {
      out += std::to_string(v.i);
    }
  }
  return out;
}

}  // namespace detect

RuleSet::RuleSet() : impl_(std::make_unique<const Impl>()) {}

RuleSet::RuleSet(std::vector<RuleInfo> rules, std::unique_ptr<const Impl> impl)
    : rules_(std::move(rules)), impl_(std::move(impl)) {}

RuleSet::~RuleSet() = default;

std::optional<uint32_t> RuleSet::Find(std::string_view id) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].id == id) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}

size_t RuleSet::Impl::DispatchField::Slot(const FieldValue& v) const {
  if (!v.present) return slots() - 1;
  if (is_bool) return v.i == 0 || v.i == 1 ? static_cast<size_t>(v.i) : 2;
  // A handful of short values: comparing lengths and first bytes rejects most without a call.
  const size_t n = v.s.size();
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& x = values[i];
    if (x.size() == n && (n == 0 || (x[0] == v.s[0] && std::memcmp(x.data(), v.s.data(), n) == 0)))
      return i;
  }
  return values.size();
}

void RuleSet::Evaluate(const FieldSource& fields, std::vector<RuleMatch>* out) const {
  const Impl& impl = *impl_;
  if (impl.buckets.empty()) return;
  size_t bucket = 0;
  for (const Impl::DispatchField& d : impl.dispatch) {
    bucket = bucket * d.slots() + d.Slot(fields.Get(d.field));
  }
  for (const Impl::Candidate& candidate : impl.buckets[bucket]) {
    const uint32_t index = candidate.rule;
    const detect::CompiledRule& rule = impl.rules[index];
    const detect::Program& program = rule.program;
    if (!program.Eval(candidate.root, fields)) continue;
    if (rule.has_exceptions && program.Eval(rule.exceptions, fields)) continue;
    RuleMatch match;
    match.rule_index = index;
    match.rule_id = rules_[index].id;
    match.severity = rule.severity;
    for (const auto& [when, severity] : rule.severity_cases) {
      if (program.Eval(when, fields)) {
        match.severity = severity;
        break;
      }
    }
    match.summary = detect::RenderOutput(rule.output, fields);
    match.tags = rules_[index].tags;
    out->push_back(std::move(match));
  }
}

}  // namespace edi
