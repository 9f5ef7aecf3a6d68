#include "detect/finding_tracker.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/time.h"
#include "detect/finding.h"

namespace edi {
namespace {

const EventTime kT0 = *ParseRfc3339("2026-05-08T08:00:00.000Z");

Finding Candidate(EventTime time, HerId her_id = 8142520, std::string request_id = "req-1") {
  Finding f;
  f.rule = "edi.foreign-send";
  f.severity = Severity::kHigh;
  f.time = time;
  f.request_id = std::move(request_id);
  f.client_id = "client-b";
  f.her_id = her_id;
  f.id = FindingId(f.rule, f.request_id, f.time, f.her_id, f.message_id);
  f.summary = "client-b sent for party " + std::to_string(her_id);
  return f;
}

FindingTracker::Decision Track(FindingTracker& tracker, const Finding& f) {
  return tracker.Track(f, DefaultRepeatKey(f));
}

TEST(FindingIdTest, IsFDashAndSixteenHexDigits) {
  const std::string id = FindingId("edi.foreign-send", "req-1", 1777875389002, 8142520, "");
  ASSERT_EQ(id.size(), 18u);
  EXPECT_EQ(id.substr(0, 2), "f-");
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef", 2), std::string::npos);
}

TEST(FindingIdTest, EveryFieldChangesTheId) {
  const std::string base = FindingId("r", "req", 10, 1, "m");
  EXPECT_NE(base, FindingId("r2", "req", 10, 1, "m"));
  EXPECT_NE(base, FindingId("r", "req2", 10, 1, "m"));
  EXPECT_NE(base, FindingId("r", "req", 11, 1, "m"));  // the same requestId used again later
  EXPECT_NE(base, FindingId("r", "req", 10, 2, "m"));
  EXPECT_NE(base, FindingId("r", "req", 10, 1, "m2"));
}

TEST(FindingIdTest, FieldBoundariesMatter) {
  EXPECT_NE(FindingId("ab", "c", 10, 1, ""), FindingId("a", "bc", 10, 1, ""));
}

TEST(FindingIdTest, IsStableAcrossBuilds) {
  // Ids are stored and sent to the alerts topic; this value, computed independently from the
  // documented FNV-1a text, pins the hash.
  EXPECT_EQ(FindingId("edi.foreign-send", "0HN3K2Q7E5T1V:00000011", 1777875389002, 8142520,
                      "733be787-0f1e-4a8c-9f55-0a5c1b1d6a11"),
            "f-ccb0136c51bdda9e");
  EXPECT_EQ(FindingId("", "", 0, 0, ""), "f-8701f022029ed00b");
}

TEST(FindingTrackerTest, AFirstCandidateIsANewFinding) {
  FindingTracker tracker;
  const auto d = Track(tracker, Candidate(kT0));
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kNew);
  ASSERT_NE(d.finding, nullptr);
  EXPECT_EQ(d.finding->occurrences, 1u);
  EXPECT_EQ(d.finding->last_seen, kT0);
  EXPECT_EQ(tracker.counters().new_findings, 1u);
  EXPECT_EQ(tracker.counters().repeats, 0u);
}

TEST(FindingTrackerTest, RepeatsWithinTheHourIncrementOccurrencesAndLastSeenAndAreCounted) {
  FindingTracker tracker;
  const Finding first = Candidate(kT0, 8142520, "req-1");
  Track(tracker, first);
  Track(tracker, Candidate(kT0 + 10 * kMillisPerMinute, 8142520, "req-2"));
  const auto d = Track(tracker, Candidate(kT0 + 59 * kMillisPerMinute, 8142520, "req-3"));
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kRepeat);
  ASSERT_NE(d.finding, nullptr);
  EXPECT_EQ(d.finding->id, first.id);
  EXPECT_EQ(d.finding->request_id, "req-1");
  EXPECT_EQ(d.finding->occurrences, 3u);
  EXPECT_EQ(d.finding->last_seen, kT0 + 59 * kMillisPerMinute);
  EXPECT_EQ(tracker.counters().new_findings, 1u);
  EXPECT_EQ(tracker.counters().repeats, 2u);
}

