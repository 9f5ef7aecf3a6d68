#include "common/json_keys.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace edi {

bool DuplicateKeyIn(const rapidjson::Value& v, std::string* name) {
  if (!v.IsObject()) return false;
  const auto text = [](const rapidjson::Value& n) {
    return std::string_view(n.GetString(), n.GetStringLength());
  };
  if (v.MemberCount() <= 16) {  // a record's objects: a few members, compared pairwise
    for (auto a = v.MemberBegin(); a != v.MemberEnd(); ++a) {
      for (auto b = v.MemberBegin(); b != a; ++b) {
        if (text(b->name) == text(a->name)) {
          name->assign(text(a->name));
          return true;
        }
      }
    }
  } else {  // sorted: an object of 100,000 extra members costs no more than its parse
    std::vector<std::string_view> names;
    names.reserve(v.MemberCount());
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) names.push_back(text(m->name));
    std::sort(names.begin(), names.end());
    if (auto twice = std::adjacent_find(names.begin(), names.end()); twice != names.end()) {
      name->assign(*twice);
      return true;
    }
  }
  return false;
}

}  // namespace edi
