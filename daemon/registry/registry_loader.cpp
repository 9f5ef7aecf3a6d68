#include "registry/registry_loader.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "common/time.h"

namespace edi {
namespace {

// Fields below are read only after the line passed its schema, so their JSON types are known;
// what the schema cannot say (an integer beyond int64) is checked here.

std::string StringField(const rapidjson::Value& record, const char* name) {
  auto it = record.FindMember(name);
  if (it == record.MemberEnd()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// Reads the integer `name` into *out, leaving it unchanged when absent. False when out of range.
bool HerIdField(const rapidjson::Value& record, const char* name, HerId* out) {
  auto it = record.FindMember(name);
  if (it == record.MemberEnd()) return true;
  if (!it->value.IsInt64()) return false;
  *out = it->value.GetInt64();
  return true;
}

PartyType ParsePartyType(std::string_view s) {
  if (s == "Service") return PartyType::kService;
  if (s == "Person") return PartyType::kPerson;
  return PartyType::kOrganization;
}

OrgKind ParseOrgKind(std::string_view s) {
  if (s == "underenhet") return OrgKind::kUnderenhet;
  if (s == "organisasjonsledd") return OrgKind::kOrganisasjonsledd;
  return OrgKind::kHovedenhet;
}

Status LineError(std::string_view file, size_t line, std::string_view field,
                 std::string_view what) {
  return Status::InvalidArgument(SnapshotError(file, line, field, what));
}

Status OutOfRange(std::string_view file, size_t line, std::string_view field) {
  return LineError(file, line, field, "out of range");
}

Status Duplicate(std::string_view file, size_t line, std::string_view field, std::string_view what,
                 size_t first_line) {
  return LineError(
      file, line, field,
      "duplicate " + std::string(what) + " (first on line " + std::to_string(first_line) + ")");
}

}  // namespace

RegistryLoader::RegistryLoader(std::string dir, std::string schema_dir)
    : dir_(std::move(dir)),
      schema_dir_(std::move(schema_dir)),
      registry_(std::make_shared<Registry>()) {}

Result<std::shared_ptr<const Registry>> RegistryLoader::Load() {
  // A snapshot file named where its directory is wanted would read as a directory missing
  // its files ("organizations.jsonl/communication-parties.jsonl: ... missing").
  if (std::error_code ec;
      std::filesystem::exists(dir_, ec) && !std::filesystem::is_directory(dir_, ec)) {
    return Status::InvalidArgument(dir_ +
                                   ": is not a directory (the registry is the directory of the "
                                   "snapshot files, communication-parties.jsonl and the others)");
  }
  for (auto step : {&RegistryLoader::ReadParties, &RegistryLoader::ReadOrganizations,
                    &RegistryLoader::ReadClients, &RegistryLoader::ReadReservations,
                    &RegistryLoader::ReadOwners, &RegistryLoader::ResolveOrganizations,
                    &RegistryLoader::ResolveParties}) {
    if (Status s = (this->*step)(); !s.ok()) {
      // "organizations.jsonl:12: ..." names the file within the directory: say which directory.
      const std::string& m = s.message();
      const std::string_view file = std::string_view(m).substr(0, m.find(':'));
      if (s.code() == Status::Code::kInvalidArgument && file.size() < m.size() &&
          file.ends_with(".jsonl") && file.find('/') == std::string_view::npos) {
        return Status::InvalidArgument(dir_ + "/" + m);
      }
      return s;
    }
  }
  return std::shared_ptr<const Registry>(std::move(registry_));
}

Status RegistryLoader::ReadSnapshot(std::string_view file, bool required,
                                    const SnapshotLineFn& on_line) {
  const std::string path = dir_ + "/" + std::string(file);
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (!ec && !exists) {
    if (required) return Status::NotFound(path + ": required snapshot file missing");
    return Status::OK();
  }
  std::string schema_name(file.substr(0, file.rfind('.')));
  schema_name += ".schema.json";
  auto schema = LoadSchema(schema_dir_, schema_name);
  if (!schema.ok()) return schema.status();
  size_t records = 0;
  if (Status s = ForEachSnapshotLine(path, file, **schema,
                                     [&](const rapidjson::Value& r, size_t line) {
                                       ++records;
                                       return on_line(r, line);
                                     });
      !s.ok()) {
    return s;
  }
  // The Address Registry and Enhetsregisteret are never empty: an empty export is one cut
  // short or failed, and taking it would make every party unknown (findings for every call).
  if (required && records == 0) {
    return Status::InvalidArgument(path +
                                   ": holds no records; a snapshot of it is never empty "
                                   "(an export that failed or was cut short?)");
  }
  return Status::OK();
}

Status RegistryLoader::ReadParties() {
  constexpr std::string_view kFile = kPartiesFile;
  return ReadSnapshot(kFile, true, [this, kFile](const rapidjson::Value& r, size_t line) {
    CommunicationParty p;
    if (!HerIdField(r, "herId", &p.her_id)) return OutOfRange(kFile, line, "/herId");
    if (!HerIdField(r, "parentHerId", &p.parent_her_id)) {
      return OutOfRange(kFile, line, "/parentHerId");
    }
    p.name = StringField(r, "name");
    p.type = ParsePartyType(StringField(r, "type"));
    p.organization_number = StringField(r, "organizationNumber");
    p.parent_organization_number = StringField(r, "parentOrganizationNumber");
    if (auto it = r.FindMember("active"); it != r.MemberEnd()) p.active = it->value.GetBool();

    auto [seen, inserted] = party_line_.emplace(p.her_id, line);
    if (!inserted) {
      return Duplicate(kFile, line, "/herId", "herId " + std::to_string(p.her_id), seen->second);
    }
    party_order_.push_back(p.her_id);
    registry_->parties_.emplace(p.her_id, std::move(p));
    return Status::OK();
  });
}

Status RegistryLoader::ReadOrganizations() {
  constexpr std::string_view kFile = kOrganizationsFile;
  return ReadSnapshot(kFile, true, [this, kFile](const rapidjson::Value& r, size_t line) {
    Registry::OrgEntry entry;
    OrgUnit& u = entry.unit;
    u.orgnr = StringField(r, "organisasjonsnummer");
    u.name = StringField(r, "navn");
    u.parent = StringField(r, "overordnetEnhet");
    u.kind = ParseOrgKind(StringField(r, "kind"));

    auto [seen, inserted] = org_line_.emplace(u.orgnr, line);
    if (!inserted) {
      return Duplicate(kFile, line, "/organisasjonsnummer", "organisasjonsnummer " + u.orgnr,
                       seen->second);
    }
    org_order_.push_back(u.orgnr);
    std::string key = u.orgnr;
    registry_->orgs_.emplace(std::move(key), std::move(entry));
    return Status::OK();
  });
}

Status RegistryLoader::ReadClients() {
  constexpr std::string_view kFile = kClientsFile;
  Registry::StringMap<size_t> lines;
  return ReadSnapshot(kFile, false, [this, kFile, &lines](const rapidjson::Value& r, size_t line) {
    ClientInfo c;
    c.client_id = StringField(r, "clientId");
    c.client_name = StringField(r, "clientName");
    c.orgnr_supplier = StringField(r, "orgnrSupplier");
    auto [seen, inserted] = lines.emplace(c.client_id, line);
    if (!inserted) {
      return Duplicate(kFile, line, "/clientId", "clientId " + c.client_id, seen->second);
    }
    std::string key = c.client_id;
    registry_->clients_.emplace(std::move(key), std::move(c));
    return Status::OK();
  });
}

Status RegistryLoader::ReadReservations() {
  constexpr std::string_view kFile = kReservationsFile;
  std::unordered_map<HerId, size_t> lines;
  return ReadSnapshot(kFile, false, [this, kFile, &lines](const rapidjson::Value& r, size_t line) {
    Reservation res;
    if (!HerIdField(r, "herId", &res.her_id)) return OutOfRange(kFile, line, "/herId");
    res.client_id = StringField(r, "clientId");
    const std::string since = StringField(r, "since");
    const std::optional<EventTime> t = ParseRfc3339(since);
    if (!t) return LineError(kFile, line, "/since", "not a valid RFC 3339 time: " + since);
    res.since = *t;
    // A party holds at most one lock; two lines for one party contradict each other.
    auto [seen, inserted] = lines.emplace(res.her_id, line);
    if (!inserted) {
      return Duplicate(kFile, line, "/herId", "herId " + std::to_string(res.her_id), seen->second);
    }
    registry_->reservations_.push_back(std::move(res));
    return Status::OK();
  });
}

Status RegistryLoader::ReadOwners() {
  constexpr std::string_view kFile = kOwnersFile;
  std::unordered_map<HerId, size_t> lines;
  return ReadSnapshot(kFile, false, [this, kFile, &lines](const rapidjson::Value& r, size_t line) {
    HerId her_id = 0;
    if (!HerIdField(r, "herId", &her_id)) return OutOfRange(kFile, line, "/herId");
    auto [seen, inserted] = lines.emplace(her_id, line);
    if (!inserted) {
      return Duplicate(kFile, line, "/herId", "herId " + std::to_string(her_id), seen->second);
    }
    registry_->owners_.emplace(her_id, StringField(r, "clientId"));
    return Status::OK();
  });
}

}  // namespace edi
