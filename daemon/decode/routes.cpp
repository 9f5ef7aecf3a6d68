// The route table of shared/EVENTS.md and the path/query parsing around it.
#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/utf8.h"
#include "decode/decoder.h"
#include "decode/server_text.h"

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

struct Match {
  std::string_view id;
  std::string_view her_id;
};

// A route's template split into segments, once.
struct Segments {
  std::array<std::string_view, 8> segs;
  size_t n = 0;
};

const std::array<Segments, kRoutes.size()>& RouteSegments() {
  static const std::array<Segments, kRoutes.size()> table = [] {
    std::array<Segments, kRoutes.size()> t;
    for (size_t i = 0; i < kRoutes.size(); ++i) SplitPath(kRoutes[i].tmpl, &t[i].segs, &t[i].n);
    return t;
  }();
  return table;
}

bool MatchTemplate(const Segments& tmpl, const std::array<std::string_view, 8>& segs, size_t n,
                   Match* m) {
  const std::array<std::string_view, 8>& t = tmpl.segs;
  if (tmpl.n != n) return false;
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

// One key=value of a query, the key percent-decoded.
struct QueryPair {
  std::string key;
  std::string_view value;  // still encoded
};

// Adds the HER-Ids of one bound value (decoded), comma-separated.
bool AddQueryHerIds(std::string_view value, std::string_view key, std::vector<PartyRef>* parties,
                    DecodeError* error) {
  size_t p = 0;
  while (p <= value.size()) {
    size_t comma = value.find(',', p);
    if (comma == std::string_view::npos) comma = value.size();
    const std::string_view item = value.substr(p, comma - p);
    p = comma + 1;
    auto her_id = ParseHerIdText(item);
    if (!her_id) {
      error->reason = QuarantineReason::kMalformedHerId;
      error->detail = "query parameter '" + std::string(key) + "': '" +
                      std::string(Utf8Prefix(item, 64)) + "' is not a HER-Id";
      return false;
    }
    parties->push_back({*her_id, PartySource::kQuery});
  }
  return true;
}

// Calls f(key, value) for each key=value of the query, both as written.
template <typename F>
void ForEachQueryPair(std::string_view query, F f) {
  for (size_t i = 0; i <= query.size();) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(i, amp - i);
    i = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    f(pair.substr(0, eq), eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
  }
}

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
  // Nearly every query names the list by its plain key and encodes nothing: then the text is
  // its own decoding, and the values bound are those of the plain key.
  if (std::none_of(query.begin(), query.end(), [](char c) { return c == '%' || c == '+'; })) {
    bool plain = false;
    ForEachQueryPair(query, [&](std::string_view k, std::string_view) {
      plain = plain || EqualsIgnoreCase(k, key);
    });
    if (plain) {
      bool ok = true;
      ForEachQueryPair(query, [&](std::string_view k, std::string_view v) {
        if (ok && EqualsIgnoreCase(k, key)) ok = AddQueryHerIds(v, key, parties, error);
      });
      return ok;
    }
  }
  std::vector<QueryPair> pairs;
  ForEachQueryPair(query, [&](std::string_view k, std::string_view v) {
    pairs.push_back({PercentDecode(k, PercentDecoding::kQuery), v});
  });
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
      indexed(PercentDecode(p.value, PercentDecoding::kQuery));
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
    if (!AddQueryHerIds(PercentDecode(encoded, PercentDecoding::kQuery), key, parties, error)) {
      return false;
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

  for (size_t i = 0; i < kRoutes.size(); ++i) {
    const Route& r = kRoutes[i];
    if (!(r.apis & api) || !(r.methods & method)) continue;
    Match m;
    if (!MatchTemplate(RouteSegments()[i], segs, n, &m)) continue;
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
          error->detail = "path HER-Id '" + std::string(Utf8Prefix(m.her_id, 64)) +
                          "' is not a positive integer";
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
  // No route: action unknown, kept and counted. A path under /messages/{id} (an attachment, a
  // segment with parameters) still concerns that message: it is found with the message's calls.
  if (n >= 2 && EqualsIgnoreCase(segs[0], "messages") && !CanonicalUuid(segs[1], &e->message_id)) {
    e->message_id.clear();
  }
  return true;
}

}  // namespace edi
