// The route table of shared/EVENTS.md and the path/query parsing around it.
#include <array>
#include <charconv>
#include <string>
#include <unordered_set>
#include <vector>

#include "decode/decoder.h"

namespace edi {
namespace {

// How a route names the parties it acts for.
enum class PartyRule : uint8_t {
  kNone,
  kSender,          // request.senderHerId
  kReceiver,        // request.receiverHerId
  kAppRecSender,    // request.appRecSenderHerId
  kPathHerId,       // the {herId} segment
  kQueryHerIds,     // query HerIds (v3)
  kQueryReceivers,  // query ReceiverHerIds / receiverHerIds (v2, v2-vNext)
  kConfigurations,  // request.configurations[].herId or mshConfigurations[].herId
  kCustody,         // known only from the message's custody
};

constexpr uint8_t kV2 = 1 << static_cast<int>(ApiVersion::kV2);
constexpr uint8_t kV2vNext = 1 << static_cast<int>(ApiVersion::kV2vNext);
constexpr uint8_t kV3 = 1 << static_cast<int>(ApiVersion::kV3);
constexpr uint8_t kAnyV2 = kV2 | kV2vNext;

enum Method : uint8_t { kGet = 1, kPost = 2, kPut = 4, kDelete = 8, kPatch = 16 };

struct Route {
  uint8_t apis;
  uint8_t methods;
  std::string_view tmpl;  // as in EVENTS.md; matched case-insensitively, segment by segment
  Action action;
  PartyRule parties;
};

// v2-vNext is the v2 API plus its own two routes, so the v2 rows apply to it too.
constexpr std::array<Route, 21> kRoutes = {{
    {kV3, kPost, "/messages", Action::kSend, PartyRule::kSender},
    {kV3, kGet, "/messages/{id}", Action::kReadMetadata, PartyRule::kCustody},
    {kV3, kGet, "/messages/{id}/business-document", Action::kDownload, PartyRule::kCustody},
    {kV3, kGet, "/messages/{id}/status", Action::kReadStatus, PartyRule::kCustody},
    {kV3, kPost, "/messages/{id}/apprec", Action::kApprecSend, PartyRule::kAppRecSender},
    {kV3, kPut, "/messages/{id}/downloaded", Action::kMarkDownloaded, PartyRule::kReceiver},
    {kV3, kGet, "/notifications", Action::kPoll, PartyRule::kQueryHerIds},
    {kV3, kGet, "/notifications/stream", Action::kPoll, PartyRule::kQueryHerIds},
    {kV3, kPut | kPost, "/mshconfigurations", Action::kConfigWrite, PartyRule::kConfigurations},
    {kV3, kDelete, "/mshconfigurations", Action::kConfigDelete, PartyRule::kQueryHerIds},
    {kV3, kGet, "/ping", Action::kPing, PartyRule::kNone},
    {kAnyV2, kPost, "/Messages", Action::kSend, PartyRule::kSender},
    {kAnyV2, kGet, "/Messages", Action::kPoll, PartyRule::kQueryReceivers},
    // Listed before /Messages/{id} so that "notices" is not taken for a message id.
    {kV2vNext, kGet, "/Messages/notices", Action::kPoll, PartyRule::kQueryReceivers},
    {kAnyV2, kGet, "/Messages/{id}", Action::kReadMetadata, PartyRule::kCustody},
    {kAnyV2, kGet, "/Messages/{id}/business-document", Action::kDownload, PartyRule::kCustody},
    {kAnyV2, kGet, "/Messages/{id}/status", Action::kReadStatus, PartyRule::kCustody},
    {kAnyV2, kGet, "/Messages/{id}/apprec", Action::kReadApprec, PartyRule::kCustody},
    {kAnyV2, kPost, "/Messages/{id}/apprec/{herId}", Action::kApprecSend, PartyRule::kPathHerId},
    {kAnyV2, kPut, "/Messages/{id}/read/{herId}", Action::kMarkDownloaded, PartyRule::kPathHerId},
    {kV2vNext, kPost, "/MshConfiguration", Action::kConfigWrite, PartyRule::kConfigurations},
}};

uint8_t MethodBit(std::string_view m) {
  if (m == "GET") return kGet;
  if (m == "POST") return kPost;
  if (m == "PUT") return kPut;
  if (m == "DELETE") return kDelete;
  if (m == "PATCH") return kPatch;
  return 0;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Splits "/a/b/c/" into at most `max` segments; false if there are more. Empty segments from
// doubled or trailing slashes are skipped.
bool SplitPath(std::string_view path, std::array<std::string_view, 8>* out, size_t* n) {
  *n = 0;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i == path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (*n == out->size()) return false;
    (*out)[(*n)++] = path.substr(i, j - i);
    i = j;
  }
  return true;
}

// The path as the API's server routes it. Kestrel, in front of EDI 2.0, percent-decodes the
// path (all but %2F, which stays in its segment) and removes its "." and ".." segments before
// routing; matching the raw text instead would let a client dress a download up as an unknown
// route ("/messages/ID/business%2Ddocument", "/messages/x/../ID/business-document"). Returns
// `path` itself when it has nothing to normalize (the common case: no copy), else the
// normalized path written into *buf.
std::string_view NormalizePath(std::string_view path, std::string* buf) {
  bool plain = path.find('%') == std::string_view::npos;
  for (size_t i = 0; plain && i < path.size(); ++i) {
    if (path[i] != '.' || (i > 0 && path[i - 1] != '/')) continue;
    size_t j = i;
    while (j < path.size() && path[j] == '.') ++j;
    if ((j == path.size() || path[j] == '/') && j - i <= 2) plain = false;
  }
  if (plain) return path;
  std::string decoded;
  decoded.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      const int hi = HexValue(path[i + 1]), lo = HexValue(path[i + 2]);
      if (hi >= 0 && lo >= 0 && hi * 16 + lo != '/') {
        decoded.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    decoded.push_back(path[i]);
  }
  // RFC 3986's removal of dot segments, which Kestrel follows: an empty segment (a doubled
  // slash) is a segment too, so "ID//../x" is "ID/x". Empty segments are skipped only when
  // matching (SplitPath).
  std::vector<std::string_view> kept;
  size_t i = !decoded.empty() && decoded[0] == '/' ? 1 : 0;
  while (i <= decoded.size()) {
    size_t j = decoded.find('/', i);
    if (j == std::string::npos) j = decoded.size();
    const std::string_view seg = std::string_view(decoded).substr(i, j - i);
    i = j + 1;
    if (seg == ".") continue;
    if (seg == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(seg);
  }
  buf->clear();
  for (const std::string_view seg : kept) {
    buf->push_back('/');
    buf->append(seg);
  }
  if (buf->empty()) buf->push_back('/');
  return *buf;
}

struct Match {
  std::string_view id;
  std::string_view her_id;
};

bool MatchTemplate(std::string_view tmpl, const std::array<std::string_view, 8>& segs, size_t n,
                   Match* m) {
  std::array<std::string_view, 8> t;
  size_t tn;
  SplitPath(tmpl, &t, &tn);
  if (tn != n) return false;
  Match found;
  for (size_t i = 0; i < n; ++i) {
    if (t[i] == "{id}") {
      found.id = segs[i];
    } else if (t[i] == "{herId}") {
      found.her_id = segs[i];
    } else if (!EqualsIgnoreCase(t[i], segs[i])) {
      return false;
    }
  }
  *m = found;
  return true;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

// One key=value of a query, the key percent-decoded.
struct QueryPair {
  std::string key;
  std::string_view value;  // still encoded
};

// The HER-Ids of the query's list parameter `key`, bound as ASP.NET's model binding binds a
// list, from the first form present: the plain key, repeated (HerIds=1&HerIds=2, also
// comma-separated); the indexed keys `key.index` names (HerIds.index=a&HerIds[a]=1); `key[0]`,
// `key[1]`... up to the first gap; `key[]`. When no key starts with the name at all, the same
// forms without it (`[0]=1`, `index=a&[a]=1`). Keys the server would not bind are ignored;
// a bound value that is no HER-Id makes the call malformed (false, *error set).
bool QueryHerIds(std::string_view query, std::string_view key, std::vector<PartyRef>* parties,
                 DecodeError* error) {
  // The contract's query has no '?'; one left in front must not hide the first key.
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  std::vector<QueryPair> pairs;
  for (size_t i = 0; i <= query.size();) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(i, amp - i);
    i = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    pairs.push_back({PercentDecode(pair.substr(0, eq)),
                     eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)});
  }
  // Keys equal to name + suffix, in any case.
  auto is = [](std::string_view k, std::string_view name, std::string_view suffix) {
    return k.size() == name.size() + suffix.size() &&
           EqualsIgnoreCase(k.substr(0, name.size()), name) &&
           EqualsIgnoreCase(k.substr(name.size()), suffix);
  };
  std::vector<std::string_view> bound;
  auto bind = [&](std::string_view name) {
    if (!name.empty()) {
      for (const QueryPair& p : pairs) {
        if (is(p.key, name, "")) bound.push_back(p.value);
      }
      if (!bound.empty()) return;
    }
    // name[index], the name in any case.
    auto indexed = [&](std::string_view index) {
      bool found = false;
      for (const QueryPair& p : pairs) {
        const std::string_view k = p.key;
        if (k.size() == name.size() + index.size() + 2 &&
            EqualsIgnoreCase(k.substr(0, name.size()), name) && k[name.size()] == '[' &&
            k.substr(name.size() + 1, index.size()) == index && k.back() == ']') {
          bound.push_back(p.value);
          found = true;
        }
      }
      return found;
    };
    bool listed = false;
    const std::string index_key = std::string(name) + (name.empty() ? "index" : ".index");
    for (const QueryPair& p : pairs) {
      if (!is(p.key, index_key, "")) continue;
      listed = true;
      indexed(PercentDecode(p.value));
    }
    if (listed) return;
    for (int n = 0; indexed(std::to_string(n)); ++n) {
    }
    if (bound.empty()) indexed("");
  };
  bind(key);
  if (bound.empty()) {
    bool prefixed = false;
    for (const QueryPair& p : pairs) {
      const std::string_view k = p.key;
      prefixed =
          prefixed || (k.size() >= key.size() && EqualsIgnoreCase(k.substr(0, key.size()), key) &&
                       (k.size() == key.size() || k[key.size()] == '[' || k[key.size()] == '.'));
    }
    if (!prefixed) bind("");
  }
  for (const std::string_view encoded : bound) {
    const std::string value = PercentDecode(encoded);
    size_t p = 0;
    while (p <= value.size()) {
      size_t comma = value.find(',', p);
      if (comma == std::string::npos) comma = value.size();
      const std::string_view item = std::string_view(value).substr(p, comma - p);
      p = comma + 1;
      auto her_id = ParseHerIdText(item);
      if (!her_id) {
        error->reason = QuarantineReason::kMalformedHerId;
        error->detail = "query parameter '" + std::string(key) + "': '" +
                        std::string(item.substr(0, 64)) + "' is not a HER-Id";
        return false;
      }
      parties->push_back({*her_id, PartySource::kQuery});
    }
  }
  return true;
}

void AddParty(std::optional<HerId> her_id, PartySource source, std::vector<PartyRef>* parties) {
  if (her_id) parties->push_back({*her_id, source});
}

// A call that names a party twice (HerIds=1&HerIds=1, a configuration listed twice) acts for
// it once: each party is kept at its first mention.
void DropRepeatedParties(std::vector<PartyRef>* parties) {
  std::vector<PartyRef>& v = *parties;
  if (v.size() < 2) return;
  size_t kept = 0;
  if (v.size() <= 16) {
    for (const PartyRef& p : v) {
      bool seen = false;
      for (size_t j = 0; j < kept && !seen; ++j) seen = v[j].her_id == p.her_id;
      if (!seen) v[kept++] = p;
    }
  } else {
    std::unordered_set<HerId> seen;
    for (const PartyRef& p : v) {
      if (seen.insert(p.her_id).second) v[kept++] = p;
    }
  }
  v.resize(kept);
}

}  // namespace

namespace {

bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The white space .NET trims (char.IsWhiteSpace) in UTF-8 beyond ASCII: U+0085, U+00A0,
// U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
bool IsWideSpace(std::string_view c) {
  if (c.size() == 2) return c[0] == '\xC2' && (c[1] == '\x85' || c[1] == '\xA0');
  if (c.size() != 3) return false;
  const auto b1 = static_cast<unsigned char>(c[1]), b2 = static_cast<unsigned char>(c[2]);
  if (c[0] == '\xE1') return b1 == 0x9A && b2 == 0x80;
  if (c[0] == '\xE3') return b1 == 0x80 && b2 == 0x80;
  if (c[0] != '\xE2') return false;
  if (b1 == 0x80) return b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF;
  return b1 == 0x81 && b2 == 0x9F;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty()) {
    if (IsSpace(s.front())) {
      s.remove_prefix(1);
    } else if (IsWideSpace(s.substr(0, 2)) || IsWideSpace(s.substr(0, 3))) {
      s.remove_prefix(IsWideSpace(s.substr(0, 2)) ? 2 : 3);
    } else {
      break;
    }
  }
  while (!s.empty()) {
    if (IsSpace(s.back())) {
      s.remove_suffix(1);
    } else if (s.size() >= 2 && IsWideSpace(s.substr(s.size() - 2))) {
      s.remove_suffix(2);
    } else if (s.size() >= 3 && IsWideSpace(s.substr(s.size() - 3))) {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  return s;
}

// Appends `hex` (1 to `width` hex digits, more if the extra ones are leading zeros) to *out
// zero-padded to `width`, in lower case.
bool AppendHexGroup(std::string_view hex, size_t width, std::string* out) {
  while (hex.size() > width && hex.front() == '0') hex.remove_prefix(1);
  if (hex.empty() || hex.size() > width) return false;
  out->append(width - hex.size(), '0');
  for (const char c : hex) {
    if (HexValue(c) < 0) return false;
    out->push_back(Lower(c));
  }
  return true;
}

std::string_view StripHexPrefix(std::string_view g) {
  if (g.size() >= 2 && g[0] == '0' && (g[1] == 'x' || g[1] == 'X')) g.remove_prefix(2);
  return g;
}

// "D", 36 characters, with a group's hex digits after a '+' or '0x' or both in place of its
// leading zeros (.NET's compatible parsing of the dashed form: "733be787-+f1e-4a8c-...").
bool ParseDashedGuid(std::string_view s, std::string* out) {
  static constexpr size_t kWidths[] = {8, 4, 4, 4, 12};
  out->clear();
  for (size_t g = 0; g < 5; ++g) {
    const size_t dash = g < 4 ? s.find('-') : s.size();
    if (dash == std::string_view::npos) return false;
    std::string_view group = s.substr(0, dash);
    s.remove_prefix(g < 4 ? dash + 1 : dash);
    const size_t size = group.size();
    if (!group.empty() && group.front() == '+') group.remove_prefix(1);
    group = StripHexPrefix(group);
    if (size != kWidths[g] || group.size() > kWidths[g]) return false;
    if (g > 0) out->push_back('-');
    if (!AppendHexGroup(group, kWidths[g], out)) return false;
  }
  return s.empty();
}

// "X": {0xdddddddd,0xdddd,0xdddd,{0xdd,0xdd,0xdd,0xdd,0xdd,0xdd,0xdd,0xdd}}, white space
// anywhere, leading zeros of a value left out or not.
bool ParseHexListGuid(std::string_view s, std::string* out) {
  std::string t;
  for (const char c : s) {
    if (!IsSpace(c)) t.push_back(c);
  }
  std::string_view v = t;
  if (v.size() < 4 || v.substr(0, 2) != "{0" || v.substr(v.size() - 2) != "}}") return false;
  v = v.substr(1, v.size() - 3);  // 0x..,0x..,0x..,{0x..,...,0x..
  const size_t brace = v.find('{');
  if (brace == std::string_view::npos || brace == 0 || v[brace - 1] != ',') return false;
  std::vector<std::string_view> values;
  auto split = [&values](std::string_view part) {
    size_t i = 0;
    while (true) {
      const size_t comma = part.find(',', i);
      values.push_back(part.substr(i, comma == std::string_view::npos ? part.npos : comma - i));
      if (comma == std::string_view::npos) return;
      i = comma + 1;
    }
  };
  split(v.substr(0, brace - 1));
  split(v.substr(brace + 1));
  static constexpr size_t kWidths[] = {8, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2};
  if (values.size() != 11) return false;
  out->clear();
  for (size_t i = 0; i < 11; ++i) {
    const std::string_view hex = StripHexPrefix(values[i]);
    if (hex.size() == values[i].size()) return false;  // every value has its 0x
    if (i == 1 || i == 2 || i == 3 || i == 5) out->push_back('-');
    if (!AppendHexGroup(hex, kWidths[i], out)) return false;
  }
  return true;
}

}  // namespace

bool CanonicalUuid(std::string_view s, std::string* out) {
  // The forms .NET's Guid parsing accepts (a route's Guid parameter): "D" with dashes, "N"
  // without, "B" in braces, "P" in parentheses, "X" as a list of hex values, surrounded by
  // white space or not.
  s = TrimSpace(s);
  out->clear();
  if (s.size() > 2 && s[0] == '{' && (s[1] == '0' || IsSpace(s[1])) && ParseHexListGuid(s, out)) {
    return true;
  }
  if (s.size() == 38 &&
      ((s.front() == '{' && s.back() == '}') || (s.front() == '(' && s.back() == ')'))) {
    s = s.substr(1, 36);
  }
  if (s.size() == 32) {
    out->clear();
    for (size_t i = 0; i < 32; ++i) {
      if (HexValue(s[i]) < 0) {
        out->clear();
        return false;
      }
      if (i == 8 || i == 12 || i == 16 || i == 20) out->push_back('-');
      out->push_back(Lower(s[i]));
    }
    return true;
  }
  if (s.size() == 36 && ParseDashedGuid(s, out)) return true;
  out->clear();
  return false;
}

std::optional<HerId> ParseHerIdText(std::string_view s) {
  // As the server binds an int (its type converter): white space around, a '+', leading
  // zeros, or hexadecimal after 0x, &h or #.
  s = TrimSpace(s);
  size_t hex = 0;
  if (s.size() > 2 && ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ||
                       (s[0] == '&' && (s[1] == 'h' || s[1] == 'H')))) {
    hex = 2;
  } else if (s.size() > 1 && s[0] == '#') {
    hex = 1;
  }
  if (hex > 0) {
    s.remove_prefix(hex);
    while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
    if (s.size() > 15) return std::nullopt;
    HerId v = 0;
    for (const char c : s) {
      const int d = HexValue(c);
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    return v > 0 ? std::optional<HerId>(v) : std::nullopt;
  }
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  return ParseHerId(s);
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (HexValue(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

std::optional<HerId> ParseHerId(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  HerId v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v <= 0 || s[0] == '+') return std::nullopt;
  return v;
}

bool IsValidHerIdClaim(std::string_view s) {
  if (s == "0") return true;
  size_t i = 0;
  while (true) {
    const size_t dash = s.find('-', i);
    const std::string_view item = s.substr(i, dash == std::string_view::npos ? s.npos : dash - i);
    if (!ParseHerId(item)) return false;
    if (dash == std::string_view::npos) return true;
    i = dash + 1;
  }
}

bool MatchRoute(AccessEvent* e, DecodeError* error) {
  e->route.clear();
  e->action = Action::kUnknown;
  e->message_id.clear();
  e->parties.clear();
  e->parties_from_custody = false;

  std::string normalized;
  const std::string_view path = NormalizePath(e->path, &normalized);
  std::array<std::string_view, 8> segs;
  size_t n;
  if (!SplitPath(path, &segs, &n)) return true;  // too deep for any route: unknown
  const uint8_t api = static_cast<uint8_t>(1 << static_cast<int>(e->api));
  const uint8_t method = MethodBit(e->method);

  for (const Route& r : kRoutes) {
    if (!(r.apis & api) || !(r.methods & method)) continue;
    Match m;
    if (!MatchTemplate(r.tmpl, segs, n, &m)) continue;
    // {id} is a message id, a UUID: a path with anything else there is not this route (v2's
    // GET /Messages/notices, say, is the 2-vNext poll called as v2: an unknown route).
    if (!m.id.empty() && !CanonicalUuid(m.id, &e->message_id)) continue;
    e->route.assign(r.tmpl);
    e->action = r.action;
    switch (r.parties) {
      case PartyRule::kNone:
        break;
      case PartyRule::kSender:
        AddParty(e->sender_her_id, PartySource::kRequestBody, &e->parties);
        break;
      // Without the body's party (a gateway that did not extract it), the call acts for a
      // receiver of the message: the state supplies it from custody, as for a download.
      case PartyRule::kReceiver:
        AddParty(e->receiver_her_id, PartySource::kRequestBody, &e->parties);
        e->parties_from_custody = !e->receiver_her_id;
        break;
      case PartyRule::kAppRecSender:
        AddParty(e->apprec_sender_her_id, PartySource::kRequestBody, &e->parties);
        e->parties_from_custody = !e->apprec_sender_her_id && !m.id.empty();
        break;
      case PartyRule::kPathHerId: {
        auto her_id = ParseHerIdText(m.her_id);
        if (!her_id) {
          error->reason = QuarantineReason::kMalformedHerId;
          error->detail =
              "path HER-Id '" + std::string(m.her_id.substr(0, 64)) + "' is not a positive integer";
          return false;
        }
        AddParty(her_id, PartySource::kPath, &e->parties);
        break;
      }
      case PartyRule::kQueryHerIds:
        if (!QueryHerIds(e->query, "HerIds", &e->parties, error)) return false;
        break;
      case PartyRule::kQueryReceivers:
        if (!QueryHerIds(e->query, "ReceiverHerIds", &e->parties, error)) return false;
        break;
      case PartyRule::kConfigurations:
        for (const MshConfiguration& c : e->configurations) {
          e->parties.push_back({c.her_id, PartySource::kRequestBody});
        }
        break;
      case PartyRule::kCustody:
        e->parties_from_custody = true;
        break;
    }
    DropRepeatedParties(&e->parties);
    return true;
  }
  return true;  // no route: action unknown, kept and counted
}

}  // namespace edi
