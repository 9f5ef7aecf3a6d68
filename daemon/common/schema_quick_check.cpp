#include "common/schema_quick_check.h"

#include <rapidjson/internal/strfunc.h>
#include <rapidjson/pointer.h>

#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace edi {

namespace {

using rapidjson::Value;

enum TypeBit : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kString = 16,
  kInteger = 32,
  kNumber = 64,  // any number; a schema's "number" also admits integers
  kAnyType = 127,
};

uint8_t TypeBitOf(std::string_view name) {
  if (name == "null") return kNull;
  if (name == "boolean") return kBoolean;
  if (name == "object") return kObject;
  if (name == "array") return kArray;
  if (name == "string") return kString;
  if (name == "integer") return kInteger;
  if (name == "number") return kInteger | kNumber;
  return 0;
}

// The type bits a value satisfies: an integer is also a number.
uint8_t TypeBitsOf(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return kNull;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return kBoolean;
    case rapidjson::kObjectType:
      return kObject;
    case rapidjson::kArrayType:
      return kArray;
    case rapidjson::kStringType:
      return kString;
    case rapidjson::kNumberType:
      return v.IsInt64() || v.IsUint64() ? (kInteger | kNumber) : kNumber;
  }
  return 0;
}

// An anchored pattern of fixed shape: a sequence of ASCII character sets, each repeated an
// exact number of times ("^[0-9]{4}-[0-9]{2}$"). Anything else is not compiled.
class FixedPattern {
 public:
  static std::optional<FixedPattern> Compile(std::string_view p) {
    if (p.size() < 2 || p.front() != '^' || p.back() != '$') return std::nullopt;
    if (p.size() >= 3 && p[p.size() - 2] == '\\') return std::nullopt;  // an escaped '$'
    FixedPattern out;
    size_t i = 1;
    const size_t end = p.size() - 1;
    auto special = [](char c) {
      return c != '\0' && std::strchr(".^$|()[]{}*+?\\/-", c) != nullptr;
    };
    // Printable ASCII only: the full validator reads a string only up to a NUL.
    auto Printable = [](char c) { return c >= 0x20 && c < 0x7f; };
    while (i < end) {
      Atom a;
      const char c = p[i];
      if (c == '[') {
        ++i;
        if (i < end && p[i] == '^') return std::nullopt;  // negated sets: not compiled
        bool closed = false;
        while (i < end) {
          char lo = p[i];
          if (lo == ']') {
            closed = true;
            ++i;
            break;
          }
          if (lo == '\\') {
            if (i + 1 >= end || !special(p[i + 1])) return std::nullopt;
            lo = p[++i];
          } else if (lo == '[') {
            return std::nullopt;
          }
          char hi = lo;
          if (i + 2 < end && p[i + 1] == '-' && p[i + 2] != ']') {
            hi = p[i + 2];
            if (hi == '\\' || hi == '[' || hi < lo) return std::nullopt;
            i += 2;
          }
          if (!Printable(lo) || !Printable(hi)) return std::nullopt;
          for (int x = lo; x <= hi; ++x) a.set[x] = true;
          ++i;
        }
        if (!closed) return std::nullopt;
      } else if (c == '\\') {
        if (i + 1 >= end || !special(p[i + 1])) return std::nullopt;  // \d, \w, ...: not compiled
        a.set[static_cast<unsigned char>(p[i + 1])] = true;
        i += 2;
      } else if (special(c) && c != '-' && c != '/') {
        return std::nullopt;  // '.', alternation, groups, unbounded repetition
      } else if (!Printable(c)) {
        return std::nullopt;
      } else {
        a.set[static_cast<unsigned char>(c)] = true;
        ++i;
      }
      if (i < end && p[i] == '{') {
        size_t close = p.find('}', i);
        if (close == std::string_view::npos || close >= end || close == i + 1) return std::nullopt;
        size_t n = 0;
        for (size_t k = i + 1; k < close; ++k) {
          if (p[k] < '0' || p[k] > '9' || n > 10000) return std::nullopt;  // {n,m}: not compiled
          n = n * 10 + static_cast<size_t>(p[k] - '0');
        }
        a.count = n;
        i = close + 1;
      } else if (i < end && (p[i] == '*' || p[i] == '+' || p[i] == '?')) {
        return std::nullopt;
      }
      out.length_ += a.count;
      out.atoms_.push_back(a);
    }
    return out;
  }

