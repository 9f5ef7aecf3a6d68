// FindingTracker: repeat suppression (shared/DETECTIONS.md, "Repeats").
//
// A rule that fires again for the same thing within the window does not make a second finding:
// the first finding's `occurrences` goes up and its `last_seen` moves on, and the repeat is
// counted. What "the same thing" means is the repeat key, a string the caller builds from the
// rule id and the values of the rule's `suppress` fields (RepeatKey), or, for a rule without
// them, from (rule, client id, party HER-Id, message id) (DefaultRepeatKey).
//
// A repeat more severe than the finding it is folded into raises that finding's severity
// (a denied attempt followed by a successful one, a download followed by a mark the lock
// blocks): the finding's evidence gets `escalatedBy` (the request, time, action, status and the
// severity before), its summary says so, and the caller stores and delivers it again. Folding
// never hides a more severe outcome behind a lesser finding.
//
// Windows are fixed, not sliding: a window opens with a new finding at its event time T and
// takes the candidates less than one window after T (or before it: records may arrive out of
// order) — repeats never extend it. The first candidate outside it
// is a new finding that opens the next window. So a client that keeps doing the same thing
// produces one finding per hour, each with its count, rather than one finding forever.
//
// Time is event time only. The tracker's "now" is the newest event time it has seen; a
// tracked finding is forgotten once now >= its time + window, which bounds memory to the
// findings of one window. A candidate that arrives late (older than a forgotten window) is a
// new finding: the tracker cannot know what was there.
//
// After a restart (or after the batch transaction that held tracked findings rolled back),
// Restore replaces the tracked state with the findings the store holds for the last window
// (FindingStore::LoadRecent), so the windows that were open continue.
//
// Not synchronised: used by the pipeline's one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/time.h"
#include "detect/finding.h"
#include "state/field.h"

namespace edi {

// A finding together with the repeat key it was tracked under (stored beside it).
struct KeyedFinding {
  Finding finding;
  std::string repeat_key;
};

// The repeat key of a rule without `suppress` fields: (rule, client id, party, message).
std::string DefaultRepeatKey(std::string_view rule, std::string_view client_id, HerId her_id,
                             std::string_view message_id);
std::string DefaultRepeatKey(const Finding& f);

// The repeat key of rule `rule_id` with `suppress` fields for one (event, party): the rule id
// followed by each field's value, in order. An empty `suppress` gives DefaultRepeatKey(f).
// Values are escaped so that different value lists never give the same key, and an absent
// value is distinct from every present one.
std::string RepeatKey(std::string_view rule_id, std::span<const FieldId> suppress,
                      const FieldSource& fields, const Finding& f);

struct FindingTrackerOptions {
  EventTime window = kMillisPerHour;
};

struct FindingTrackerCounters {
  uint64_t new_findings = 0;  // candidates that became findings
  uint64_t repeats = 0;       // candidates folded into an earlier finding
  uint64_t escalations = 0;   // of those, the ones that raised its severity
  uint64_t forgotten = 0;     // tracked findings whose window closed
};

class FindingTracker {
 public:
  enum class Outcome { kNew, kRepeat, kEscalated };

  struct Decision {
    Outcome outcome = Outcome::kNew;
    // kNew: the candidate as tracked (store it). kRepeat: the earlier finding, with its
    // occurrences and last_seen already updated (store those). kEscalated: a repeat that also
    // raised the earlier finding's severity, evidence and summary (store and deliver it
    // again). Valid until the next call of a non-const method.
    const Finding* finding = nullptr;
  };

  explicit FindingTracker(FindingTrackerOptions options = {});

  // Decides whether `candidate` is new or a repeat of a tracked finding with the same key.
  // A repeat adds the candidate's occurrences (normally 1) to the earlier finding and sets its
  // last_seen to the later of the two times; the candidate itself is discarded. A new
  // candidate is tracked as given, with last_seen raised to at least its time.
  Decision Track(Finding candidate, std::string repeat_key);

  // Replaces everything tracked with `recent` (the store's findings since the latest last_seen
  // minus the window, FindingStore::LatestSeen) and "now" with the latest time among them: where
  // the tracker stood when they were stored. Where two share a key, the later one is kept:
  // repeats go to the window opened last. Findings already outside the window are forgotten at
  // once. The counters are not changed: they count this process's decisions.
  void Restore(std::vector<KeyedFinding> recent);

  // Forgets every finding whose window closed before `now` (event time); Track and Restore do
  // this themselves, so calling it is only needed to release memory while no findings come.
  void AdvanceTo(EventTime now);

  // A candidate dated after `limit` (a gateway's clock fault: the caller passes the wall clock
  // plus a day) is a finding of its own, never tracked, and does not move "now" on: it would
  // forget every open window and take the repeats of the coming years.
  void set_clock_limit(EventTime limit) { clock_limit_ = limit; }

  const FindingTrackerCounters& counters() const { return counters_; }
  size_t tracked() const { return by_key_.size(); }
  EventTime now() const { return now_; }
  EventTime window() const { return options_.window; }

 private:
  // (expiry, key): a min-heap entry per tracked finding.
  using Expiry = std::pair<EventTime, std::string>;

  void Forget();
  // A new finding not tracked (late, or dated after the clock limit): kept in late_.
  Decision Untracked(Finding candidate);

  FindingTrackerOptions options_;
  FindingTrackerCounters counters_;
  EventTime now_ = INT64_MIN;
  EventTime clock_limit_ = INT64_MAX;
  std::unordered_map<std::string, Finding> by_key_;
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiries_;
  Finding late_;  // the last untracked candidate (late or dated ahead), Decision::finding's
};

}  // namespace edi