// A denied attempt (low) followed by a successful one (critical) within the hour: the finding
// becomes critical and names the call that made it so; a less severe repeat changes nothing.
TEST(FindingTrackerTest, AMoreSevereRepeatRaisesTheFindingsSeverityAndSaysByWhichCall) {
  FindingTracker tracker;
  Finding denied = Candidate(kT0, 8142520, "req-1");
  denied.severity = Severity::kLow;
  denied.action = "send";
  denied.status = 403;
  denied.evidence = R"({"evt.status":403})";
  const std::string id = Track(tracker, denied).finding->id;
  Finding ok = Candidate(kT0 + 5 * kMillisPerMinute, 8142520, "req-2");
  ok.severity = Severity::kCritical;
  ok.action = "send";
  ok.status = 201;
  auto d = Track(tracker, ok);
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kEscalated);
  ASSERT_NE(d.finding, nullptr);
  EXPECT_EQ(d.finding->id, id);
  EXPECT_EQ(d.finding->request_id, "req-1");  // still the finding the first call raised
  EXPECT_EQ(d.finding->severity, Severity::kCritical);
  EXPECT_EQ(d.finding->occurrences, 2u);
  EXPECT_EQ(d.finding->evidence,
            R"({"evt.status":403,"escalatedBy":{"requestId":"req-2","time":")" +
                FormatRfc3339(kT0 + 5 * kMillisPerMinute) +
                R"(","action":"send","status":201,"severityBefore":"low"}})");
  EXPECT_NE(d.finding->summary.find("client-b sent for party 8142520. Raised to critical by a "
                                    "later call: send (status 201)"),
            std::string::npos)
      << d.finding->summary;
  EXPECT_EQ(tracker.counters().escalations, 1u);
  EXPECT_EQ(tracker.counters().repeats, 1u);
  // Less or equally severe repeats are plain repeats; the escalation stays in the evidence.
  Finding again = denied;
  again.time = kT0 + 10 * kMillisPerMinute;
  again.request_id = "req-3";
  d = Track(tracker, again);
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kRepeat);
  EXPECT_EQ(d.finding->severity, Severity::kCritical);
  EXPECT_NE(d.finding->evidence.find("req-2"), std::string::npos);
  EXPECT_EQ(tracker.counters().escalations, 1u);
}

TEST(FindingTrackerTest, ASecondEscalationReplacesTheFirstInEvidenceAndSummary) {
  FindingTracker tracker;
  Finding low = Candidate(kT0, 8142520, "req-1");
  low.severity = Severity::kLow;
  Track(tracker, low);
  Finding high = Candidate(kT0 + 1000, 8142520, "req-2");
  high.evidence = "not json";
  Track(tracker, high);
  Finding critical = Candidate(kT0 + 2000, 8142520, "req-3");
  critical.severity = Severity::kCritical;
  const auto d = Track(tracker, critical);
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kEscalated);
  EXPECT_EQ(d.finding->evidence.find("req-2"), std::string::npos) << d.finding->evidence;
  EXPECT_NE(d.finding->evidence.find(R"("requestId":"req-3")"), std::string::npos);
  EXPECT_NE(d.finding->evidence.find(R"("severityBefore":"high")"), std::string::npos);
  EXPECT_EQ(d.finding->summary.find("Raised to high"), std::string::npos) << d.finding->summary;
  EXPECT_NE(d.finding->summary.find("Raised to critical"), std::string::npos);
  EXPECT_EQ(tracker.counters().escalations, 2u);
  EXPECT_EQ(d.finding->escalated_from, Severity::kHigh);
}

// The summary's own words are kept even where they read like an escalation's sentence; empty
// evidence becomes an object with the escalation alone.
TEST(FindingTrackerTest, AnEscalationCutsOnlyTheSentenceAnEarlierOneAppended) {
  FindingTracker tracker;
  Finding low = Candidate(kT0, 8142520, "req-1");
  low.severity = Severity::kLow;
  low.summary = "Client Raised to glory (c-1) sent for party 8142520.";
  Track(tracker, low);
  Finding critical = Candidate(kT0 + 1000, 8142520, "req-2");
  critical.severity = Severity::kCritical;
  const auto d = Track(tracker, critical);
  EXPECT_EQ(d.finding->summary.rfind("Client Raised to glory (c-1) sent for party 8142520. ", 0),
            0u)
      << d.finding->summary;
  EXPECT_EQ(d.finding->evidence.rfind(R"({"escalatedBy":{"requestId":"req-2")", 0), 0u)
      << d.finding->evidence;
}

TEST(FindingTrackerTest, ARepeatAnHourAfterTheFirstIsANewFindingEvenIfRepeatsCameBetween) {
  FindingTracker tracker;
  Track(tracker, Candidate(kT0, 8142520, "req-1"));
  Track(tracker, Candidate(kT0 + 50 * kMillisPerMinute, 8142520, "req-2"));
  const auto d = Track(tracker, Candidate(kT0 + kMillisPerHour, 8142520, "req-3"));
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kNew);
  EXPECT_EQ(d.finding->request_id, "req-3");
  EXPECT_EQ(d.finding->occurrences, 1u);
  EXPECT_EQ(tracker.counters().new_findings, 2u);
  EXPECT_EQ(tracker.counters().repeats, 1u);
  // The new finding opens the next window.
  EXPECT_EQ(Track(tracker, Candidate(kT0 + 90 * kMillisPerMinute, 8142520, "req-4")).outcome,
            FindingTracker::Outcome::kRepeat);
}