  bool Matches(const char* s, size_t n) const {
    if (n != length_) return false;
    for (const Atom& a : atoms_) {
      for (size_t k = 0; k < a.count; ++k, ++s) {
        const auto c = static_cast<unsigned char>(*s);
        if (c >= 0x80 || !a.set[c]) return false;
      }
    }
    return true;
  }

 private:
  struct Atom {
    bool set[128] = {};
    size_t count = 1;
  };
  std::vector<Atom> atoms_;
  size_t length_ = 0;
};

struct EnumValue {
  uint8_t type = kNull;  // kNull, kBoolean, kString or kInteger
  bool b = false;
  int64_t i = 0;
  std::string s;
};

}  // namespace

struct SchemaQuickCheck::Node {
  bool never = false;         // answers "no" for every value
  const Node* ref = nullptr;  // "$ref": the node referred to
  uint8_t types = kAnyType;   // "type"
  bool has_enum = false;
  std::vector<EnumValue> enums;  // "enum"
  size_t min_length = 0, max_length = std::numeric_limits<size_t>::max();
  bool has_length = false;
  std::optional<FixedPattern> pattern;
  std::optional<int64_t> minimum, maximum;  // inclusive, integral bounds only
  struct Property {
    std::string name;
    const Node* schema = nullptr;  // nullptr: any value (a required name without a schema)
    int required_bit = -1;
  };
  std::vector<Property> properties;
  uint64_t required_mask = 0;
  bool closed = false;  // "additionalProperties": false
  const Node* items = nullptr;
  size_t min_items = 0, max_items = std::numeric_limits<size_t>::max();

  bool Check(const Value& v) const;
  bool CheckObject(const Value& v) const;
};

namespace {

bool EnumContains(const std::vector<EnumValue>& enums, const Value& v) {
  for (const EnumValue& e : enums) {
    switch (e.type) {
      case kNull:
        if (v.IsNull()) return true;
        break;
      case kBoolean:
        if (v.IsBool() && v.GetBool() == e.b) return true;
        break;
      case kString:
        if (v.IsString() && v.GetStringLength() == e.s.size() &&
            std::memcmp(v.GetString(), e.s.data(), e.s.size()) == 0) {
          return true;
        }
        break;
      case kInteger:
        if (v.IsInt64() && v.GetInt64() == e.i) return true;
        break;
    }
  }
  return false;
}

}  // namespace

