// The tree half of RegistryLoader: the chain of parents above every Enhetsregisteret unit and
// the organisation of every communication party. Both trees come from the snapshot, so both
// are checked for cycles before anything relies on them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "registry/registry_loader.h"

namespace edi {
namespace {

// The state of a node during a walk up its tree: on the path being walked, or resolved.
enum class Mark : uint8_t { kOnPath, kDone };

// "a -> b -> c -> a" for the cycle that starts at path[from].
template <typename T, typename ToText>
std::string CycleText(const std::vector<T>& path, size_t from, ToText to_text) {
  std::string out;
  for (size_t i = from; i < path.size(); ++i) out += to_text(path[i]) + " -> ";
  return out + to_text(path[from]);
}

// The index in path[from..] of the element whose line is first in the file, so that a cycle is
// reported at the same line whichever unit the walk started from.
template <typename T, typename LineOf>
size_t EarliestInFile(const std::vector<T>& path, size_t from, LineOf line_of) {
  size_t best = from;
  for (size_t i = from + 1; i < path.size(); ++i) {
    if (line_of(path[i]) < line_of(path[best])) best = i;
  }
  return best;
}

// Rotates the cycle path[from..] so that it starts at `start` (an index in that range).
template <typename T>
std::vector<T> CycleFrom(const std::vector<T>& path, size_t from, size_t start) {
  std::vector<T> cycle(path.begin() + static_cast<std::ptrdiff_t>(from), path.end());
  std::rotate(cycle.begin(), cycle.begin() + static_cast<std::ptrdiff_t>(start - from),
              cycle.end());
  return cycle;
}

}  // namespace

Status RegistryLoader::ResolveOrganizations() {
  auto& orgs = registry_->orgs_;
  Registry::StringMap<Mark> marks;
  for (const std::string& start : org_order_) {
    if (marks.count(start) != 0) continue;
    // Walk up until a top-level unit, a unit outside the snapshot, or an already resolved unit;
    // `above` then holds the ancestors of the last unit on the path.
    std::vector<Registry::OrgEntry*> path;
    std::vector<std::string> above;
    Registry::OrgEntry* e = &orgs.find(start)->second;
    while (true) {
      marks[e->unit.orgnr] = Mark::kOnPath;
      path.push_back(e);
      const std::string& parent = e->unit.parent;
      if (parent.empty()) break;
      auto it = orgs.find(parent);
      if (it == orgs.end()) {
        above = {parent};  // not in the snapshot: its own top-level unit
        break;
      }
      auto mark = marks.find(parent);
      if (mark != marks.end() && mark->second == Mark::kDone) {
        above.push_back(parent);
        above.insert(above.end(), it->second.ancestors.begin(), it->second.ancestors.end());
        break;
      }
      if (mark != marks.end()) {
        size_t from = 0;
        while (path[from] != &it->second) ++from;
        auto line_of = [this](const Registry::OrgEntry* o) { return org_line_[o->unit.orgnr]; };
        const auto cycle = CycleFrom(path, from, EarliestInFile(path, from, line_of));
        return Status::InvalidArgument(SnapshotError(
            kOrganizationsFile, line_of(cycle.front()), "/overordnetEnhet",
            "cycle " +
                CycleText(cycle, 0, [](const Registry::OrgEntry* o) { return o->unit.orgnr; })));
      }
      e = &it->second;
    }
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      (*it)->ancestors = above;
      marks[(*it)->unit.orgnr] = Mark::kDone;
      above.insert(above.begin(), (*it)->unit.orgnr);
    }
  }
  return Status::OK();
}

Status RegistryLoader::ResolveParties() {
  auto& parties = registry_->parties_;
  std::unordered_map<HerId, Mark> marks;
  for (HerId start : party_order_) {
    if (marks.count(start) != 0) continue;
    // Walk up parentHerId until a party that names its organisation, or the end of the tree;
    // every party on the path belongs to that organisation ("" when none was found).
    std::vector<CommunicationParty*> path;
    std::string orgnr;
    CommunicationParty* p = &parties.find(start)->second;
    while (true) {
      marks[p->her_id] = Mark::kOnPath;
      path.push_back(p);
      if (p->type == PartyType::kOrganization) {
        orgnr = p->organization_number;
        break;
      }
      if (!p->parent_organization_number.empty()) {
        orgnr = p->parent_organization_number;
        break;
      }
      auto it = parties.find(p->parent_her_id);
      if (p->parent_her_id == -1 || it == parties.end()) break;
      auto mark = marks.find(p->parent_her_id);
      if (mark != marks.end() && mark->second == Mark::kDone) {
        orgnr = it->second.orgnr;
        break;
      }
      if (mark != marks.end()) {
        size_t from = 0;
        while (path[from] != &it->second) ++from;
        auto line_of = [this](const CommunicationParty* q) { return party_line_[q->her_id]; };
        const auto cycle = CycleFrom(path, from, EarliestInFile(path, from, line_of));
        return Status::InvalidArgument(
            SnapshotError(kPartiesFile, line_of(cycle.front()), "/parentHerId",
                          "cycle " + CycleText(cycle, 0, [](const CommunicationParty* q) {
                            return std::to_string(q->her_id);
                          })));
      }
      p = &it->second;
    }
    const std::string top = orgnr.empty() ? std::string() : registry_->TopLevelUnit(orgnr);
    for (CommunicationParty* q : path) {
      q->orgnr = orgnr;
      q->top_orgnr = top;
      marks[q->her_id] = Mark::kDone;
    }
  }
  return Status::OK();
}

}  // namespace edi
