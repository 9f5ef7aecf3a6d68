// Detector: the detect stage. Evaluates the rules in use over each PartyFacts of an event,
// turns every match into a Finding (deterministic id, the finding record of
// shared/DETECTIONS.md) and folds repeats into earlier findings with the FindingTracker.
//
// Not synchronised: the pipeline's thread owns it. The rule set may be swapped by another
// thread through the RuleEngine; each event is evaluated against one rule set.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "detect/finding_tracker.h"
#include "detect/rules.h"
#include "registry/registry.h"
#include "state/facts.h"

namespace edi {

// A finding to store: a new one, or an earlier one whose occurrences and last_seen changed.
struct FindingChange {
  bool is_new = true;
  bool escalated = false;  // a repeat that raised the earlier finding's severity
  Finding finding;
  std::string repeat_key;
};

struct DetectCounters {
  uint64_t evaluations = 0;  // (event, party) pairs evaluated
  uint64_t matches = 0;
  std::array<uint64_t, 5> new_by_severity{};
};

class Detector {
 public:
  Detector(const RuleEngine* engine, FindingTrackerOptions options = {});

  // Evaluates every PartyFacts; appends the resulting changes to *out.
  void Evaluate(const std::vector<PartyFacts>& facts, const Registry& registry,
                std::vector<FindingChange>* out);

  FindingTracker& tracker() { return tracker_; }
  const DetectCounters& counters() const { return counters_; }

 private:
  Finding MakeFinding(const RuleMatch& m, const PartyFacts& f, const Registry& registry,
                      const FactsSource& fields) const;
  std::string Evidence(const FactsSource& fields) const;

  const RuleEngine* engine_;
  FindingTracker tracker_;
  DetectCounters counters_;
  std::vector<RuleMatch> matches_;
  struct EvidenceField {
    std::string name;
    FieldId id;
    bool about_the_call;  // describes the call, not the party or its lock
  };
  std::vector<EvidenceField> evidence_fields_;
  FieldId trigger_field_ = 0;
};

}  // namespace edi