bool SchemaQuickCheck::Node::Check(const Value& v) const {
  if (ref != nullptr) return ref->Check(v);
  if (never) return false;
  const uint8_t bits = TypeBitsOf(v);
  if ((types & bits) == 0) return false;
  if (has_enum && !EnumContains(enums, v)) return false;
  switch (v.GetType()) {
    case rapidjson::kStringType: {
      const char* s = v.GetString();
      const size_t n = v.GetStringLength();
      if (has_length) {
        // Counted as the full validator counts, so that both agree on any bytes.
        rapidjson::SizeType cp = 0;
        if (!rapidjson::internal::CountStringCodePoint<rapidjson::UTF8<>>(
                s, static_cast<rapidjson::SizeType>(n), &cp) ||
            cp < min_length || cp > max_length) {
          return false;
        }
      }
      return !pattern || pattern->Matches(s, n);
    }
    case rapidjson::kNumberType:
      if (!minimum && !maximum) return true;
      if (!v.IsInt64()) return false;  // a bound on a double or a huge integer: the full check
      return (!minimum || v.GetInt64() >= *minimum) && (!maximum || v.GetInt64() <= *maximum);
    case rapidjson::kObjectType:
      return CheckObject(v);
    case rapidjson::kArrayType: {
      const size_t n = v.Size();
      if (n < min_items || n > max_items) return false;
      if (items == nullptr) return true;
      for (const Value& item : v.GetArray()) {
        if (!items->Check(item)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

bool SchemaQuickCheck::Node::CheckObject(const Value& v) const {
  uint64_t seen = 0;
  for (const auto& m : v.GetObject()) {
    const char* name = m.name.GetString();
    const size_t len = m.name.GetStringLength();
    const Property* found = nullptr;
    for (const Property& p : properties) {
      if (p.name.size() == len && std::memcmp(p.name.data(), name, len) == 0) {
        found = &p;
        break;
      }
    }
    if (found == nullptr) {
      if (closed) return false;
      continue;
    }
    if (found->required_bit >= 0) seen |= uint64_t{1} << found->required_bit;
    if (found->schema != nullptr && !found->schema->Check(m.value)) return false;
  }
  return (seen & required_mask) == required_mask;
}

// Builds the node tree; nodes are memoised by the schema value they come from, so "$ref"
// cycles end.
class SchemaQuickCheckCompiler {
 public:
  SchemaQuickCheckCompiler(SchemaQuickCheck* out, const Value& root) : out_(out), root_(root) {}

  const SchemaQuickCheck::Node* Compile(const Value& s) {
    if (auto it = done_.find(&s); it != done_.end()) return it->second;
    out_->nodes_.push_back(std::make_unique<SchemaQuickCheck::Node>());
    SchemaQuickCheck::Node* n = out_->nodes_.back().get();
    done_[&s] = n;
    if (!Fill(s, n)) {
      *n = SchemaQuickCheck::Node();
      n->never = true;
      ++out_->unsupported_;
    }
    return n;
  }

 private:
  static bool IsAnnotation(std::string_view k) {
    return k == "$schema" || k == "id" || k == "$id" || k == "title" || k == "description" ||
           k == "definitions" || k == "default" || k == "examples" || k == "$comment";
  }

  static bool HasRepeatedName(const Value& object) {
    std::set<std::string_view> names;
    for (const auto& m : object.GetObject()) {
      if (!names.emplace(m.name.GetString(), m.name.GetStringLength()).second) return true;
    }
    return false;
  }

  static std::optional<int64_t> Bound(const Value& v) {
    if (v.IsInt64()) return v.GetInt64();
    return std::nullopt;
  }

  bool Fill(const Value& s, SchemaQuickCheck::Node* n) {
    // The full validator reads the first of repeated names; which one this would read is not
    // worth matching.
    if (!s.IsObject() || HasRepeatedName(s)) return false;
    if (auto it = s.FindMember("$ref"); it != s.MemberEnd()) {
      // Draft-04 ignores a $ref's siblings; only an annotated local reference is compiled.
      for (const auto& m : s.GetObject()) {
        const std::string_view k(m.name.GetString(), m.name.GetStringLength());
        if (k != "$ref" && !IsAnnotation(k)) return false;
      }
      if (!it->value.IsString()) return false;
      const std::string_view ref(it->value.GetString(), it->value.GetStringLength());
      if (ref.empty() || ref[0] != '#') return false;
      // A URI fragment, as the full validator reads it (percent-encoding decoded).
      rapidjson::Pointer pointer(ref.data(), ref.size());
      if (!pointer.IsValid()) return false;
      const Value* target = pointer.Get(root_);
      if (target == nullptr) return false;
      n->ref = Compile(*target);
      return true;
    }
    const Value* required = nullptr;
    const Value* properties = nullptr;
    for (const auto& m : s.GetObject()) {
      const std::string_view k(m.name.GetString(), m.name.GetStringLength());
      const Value& v = m.value;
      if (IsAnnotation(k)) continue;
      if (k == "type") {
        if (!Types(v, &n->types)) return false;
      } else if (k == "enum") {
        if (!v.IsArray() || v.Empty()) return false;
        n->has_enum = true;
        for (const Value& e : v.GetArray()) {
          EnumValue ev;
          if (e.IsNull()) {
            ev.type = kNull;
          } else if (e.IsBool()) {
            ev.type = kBoolean;
            ev.b = e.GetBool();
          } else if (e.IsString()) {
            ev.type = kString;
            ev.s.assign(e.GetString(), e.GetStringLength());
          } else if (e.IsInt64()) {
            ev.type = kInteger;
            ev.i = e.GetInt64();
          } else {
            return false;  // doubles, objects, arrays: left to the full check
          }
          n->enums.push_back(std::move(ev));
        }
      } else if (k == "minLength" || k == "maxLength") {
        if (!v.IsUint64()) return false;
        n->has_length = true;
        (k == "minLength" ? n->min_length : n->max_length) = v.GetUint64();
      } else if (k == "pattern") {
        if (!v.IsString()) return false;
        n->pattern = FixedPattern::Compile({v.GetString(), v.GetStringLength()});
        if (!n->pattern) return false;
      } else if (k == "minimum" || k == "maximum") {
        std::optional<int64_t> b = Bound(v);
        if (!b) return false;
        (k == "minimum" ? n->minimum : n->maximum) = b;
      } else if (k == "exclusiveMinimum" || k == "exclusiveMaximum") {
        if (!v.IsBool() || v.GetBool()) return false;  // false is the default
      } else if (k == "required") {
        required = &v;
      } else if (k == "properties") {
        properties = &v;
      } else if (k == "additionalProperties") {
        if (!v.IsBool()) return false;  // a schema for additional properties: not compiled
        n->closed = !v.GetBool();
      } else if (k == "items") {
        if (!v.IsObject()) return false;  // tuple form: not compiled
        n->items = Compile(v);
      } else if (k == "minItems" || k == "maxItems") {
        if (!v.IsUint64()) return false;
        (k == "minItems" ? n->min_items : n->max_items) = v.GetUint64();
      } else {
        return false;
      }
    }
    if (properties != nullptr) {
      if (!properties->IsObject() || HasRepeatedName(*properties)) return false;
      for (const auto& m : properties->GetObject()) {
        SchemaQuickCheck::Node::Property p;
        p.name.assign(m.name.GetString(), m.name.GetStringLength());
        p.schema = Compile(m.value);
        n->properties.push_back(std::move(p));
      }
    }
    if (required != nullptr) {
      if (!required->IsArray() || required->Size() > 64) return false;
      int bit = 0;
      for (const Value& r : required->GetArray()) {
        if (!r.IsString()) return false;
        const std::string_view name(r.GetString(), r.GetStringLength());
        SchemaQuickCheck::Node::Property* p = nullptr;
        for (auto& q : n->properties) {
          if (q.name == name) p = &q;
        }
        if (p == nullptr) {
          n->properties.push_back({std::string(name), nullptr, -1});
          p = &n->properties.back();
        }
        if (p->required_bit < 0) {
          p->required_bit = bit;
          n->required_mask |= uint64_t{1} << bit;
          ++bit;
        }
      }
    }
    return true;
  }

  static bool Types(const Value& v, uint8_t* types) {
    if (v.IsString()) {
      *types = TypeBitOf({v.GetString(), v.GetStringLength()});
      return *types != 0;
    }
    if (!v.IsArray() || v.Empty()) return false;
    *types = 0;
    for (const Value& t : v.GetArray()) {
      if (!t.IsString()) return false;
      const uint8_t bit = TypeBitOf({t.GetString(), t.GetStringLength()});
      if (bit == 0) return false;
      *types |= bit;
    }
    return true;
  }

  SchemaQuickCheck* out_;
  const Value& root_;
  std::map<const Value*, SchemaQuickCheck::Node*> done_;
};

std::unique_ptr<const SchemaQuickCheck> SchemaQuickCheck::Compile(const rapidjson::Value& schema) {
  std::unique_ptr<SchemaQuickCheck> check(new SchemaQuickCheck());
  SchemaQuickCheckCompiler compiler(check.get(), schema);
  compiler.Compile(schema);
  return check;
}

SchemaQuickCheck::~SchemaQuickCheck() = default;

bool SchemaQuickCheck::CertainlyValid(const rapidjson::Value& doc) const {
  return nodes_[0]->Check(doc);
}

}  // namespace edi