TEST(FindingTrackerTest, ADifferentPartyIsANewFinding) {
  FindingTracker tracker;
  Track(tracker, Candidate(kT0, 8142520, "req-1"));
  const auto d = Track(tracker, Candidate(kT0 + 1, 8142521, "req-2"));
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kNew);
  EXPECT_EQ(tracker.counters().new_findings, 2u);
  EXPECT_EQ(tracker.tracked(), 2u);
}

TEST(FindingTrackerTest, ADifferentMessageOrClientIsANewFinding) {
  FindingTracker tracker;
  Finding a = Candidate(kT0);
  Finding b = Candidate(kT0 + 1, 8142520, "req-2");
  b.message_id = "733be787-0f1e-4a8c-9f55-0a5c1b1d6a11";
  Finding c = Candidate(kT0 + 2, 8142520, "req-3");
  c.client_id = "client-c";
  Track(tracker, a);
  EXPECT_EQ(Track(tracker, b).outcome, FindingTracker::Outcome::kNew);
  EXPECT_EQ(Track(tracker, c).outcome, FindingTracker::Outcome::kNew);
}

TEST(FindingTrackerTest, ARecordSlightlyOutOfOrderIsStillARepeat) {
  FindingTracker tracker;
  Track(tracker, Candidate(kT0, 8142520, "req-1"));
  const auto d = Track(tracker, Candidate(kT0 - 5 * kMillisPerMinute, 8142520, "req-0"));
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kRepeat);
  EXPECT_EQ(d.finding->occurrences, 2u);
  EXPECT_EQ(d.finding->last_seen, kT0);  // last_seen never goes back
}

TEST(FindingTrackerTest, ALateRecordWhoseWindowClosedIsANewUntrackedFinding) {
  FindingTracker tracker;
  Track(tracker, Candidate(kT0 + 3 * kMillisPerHour, 8142520, "req-9"));
  const auto d = Track(tracker, Candidate(kT0, 8142520, "req-1"));
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kNew);
  EXPECT_EQ(d.finding->request_id, "req-1");
  EXPECT_EQ(tracker.tracked(), 1u);
  EXPECT_EQ(tracker.counters().new_findings, 2u);
}

TEST(FindingTrackerTest, ACandidateDatedAfterTheClockLimitNeitherClosesWindowsNorTakesRepeats) {
  FindingTracker tracker;
  tracker.set_clock_limit(kT0 + kMillisPerDay);
  Track(tracker, Candidate(kT0, 8142520, "req-1"));
  // Years ahead (a gateway's clock fault): a finding of its own, not tracked.
  const auto ahead = Track(tracker, Candidate(kT0 + 1000 * kMillisPerDay, 8142520, "req-2"));
  EXPECT_EQ(ahead.outcome, FindingTracker::Outcome::kNew);
  EXPECT_EQ(ahead.finding->request_id, "req-2");
  EXPECT_EQ(tracker.now(), kT0);
  EXPECT_EQ(tracker.tracked(), 1u);
  // The window opened by req-1 still takes its repeats.
  const auto d = Track(tracker, Candidate(kT0 + kMillisPerMinute, 8142520, "req-3"));
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kRepeat);
  EXPECT_EQ(d.finding->request_id, "req-1");
  EXPECT_EQ(d.finding->occurrences, 2u);
}

TEST(FindingTrackerTest, FindingsAreForgottenOnceEventTimePassesTheirWindow) {
  FindingTracker tracker;
  for (int i = 0; i < 100; ++i) Track(tracker, Candidate(kT0 + i, 1000 + i));
  EXPECT_EQ(tracker.tracked(), 100u);
  tracker.AdvanceTo(kT0 + kMillisPerHour + 50);
  EXPECT_EQ(tracker.tracked(), 49u);
  Track(tracker, Candidate(kT0 + 2 * kMillisPerHour, 1));
  EXPECT_EQ(tracker.tracked(), 1u);
  EXPECT_EQ(tracker.counters().forgotten, 100u);
}

TEST(FindingTrackerTest, TheWindowIsConfigurable) {
  FindingTracker tracker(FindingTrackerOptions{10 * kMillisPerMinute});
  Track(tracker, Candidate(kT0));
  EXPECT_EQ(Track(tracker, Candidate(kT0 + 9 * kMillisPerMinute, 8142520, "r2")).outcome,
            FindingTracker::Outcome::kRepeat);
  EXPECT_EQ(Track(tracker, Candidate(kT0 + 10 * kMillisPerMinute, 8142520, "r3")).outcome,
            FindingTracker::Outcome::kNew);
}

