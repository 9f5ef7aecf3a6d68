// Registry: the reference snapshots (shared/EVENTS.md "Reference snapshots") loaded from a
// directory, and the organisation questions the rules ask of them.
//
// Files: communication-parties.jsonl and organizations.jsonl (required); clients.jsonl,
// reservations.jsonl and owners.jsonl (optional). Every line is checked against its JSON Schema
// in schemas/ (RapidJSON schema validator); a bad line fails the whole load with a message that
// names the file, the line number and the field.
//
// A Registry is immutable after Load and safe to share between threads; a reload builds a new
// one and swaps the shared_ptr.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace edi {

using HerId = int64_t;

enum class PartyType : uint8_t { kOrganization, kService, kPerson };
enum class OrgKind : uint8_t { kHovedenhet, kUnderenhet, kOrganisasjonsledd };

struct CommunicationParty {
  HerId her_id = 0;
  std::string name;
  PartyType type = PartyType::kOrganization;
  std::string organization_number;         // Organization only
  HerId parent_her_id = -1;                // -1 if none
  std::string parent_organization_number;  // "" if none
  bool active = true;
  // Resolved at load: the party's organisation (own number, or the parent's for a
  // Service/Person, following parentHerId when parentOrganizationNumber is empty) and the
  // top-level unit above it in Enhetsregisteret. "" when it cannot be resolved.
  std::string orgnr;
  std::string top_orgnr;
};

struct OrgUnit {
  std::string orgnr;
  std::string name;
  std::string parent;  // overordnetEnhet, "" for a top-level unit
  OrgKind kind = OrgKind::kHovedenhet;
};

struct ClientInfo {
  std::string client_id;
  std::string client_name;
  std::string orgnr_supplier;
};

struct Reservation {
  HerId her_id = 0;
  std::string client_id;
  EventTime since = 0;
};

class Registry {
 public:
  // Loads every snapshot file of `dir`. On failure returns a non-OK status whose message names
  // the file, line and field ("organizations.jsonl:12: field '/kind': ..."); nothing is loaded.
  // `schema_dir` holds the snapshot schemas (see edi::SchemaDir() in common/schema.h).
  static Result<std::shared_ptr<const Registry>> Load(const std::string& dir,
                                                      const std::string& schema_dir);
  // An empty registry: every party unknown.
  static std::shared_ptr<const Registry> Empty();

  const CommunicationParty* FindParty(HerId her_id) const;
  const OrgUnit* FindOrg(std::string_view orgnr) const;
  const ClientInfo* FindClient(std::string_view client_id) const;

  // The top-level unit (hovedenhet) above `orgnr` at any depth; `orgnr` itself when it is a
  // top-level unit or not in the snapshot.
  std::string TopLevelUnit(std::string_view orgnr) const;
  // True when `orgnr` is `top` or a unit below it at any depth (the EDI 2.0 membership rule).
  // False when either is "": an unresolved organisation is covered by nothing. Does not allocate.
  bool Covers(std::string_view top, std::string_view orgnr) const;

  const std::vector<Reservation>& reservations() const { return reservations_; }
  // The declared owner of a party from owners.jsonl, or nullptr.
  const std::string* DeclaredOwner(HerId her_id) const;

  size_t party_count() const { return parties_.size(); }
  size_t org_count() const { return orgs_.size(); }

 private:
  friend class RegistryLoader;

  // Lets the string-keyed maps be searched with a string_view without building a std::string.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  // A unit and, resolved at load, every unit above it: nearest first, the top-level unit last
  // (empty for a top-level unit). A parent missing from the snapshot ends the chain.
  struct OrgEntry {
    OrgUnit unit;
    std::vector<std::string> ancestors;
  };

  std::unordered_map<HerId, CommunicationParty> parties_;
  StringMap<OrgEntry> orgs_;
  StringMap<ClientInfo> clients_;
  std::unordered_map<HerId, std::string> owners_;
  std::vector<Reservation> reservations_;
};

}  // namespace edi
