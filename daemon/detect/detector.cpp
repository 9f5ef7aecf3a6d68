#include "detect/detector.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace edi {

namespace {
// The facts a finding carries as evidence, when present.
constexpr const char* kEvidenceFields[] = {
    "evt.action",
    "evt.status",
    "evt.api",
    "party.known",
    "party.orgnr",
    "party.top_orgnr",
    "party.org_covered",
    "client.herid_claim",
    "party.in_herid_claim",
    "party.lock_holder",
    "party.lock_since",
    "party.lock_inactive_ms",
    "party.lock_denied_others",
    "cfg.lock_op",
    "party.owner",
    "party.owner_source",
    "party.declared_owner",
    "party.learned_owner",
    "party.clients_window",
    "client.new_parties_window",
    "party.first_call_by_client",
    "msg.custody_known",
    "msg.sender_client",
    "msg.sender_her_id",
    "msg.is_receiver",
    "msg.downloaded_by_client",
    "msg.downloaded_by_other",
    "msg.other_downloader",
    "msg.marked_by_other",
    "msg.apprec_by_other",
};
}  // namespace

Detector::Detector(const RuleEngine* engine, FindingTrackerOptions options)
    : engine_(engine), tracker_(options) {
  for (const char* name : kEvidenceFields) {
    const std::string_view n(name);
    const bool about_the_call = n.starts_with("evt.") || n.starts_with("msg.") ||
                                n.starts_with("cfg.") || n.starts_with("client.") ||
                                n == "party.org_covered" || n == "party.in_herid_claim" ||
                                n == "party.first_call_by_client" || n == "party.clients_window";
    if (auto id = FactsCatalog().Find(name))
      evidence_fields_.push_back({name, *id, about_the_call});
  }
  if (auto id = FactsCatalog().Find("evt.trigger")) trigger_field_ = *id;
}

std::string Detector::Evidence(const FactsSource& fields) const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  // A stale lock is raised by whatever record moves event time on, the holder's or not: the
  // facts of that call say nothing about the lock.
  const FieldValue trigger = fields.Get(trigger_field_);
  const bool lock_inactive = trigger.present && trigger.s == "lock_inactive";
  w.StartObject();
  for (const auto& [name, id, about_the_call] : evidence_fields_) {
    if (lock_inactive && about_the_call) continue;
    const FieldValue v = fields.Get(id);
    if (!v.present) continue;
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    switch (v.type) {
      case FieldType::kBool:
        w.Bool(v.i != 0);
        break;
      case FieldType::kInt:
        w.Int64(v.i);
        break;
      case FieldType::kString:
        w.String(v.s.data(), static_cast<rapidjson::SizeType>(v.s.size()));
        break;
    }
  }
  w.EndObject();
  return sb.GetString();
}

Finding Detector::MakeFinding(const RuleMatch& m, const PartyFacts& f, const Registry& registry,
                              const FactsSource& fields) const {
  const AccessEvent& e = *f.event;
  Finding out;
  out.rule = std::string(m.rule_id);
  out.severity = m.severity;
  out.time = e.time;
  out.last_seen = e.time;
  out.request_id = e.request_id;
  out.client_id = std::string(f.client_id);
  out.client_name = std::string(f.client_name);
  if (out.client_name.empty()) {
    if (const ClientInfo* ci = registry.FindClient(out.client_id))
      out.client_name = ci->client_name;
  }
  if (f.has_party) {
    out.her_id = f.her_id;
    if (f.party != nullptr) out.party_top_orgnr = f.party->top_orgnr;
  }
  if (f.trigger == Trigger::kCall) {
    out.message_id = e.message_id;
    out.orgnr_parent = e.client.orgnr_parent;
    out.action = std::string(ActionName(e.action));
    out.status = e.status;
  } else {
    out.action = "lock_inactive";
  }
  out.summary = m.summary;
  out.tags.assign(m.tags.begin(), m.tags.end());
  out.evidence = Evidence(fields);
  out.id = FindingId(out.rule, out.request_id, out.time, out.her_id, out.message_id);
  return out;
}

void Detector::Evaluate(const std::vector<PartyFacts>& facts, const Registry& registry,
                        std::vector<FindingChange>* out) {
  const std::shared_ptr<const RuleSet> rules = engine_->current();
  FactsSource fields;
  for (const PartyFacts& f : facts) {
    fields.Reset(&f);
    matches_.clear();
    rules->Evaluate(fields, &matches_);
    ++counters_.evaluations;
    for (const RuleMatch& m : matches_) {
      ++counters_.matches;
      Finding candidate = MakeFinding(m, f, registry, fields);
      const RuleInfo& info = rules->rules()[m.rule_index];
      std::string key = RepeatKey(m.rule_id, info.suppress, fields, candidate);
      FindingTracker::Decision d = tracker_.Track(std::move(candidate), key);
      FindingChange change;
      change.is_new = d.outcome == FindingTracker::Outcome::kNew;
      change.escalated = d.outcome == FindingTracker::Outcome::kEscalated;
      change.finding = *d.finding;
      change.repeat_key = std::move(key);
      if (change.is_new) ++counters_.new_by_severity[static_cast<size_t>(change.finding.severity)];
      out->push_back(std::move(change));
    }
  }
}

}  // namespace edi
