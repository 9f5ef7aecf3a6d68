// RegistryLoader: the work behind Registry::Load. Internal to the registry stage.
//
// Reads the snapshot files in a fixed order (parties, organisations, clients, reservations,
// owners), checks each line against its schema and the relations between lines (duplicates,
// cycles), then resolves every party's organisation and every unit's chain of parents. The
// first problem ends the load; its message names file, line and field.
// Single-use and single-threaded: one loader per Load call.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/registry.h"
#include "registry/snapshot_file.h"

namespace edi {

// The snapshot files, as named in shared/EVENTS.md "Reference snapshots".
inline constexpr std::string_view kPartiesFile = "communication-parties.jsonl";
inline constexpr std::string_view kOrganizationsFile = "organizations.jsonl";
inline constexpr std::string_view kClientsFile = "clients.jsonl";
inline constexpr std::string_view kReservationsFile = "reservations.jsonl";
inline constexpr std::string_view kOwnersFile = "owners.jsonl";

class RegistryLoader {
 public:
  RegistryLoader(std::string dir, std::string schema_dir);

  Result<std::shared_ptr<const Registry>> Load();

 private:
  // Reads `file` of the snapshot directory with its schema ("x.jsonl" -> "x.schema.json"). An
  // absent file is NotFound naming its path when `required`, and skipped otherwise.
  Status ReadSnapshot(std::string_view file, bool required, const SnapshotLineFn& on_line);

  Status ReadParties();
  Status ReadOrganizations();
  Status ReadClients();
  Status ReadReservations();
  Status ReadOwners();

  // Fills OrgEntry::ancestors; fails on a cycle of overordnetEnhet (registry_resolve.cpp).
  Status ResolveOrganizations();
  // Fills CommunicationParty::orgnr and top_orgnr; fails on a cycle of parentHerId that the
  // resolution has to follow (registry_resolve.cpp).
  Status ResolveParties();

  const std::string dir_;
  const std::string schema_dir_;
  std::shared_ptr<Registry> registry_;

  // Where each record came from, and the file order, so that errors about relations between
  // records are reported at a line and the same input always gives the same message.
  std::unordered_map<HerId, size_t> party_line_;
  std::vector<HerId> party_order_;
  Registry::StringMap<size_t> org_line_;
  std::vector<std::string> org_order_;
};

}  // namespace edi
