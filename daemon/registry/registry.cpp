#include "registry/registry.h"

#include "registry/registry_loader.h"

namespace edi {

Result<std::shared_ptr<const Registry>> Registry::Load(const std::string& dir,
                                                       const std::string& schema_dir) {
  return RegistryLoader(dir, schema_dir).Load();
}

std::shared_ptr<const Registry> Registry::Empty() {
  static const std::shared_ptr<const Registry> empty = std::make_shared<const Registry>();
  return empty;
}

const CommunicationParty* Registry::FindParty(HerId her_id) const {
  auto it = parties_.find(her_id);
  return it == parties_.end() ? nullptr : &it->second;
}

const OrgUnit* Registry::FindOrg(std::string_view orgnr) const {
  auto it = orgs_.find(orgnr);
  return it == orgs_.end() ? nullptr : &it->second.unit;
}

const ClientInfo* Registry::FindClient(std::string_view client_id) const {
  auto it = clients_.find(client_id);
  return it == clients_.end() ? nullptr : &it->second;
}

std::string Registry::TopLevelUnit(std::string_view orgnr) const {
  auto it = orgs_.find(orgnr);
  if (it == orgs_.end() || it->second.ancestors.empty()) return std::string(orgnr);
  return it->second.ancestors.back();
}

bool Registry::Covers(std::string_view top, std::string_view orgnr) const {
  if (top.empty() || orgnr.empty()) return false;
  if (orgnr == top) return true;
  auto it = orgs_.find(orgnr);
  if (it == orgs_.end()) return false;
  for (const std::string& ancestor : it->second.ancestors) {
    if (ancestor == top) return true;
  }
  return false;
}

const std::string* Registry::DeclaredOwner(HerId her_id) const {
  auto it = owners_.find(her_id);
  return it == owners_.end() ? nullptr : &it->second;
}

}  // namespace edi
