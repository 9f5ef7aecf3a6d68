// Load pass, last step: the dispatch buckets (condition.h, RuleSet::Impl). For every combination
// of slots of the dispatch fields, each enabled rule's condition is specialised to what the
// slots say about those fields; rules whose condition folds to false are left out.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detect/compiler.h"

namespace edi::detect {

namespace {

// Fields that say what kind of call an event is, outermost first. Those missing from the
// catalog, of another type than given, or that no enabled rule's condition reads are skipped.
struct DispatchCandidate {
  std::string_view name;
  FieldType type;
};
constexpr DispatchCandidate kDispatchFields[] = {
    {"evt.trigger", FieldType::kString},
    {"evt.action", FieldType::kString},
    {"evt.success", FieldType::kBool},
};
// No more buckets than this: fields that would exceed it are not used for dispatch.
constexpr size_t kMaxBuckets = 4096;

bool IsLeaf(NodeKind k) {
  return k != NodeKind::kConst && k != NodeKind::kAnd && k != NodeKind::kOr && k != NodeKind::kNot;
}

bool ReadsField(const Node& n, FieldId field) {
  if (!IsLeaf(n.kind)) return false;
  return n.a == field ||
         ((n.kind == NodeKind::kIntField || n.kind == NodeKind::kStrField) && n.b == field);
}

// What one bucket knows about one dispatch field.
struct Known {
  FieldId field = 0;
  bool other = false;  // present, with a value no rule compares it with
  FieldValue value;    // when !other: the value (absent included)
};

// Answers Get for the known fields of a bucket (only ever asked for those).
class KnownSource : public FieldSource {
 public:
  explicit KnownSource(const std::vector<Known>* known) : known_(known) {}
  FieldValue Get(FieldId id) const override {
    for (const Known& k : *known_) {
      if (k.field == id) return k.value;
    }
    return FieldValue::Absent();
  }

 private:
  const std::vector<Known>* known_;
};

class Specializer {
 public:
  Specializer(Program* p, const std::vector<Known>& known) : p_(p), known_(known), src_(&known) {}

  // `root` with every comparison that the known values decide folded; root itself when nothing
  // folds.
  uint32_t Run(uint32_t root) {
    const Node n = p_->nodes[root];
    switch (n.kind) {
      case NodeKind::kConst:
        return root;
      case NodeKind::kAnd:
      case NodeKind::kOr:
        return Group(root, n);
      case NodeKind::kNot: {
        const uint32_t child = Run(n.begin);
        if (child == n.begin) return root;
        if (std::optional<bool> c = ConstValue(child)) return p_->Const(!*c);
        return p_->Not(child);
      }
      default:
        return Leaf(root, n);
    }
  }

 private:
  std::optional<bool> ConstValue(uint32_t i) const {
    const Node& n = p_->nodes[i];
    if (n.kind != NodeKind::kConst) return std::nullopt;
    return n.num != 0;
  }

  uint32_t Group(uint32_t root, const Node& n) {
    const bool is_and = n.kind == NodeKind::kAnd;
    std::vector<uint32_t> kept;
    bool changed = false;
    for (uint32_t k = n.begin; k < n.end; ++k) {
      const uint32_t child = p_->kids[k];
      const uint32_t s = Run(child);
      changed = changed || s != child;
      if (std::optional<bool> c = ConstValue(s)) {
        if (*c != is_and) return p_->Const(!is_and);  // false in an and, true in an or
        continue;                                     // true in an and, false in an or: no-op
      }
      kept.push_back(s);
    }
    if (!changed) return root;
    if (kept.empty()) return p_->Const(is_and);
    return p_->Group(n.kind, kept);
  }

  uint32_t Leaf(uint32_t root, const Node& n) {
    bool all_exact = true;
    const Known* other = nullptr;
    bool reads_known = false;
    for (const Known& k : known_) {
      if (!ReadsField(n, k.field)) continue;
      reads_known = true;
      if (k.other) {
        all_exact = false;
        other = &k;
      }
    }
    if (!reads_known) return root;
    const bool two_fields = n.kind == NodeKind::kIntField || n.kind == NodeKind::kStrField;
    if (all_exact) {
      const bool reads_only_known =
          !two_fields || (Exact(n.a) && Exact(n.b));  // a one-field leaf reads only n.a
      if (reads_only_known || AnyAbsent(n)) return p_->Const(p_->Eval(root, src_));
      return root;
    }
    // A value no rule compares the field with: only presence and equality are decided.
    if (two_fields || n.a != other->field) return root;
    switch (n.kind) {
      case NodeKind::kExists:
        return p_->Const(true);
      case NodeKind::kStrLit:
        if (n.op == CmpOp::kEq) return p_->Const(false);
        if (n.op == CmpOp::kNe) return p_->Const(true);
        return root;
      case NodeKind::kStrIn:
        return p_->Const(false);
      default:
        return root;
    }
  }

  bool Exact(FieldId f) const {
    for (const Known& k : known_) {
      if (k.field == f) return !k.other;
    }
    return false;
  }

  // A two-field leaf with one side known absent is false whatever the other side is.
  bool AnyAbsent(const Node& n) const {
    for (const Known& k : known_) {
      if (!k.other && !k.value.present && ReadsField(n, k.field)) return true;
    }
    return false;
  }