TEST(FindingTrackerTest, RestoreAfterARestartContinuesTheOpenWindow) {
  FindingTracker before;
  Track(before, Candidate(kT0, 8142520, "req-1"));
  const auto d = Track(before, Candidate(kT0 + 20 * kMillisPerMinute, 8142520, "req-2"));
  // What the store holds after the crash: the finding as last updated, with its key.
  std::vector<KeyedFinding> stored = {{*d.finding, DefaultRepeatKey(*d.finding)}};

  FindingTracker after;
  after.Restore(stored);
  EXPECT_EQ(after.tracked(), 1u);
  EXPECT_EQ(after.counters().new_findings, 0u);
  const auto r = Track(after, Candidate(kT0 + 40 * kMillisPerMinute, 8142520, "req-3"));
  EXPECT_EQ(r.outcome, FindingTracker::Outcome::kRepeat);
  EXPECT_EQ(r.finding->request_id, "req-1");
  EXPECT_EQ(r.finding->occurrences, 3u);
  EXPECT_EQ(r.finding->last_seen, kT0 + 40 * kMillisPerMinute);
  // The window still ends an hour after the first finding, not after the restart.
  EXPECT_EQ(Track(after, Candidate(kT0 + 61 * kMillisPerMinute, 8142520, "req-4")).outcome,
            FindingTracker::Outcome::kNew);
}

TEST(FindingTrackerTest, RestoreKeepsTheLaterOfTwoFindingsWithTheSameKey) {
  const Finding old_one = Candidate(kT0 - 30 * kMillisPerMinute, 8142520, "req-old");
  const Finding new_one = Candidate(kT0 + 31 * kMillisPerMinute, 8142520, "req-new");
  FindingTracker tracker;
  tracker.Restore({{new_one, DefaultRepeatKey(new_one)}, {old_one, DefaultRepeatKey(old_one)}});
  const auto d = Track(tracker, Candidate(kT0 + 40 * kMillisPerMinute, 8142520, "req-3"));
  EXPECT_EQ(d.outcome, FindingTracker::Outcome::kRepeat);
  EXPECT_EQ(d.finding->request_id, "req-new");
}

TEST(FindingTrackerTest, RestoreReplacesWhatWasTracked) {
  FindingTracker tracker;
  Track(tracker, Candidate(kT0, 1));
  Track(tracker, Candidate(kT0, 2));
  tracker.Restore({});
  EXPECT_EQ(tracker.tracked(), 0u);
  EXPECT_EQ(Track(tracker, Candidate(kT0 + 1, 1, "again")).outcome, FindingTracker::Outcome::kNew);
}

TEST(RepeatKeyTest, TheDefaultKeyKeepsFieldsApart) {
  EXPECT_NE(DefaultRepeatKey("r", "a|b", 1, "c"), DefaultRepeatKey("r", "a", 1, "b|c"));
  EXPECT_NE(DefaultRepeatKey("r", "a\\", 1, "|c"), DefaultRepeatKey("r", "a\\|", 1, "c"));
  EXPECT_EQ(DefaultRepeatKey("r", "a", 1, "c"), DefaultRepeatKey("r", "a", 1, "c"));
}

class MapFields : public FieldSource {
 public:
  std::map<FieldId, FieldValue> values;
  FieldValue Get(FieldId id) const override {
    auto it = values.find(id);
    return it == values.end() ? FieldValue::Absent() : it->second;
  }
};

TEST(RepeatKeyTest, SuppressFieldsMakeTheKey) {
  MapFields fields;
  fields.values[0] = FieldValue::Str("client-b");
  fields.values[1] = FieldValue::Int(8142520);
  fields.values[2] = FieldValue::Bool(true);
  const std::vector<FieldId> suppress = {0, 1, 2};
  const Finding f = Candidate(kT0);
  EXPECT_EQ(RepeatKey("edi.foreign-send", suppress, fields, f),
            "edi.foreign-send|client-b|8142520|true");
  // Only the suppress fields count: another message is the same repeat.
  Finding other = f;
  other.message_id = "m2";
  EXPECT_EQ(RepeatKey("edi.foreign-send", suppress, fields, f),
            RepeatKey("edi.foreign-send", suppress, fields, other));
}

TEST(RepeatKeyTest, AnAbsentValueDiffersFromAnEmptyOne) {
  MapFields absent;
  MapFields empty;
  empty.values[0] = FieldValue::Str("");
  const std::vector<FieldId> suppress = {0};
  const Finding f = Candidate(kT0);
  EXPECT_NE(RepeatKey("r", suppress, absent, f), RepeatKey("r", suppress, empty, f));
}

TEST(RepeatKeyTest, NoSuppressFieldsMeansTheDefaultKey) {
  MapFields fields;
  const Finding f = Candidate(kT0);
  EXPECT_EQ(RepeatKey(f.rule, {}, fields, f), DefaultRepeatKey(f));
}

}  // namespace
}  // namespace edi
