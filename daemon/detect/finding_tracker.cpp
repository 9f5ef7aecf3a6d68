#include "detect/finding_tracker.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <climits>

namespace edi {
namespace {

// Keys are `rule|value|value...`. A value's `\` and `|` are escaped with `\`, so the parts can
// be told apart again and two different value lists never meet; `\-` (which escaping never
// produces) stands for an absent value.
void AppendPart(std::string* key, std::string_view value) {
  key->push_back('|');
  for (const char c : value) {
    if (c == '\\' || c == '|') key->push_back('\\');
    key->push_back(c);
  }
}

void AppendAbsent(std::string* key) { key->append("|\\-"); }

// `first` takes the severity of the more severe repeat `by`; its evidence names the call that
// raised it (replacing an earlier escalation's) and its summary says so.
void Escalate(Finding* first, const Finding& by) {
  const Severity before = first->severity;
  first->severity = by.severity;
  first->escalated_from = before;
  rapidjson::Document doc;
  doc.Parse(first->evidence.data(), first->evidence.size());
  if (first->evidence.empty()) {
    doc.SetObject();
  } else if (doc.HasParseError() || !doc.IsObject()) {
    rapidjson::Document text;
    text.SetObject();
    text.AddMember("text",
                   rapidjson::Value(first->evidence.data(),
                                    static_cast<rapidjson::SizeType>(first->evidence.size()),
                                    text.GetAllocator()),
                   text.GetAllocator());
    doc.Swap(text);
  }
  auto& a = doc.GetAllocator();
  auto str = [&a](std::string_view s) {
    return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
  };
  rapidjson::Value by_call(rapidjson::kObjectType);
  by_call.AddMember("requestId", str(by.request_id), a);
  by_call.AddMember("time", str(FormatRfc3339(by.time)), a);
  by_call.AddMember("action", str(by.action), a);
  by_call.AddMember("status", by.status, a);
  by_call.AddMember("severityBefore", str(SeverityName(before)), a);
  const bool escalated_before = doc.RemoveMember("escalatedBy");
  doc.AddMember("escalatedBy", by_call, a);
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  doc.Accept(w);
  first->evidence.assign(sb.GetString(), sb.GetSize());
  static constexpr std::string_view kRaised = " Raised to ";
  // Only the sentence an earlier escalation appended goes (the summary's own text, a client's
  // name say, may hold the same words).
  if (const size_t at = first->summary.rfind(kRaised);
      escalated_before && at != std::string::npos) {
    first->summary.resize(at);
  }
  if (!first->summary.empty() && first->summary.back() != '.') first->summary += '.';
  first->summary += std::string(kRaised) + std::string(SeverityName(by.severity)) +
                    " by a later call: " + by.action + " (status " + std::to_string(by.status) +
                    ") at " + FormatRfc3339(by.time) + ", request " + by.request_id + ".";
}

}  // namespace

std::string DefaultRepeatKey(std::string_view rule, std::string_view client_id, HerId her_id,
                             std::string_view message_id) {
  std::string key(rule);
  AppendPart(&key, client_id);
  AppendPart(&key, std::to_string(her_id));
  AppendPart(&key, message_id);
  return key;
}

std::string DefaultRepeatKey(const Finding& f) {
  return DefaultRepeatKey(f.rule, f.client_id, f.her_id, f.message_id);
}

std::string RepeatKey(std::string_view rule_id, std::span<const FieldId> suppress,
                      const FieldSource& fields, const Finding& f) {
  if (suppress.empty()) return DefaultRepeatKey(f);
  std::string key(rule_id);
  for (const FieldId id : suppress) {
    const FieldValue v = fields.Get(id);
    if (!v.present) {
      AppendAbsent(&key);
      continue;
    }
    switch (v.type) {
      case FieldType::kBool:
        AppendPart(&key, v.i != 0 ? "true" : "false");
        break;
      case FieldType::kInt:
        AppendPart(&key, std::to_string(v.i));
        break;
      case FieldType::kString:
        AppendPart(&key, v.s);
        break;
    }
  }
  return key;
}

FindingTracker::FindingTracker(FindingTrackerOptions options) : options_(options) {
  options_.window = std::max<EventTime>(options_.window, 1);
}

FindingTracker::Decision FindingTracker::Track(Finding candidate, std::string repeat_key) {
  candidate.occurrences = std::max<uint64_t>(candidate.occurrences, 1);
  candidate.last_seen = std::max(candidate.last_seen, candidate.time);
  if (candidate.time > clock_limit_) return Untracked(std::move(candidate));
  AdvanceTo(candidate.time);

  if (auto it = by_key_.find(repeat_key); it != by_key_.end()) {
    Finding& first = it->second;
    // Forget() has removed every finding whose window ended at or before now, so a tracked
    // finding with this key is at most one window older than the candidate; the candidate may
    // still be older than it (records out of order), which is the same burst when close.
    if (candidate.time > first.time - options_.window) {
      first.occurrences += candidate.occurrences;
      first.last_seen = std::max(first.last_seen, candidate.last_seen);
      ++counters_.repeats;
      if (candidate.severity > first.severity) {
        Escalate(&first, candidate);
        ++counters_.escalations;
        return {Outcome::kEscalated, &first};
      }
      return {Outcome::kRepeat, &first};
    }
  }

  // A late record whose window has already closed: a finding of its own, never tracked,
  // because its window can take no more repeats.
  if (candidate.time + options_.window <= now_) return Untracked(std::move(candidate));
  ++counters_.new_findings;
  expiries_.emplace(candidate.time + options_.window, repeat_key);
  auto [it, inserted] = by_key_.insert_or_assign(std::move(repeat_key), std::move(candidate));
  return {Outcome::kNew, &it->second};
}

FindingTracker::Decision FindingTracker::Untracked(Finding candidate) {
  ++counters_.new_findings;
  late_ = std::move(candidate);
  return {Outcome::kNew, &late_};
}

void FindingTracker::Restore(std::vector<KeyedFinding> recent) {
  by_key_.clear();
  expiries_ = {};
  now_ = INT64_MIN;
  for (KeyedFinding& k : recent) {
    Finding& f = k.finding;
    now_ = std::max({now_, f.time, f.last_seen});
    auto it = by_key_.find(k.repeat_key);
    if (it != by_key_.end()) {
      if (it->second.time >= f.time) continue;
      it->second = std::move(f);
    } else {
      it = by_key_.emplace(std::move(k.repeat_key), std::move(f)).first;
    }
    expiries_.emplace(it->second.time + options_.window, it->first);
  }
  const uint64_t forgotten = counters_.forgotten;
  Forget();
  counters_.forgotten = forgotten;  // restoring old findings is not this process's forgetting
}

void FindingTracker::AdvanceTo(EventTime now) {
  if (now <= now_) return;
  now_ = now;
  Forget();
}

void FindingTracker::Forget() {
  while (!expiries_.empty() && expiries_.top().first <= now_) {
    const Expiry& top = expiries_.top();
    auto it = by_key_.find(top.second);
    // A key replaced by a later finding (Restore) still has the older heap entry: skip it.
    if (it != by_key_.end() && it->second.time + options_.window == top.first) {
      by_key_.erase(it);
      ++counters_.forgotten;
    }
    expiries_.pop();
  }
}

}  // namespace edi