  Program* p_;
  const std::vector<Known>& known_;
  KnownSource src_;
};

// The string values rules compare `field` with (`=`, `!=`, `in`), over every node of `p`.
void CollectValues(const Program& p, FieldId field, std::vector<std::string>* out) {
  for (const Node& n : p.nodes) {
    if (n.a != field) continue;
    if (n.kind == NodeKind::kStrLit && (n.op == CmpOp::kEq || n.op == CmpOp::kNe)) {
      out->push_back(p.strings[n.aux]);
    } else if (n.kind == NodeKind::kStrIn) {
      out->insert(out->end(), p.str_sets[n.aux].begin(), p.str_sets[n.aux].end());
    }
  }
}

// Whether the condition of `rule` reads `field`.
bool ConditionReads(const Program& p, uint32_t root, FieldId field) {
  const Node& n = p.nodes[root];
  switch (n.kind) {
    case NodeKind::kConst:
      return false;
    case NodeKind::kAnd:
    case NodeKind::kOr:
      for (uint32_t k = n.begin; k < n.end; ++k) {
        if (ConditionReads(p, p.kids[k], field)) return true;
      }
      return false;
    case NodeKind::kNot:
      return ConditionReads(p, n.begin, field);
    default:
      return ReadsField(n, field);
  }
}

}  // namespace

void Compiler::BuildDispatch(RuleSet::Impl* impl, const std::vector<RuleInfo>& infos,
                             const std::vector<Pos>& positions) const {
  std::vector<uint32_t> enabled;
  for (uint32_t i = 0; i < impl->rules.size(); ++i) {
    if (infos[i].enabled) enabled.push_back(i);
  }
  size_t buckets = 1;
  for (const DispatchCandidate& cand : kDispatchFields) {
    std::optional<FieldId> id = catalog_.Find(cand.name);
    if (!id || catalog_.def(*id).type != cand.type) continue;
    const bool read = std::any_of(enabled.begin(), enabled.end(), [&](uint32_t i) {
      return ConditionReads(impl->rules[i].program, impl->rules[i].condition, *id);
    });
    if (!read) continue;
    RuleSet::Impl::DispatchField d;
    d.field = *id;
    d.is_bool = cand.type == FieldType::kBool;
    if (!d.is_bool) {
      for (uint32_t i : enabled) CollectValues(impl->rules[i].program, *id, &d.values);
      std::sort(d.values.begin(), d.values.end());
      d.values.erase(std::unique(d.values.begin(), d.values.end()), d.values.end());
    }
    if (buckets * d.slots() > kMaxBuckets) continue;
    buckets *= d.slots();
    impl->dispatch.push_back(std::move(d));
  }

  impl->buckets.resize(buckets);
  // Per rule: the buckets it is kept in, and those where it holds whatever the call.
  std::vector<size_t> kept(impl->rules.size()), always(impl->rules.size());
  std::vector<Known> known(impl->dispatch.size());
  for (size_t b = 0; b < buckets; ++b) {
    size_t rest = b;
    for (size_t f = impl->dispatch.size(); f-- > 0;) {
      const RuleSet::Impl::DispatchField& d = impl->dispatch[f];
      const size_t slot = rest % d.slots();
      rest /= d.slots();
      Known& k = known[f];
      k.field = d.field;
      k.other = false;
      k.value = FieldValue::Absent();
      if (d.is_bool && slot < 2) {
        k.value = FieldValue::Bool(slot == 1);
      } else if (!d.is_bool && slot < d.values.size()) {
        k.value = FieldValue::Str(d.values[slot]);
      } else if (slot == d.slots() - 2) {
        k.other = true;
      }
    }
    for (uint32_t i : enabled) {
      CompiledRule& rule = impl->rules[i];
      const uint32_t root = Specializer(&rule.program, known).Run(rule.condition);
      const Node& top = rule.program.nodes[root];
      if (top.kind == NodeKind::kConst && top.num == 0) continue;
      ++kept[i];
      if (top.kind == NodeKind::kConst) ++always[i];
      impl->buckets[b].push_back({i, root});
    }
  }
  // What the folding shows of a condition that cannot be meant as written. A condition that
  // holds for every call whatever the call (`evt.trigger = call`, `evt.trigger exists`) is
  // found by folding it once more, knowing only that the trigger is a call: the buckets cannot
  // tell it, their "another trigger" slot being one no event has.
  const std::optional<FieldId> trigger = catalog_.Find("evt.trigger");
  const std::vector<Known> a_call = {{trigger.value_or(0), false, FieldValue::Str("call")}};
  for (uint32_t i : enabled) {
    if (kept[i] == 0) {
      issues_->Add(LoadCode::kRuleNeverFires, positions[i],
                   "rule '" + infos[i].id +
                       "' can never fire: its condition holds for no kind of call (a field "
                       "compared with two values at once?)");
    } else if (always[i] == buckets) {
      issues_->Add(LoadCode::kConditionAlwaysTrue, positions[i],
                   "rule '" + infos[i].id +
                       "' fires for every call and every lock check: its condition always holds");
    } else if (trigger) {
      CompiledRule& rule = impl->rules[i];
      const Node& top = rule.program.nodes[Specializer(&rule.program, a_call).Run(rule.condition)];
      if (top.kind == NodeKind::kConst && top.num != 0) {
        issues_->Add(LoadCode::kConditionAlwaysTrue, positions[i],
                     "rule '" + infos[i].id +
                         "' fires for every call: its condition holds whatever the call did");
      }
    }
  }
}

}  // namespace edi::detect
