// ClientInterner: HelseID client ids <-> small integers, so that per-message and per-party
// state stores 4 bytes per client instead of a string. Ids are never reused within a process;
// they are not stable across processes (persistence stores the client id strings).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace edi {

using ClientIdx = uint32_t;
constexpr ClientIdx kNoClient = 0;  // index 0 is reserved for "none"

class ClientInterner {
 public:
  ClientInterner() : names_(1) {}
  ClientIdx Intern(std::string_view client_id) {
    auto it = index_.find(client_id);
    if (it != index_.end()) return it->second;
    const auto idx = static_cast<ClientIdx>(names_.size());
    names_.emplace_back(client_id);
    index_.emplace(names_.back(), idx);
    return idx;
  }
  // kNoClient when the id was never seen.
  ClientIdx Find(std::string_view client_id) const {
    auto it = index_.find(client_id);
    return it == index_.end() ? kNoClient : it->second;
  }
  const std::string& Name(ClientIdx idx) const { return names_[idx]; }
  size_t size() const { return names_.size() - 1; }

 private:
  std::deque<std::string> names_;  // a deque: views of names stay valid as it grows
  // Searched with a string_view, without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, ClientIdx, Hash, std::equal_to<>> index_;
};

}  // namespace edi
