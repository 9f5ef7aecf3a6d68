// edi-audit's query commands (events, findings, quarantine, record) as an analyst runs them,
// on databases replay wrote.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli_fixture.h"

namespace {

using edi_cli::Output;
using edi_cli::Sh;

class QueryCli : public edi_cli::ReplayCli {};

// The values of one key in each line of JSON lines (strings unquoted, numbers as written).
std::vector<std::string> JsonlValues(const std::string& jsonl, const std::string& key) {
  std::vector<std::string> values;
  size_t at = 0;
  while ((at = jsonl.find("\"" + key + "\":", at)) != std::string::npos) {
    at += key.size() + 3;
    const bool quoted = jsonl[at] == '"';
    const size_t begin = at + (quoted ? 1 : 0);
    const size_t end = quoted ? jsonl.find('"', begin) : jsonl.find_first_of(",}", begin);
    values.push_back(jsonl.substr(begin, end - begin));
  }
  return values;
}

TEST_F(QueryCli, QuarantineListsTheBadRecordsWithTheirReasonsAndBytes) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string quarantine = std::string(EDI_BINARY) + " quarantine --db " + db;
  const std::string sqlite = "sqlite3 " + db + " ";
  // Every quarantined record, once, with its reason: as many per reason as the table holds.
  const Output all = Sh(quarantine + " --format jsonl");
  ASSERT_EQ(all.status, 0) << all.out;
  std::map<std::string, int> per_reason;
  for (const std::string& r : JsonlValues(all.out, "reason")) ++per_reason[r];
  std::string listed;
  for (const auto& [reason, n] : per_reason) listed += reason + "|" + std::to_string(n) + "\n";
  EXPECT_EQ(
      listed,
      Sh(sqlite + "'SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY 1'").out);
  EXPECT_EQ(JsonlValues(all.out, "id").size(), 54u);
  // The table: a header and a line each.
  const Output table = Sh(quarantine);
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 55) << table.out;
  EXPECT_EQ(table.out.rfind("ID  RECEIVED", 0), 0u) << table.out;
  // One reason; the latest two, oldest first.
  const Output schema = Sh(quarantine + " --reason schema --format jsonl");
  const auto schema_reasons = JsonlValues(schema.out, "reason");
  EXPECT_EQ(std::to_string(schema_reasons.size()) + "\n",
            Sh(sqlite + "\"SELECT count(*) FROM quarantine WHERE reason = 'schema'\"").out);
  EXPECT_EQ(std::set<std::string>(schema_reasons.begin(), schema_reasons.end()),
            std::set<std::string>{"schema"});
  EXPECT_EQ(JsonlValues(Sh(quarantine + " --limit 2 --format jsonl").out, "id"),
            (std::vector<std::string>{"53", "54"}));
  // The bytes as kept, exactly.
  const Output raw = Sh(quarantine + " --limit 1 --raw");
  EXPECT_EQ(raw.out, Sh(sqlite + "'SELECT CAST(raw AS TEXT) FROM quarantine WHERE "
                                 "quarantine_id = 54'")
                         .out);
  EXPECT_NE(raw.out.find("\"requestId\":\"bad-"), std::string::npos) << raw.out;
  // A source as the table names it, and one that is not: the sources are named.
  const Output from = Sh(quarantine + " --source file:" EDI_SOURCE_DIR
                                      "/examples/access-log-malformed.jsonl --format jsonl");
  EXPECT_EQ(JsonlValues(from.out, "id").size(), 54u) << from.out;
  const Output relative = Sh(quarantine + " --source access-log-malformed.jsonl");
  EXPECT_EQ(relative.status, 0);
  EXPECT_NE(relative.out.find("no quarantined record has source 'access-log-malformed.jsonl' "
                              "(the sources: file:" EDI_SOURCE_DIR
                              "/examples/access-log-malformed.jsonl)"),
            std::string::npos)
      << relative.out;
  // A reason that is none.
  const Output bad = Sh(quarantine + " --reason nope");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("--reason 'nope' is not a reason; the reasons: oversize, invalid_json"),
            std::string::npos)
      << bad.out;
  // record --request-id of a quarantined record points here.
  const Output record = Sh(std::string(EDI_BINARY) + " record --db " + db + " --request-id bad-53");
  EXPECT_EQ(record.status, 1);
  EXPECT_NE(record.out.find("no stored event has requestId 'bad-53' (a quarantined record names "
                            "it: id "),
            std::string::npos)
      << record.out;
}

TEST_F(QueryCli, EventsShowWhatHappenedToAMessageInTheOrderItHappened) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  // A message another client downloaded after its owner had: its calls, oldest first, with
  // who made each; the id may be given in upper case.
  const Output r = Sh(std::string(EDI_BINARY) + " events --db " + db +
                      " --message 7C4F1D8B-9E0A-4B2C-93D4-4F5A6B7C8D08 --format jsonl");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(JsonlValues(r.out, "action"),
            (std::vector<std::string>{"send", "download", "mark_downloaded", "apprec_send",
                                      "download", "read_status"}))
      << r.out;
  EXPECT_EQ(JsonlValues(r.out, "route")[0], "/messages") << r.out;
  const auto clients = JsonlValues(r.out, "clientName");
  ASSERT_EQ(clients.size(), 6u);
  EXPECT_EQ(clients[4], "Fjordvik integrasjonsplattform");
  EXPECT_NE(clients[1], clients[4]);
  const auto times = JsonlValues(r.out, "time");
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end())) << r.out;
  // The table names the columns and every call.
  const Output table = Sh(std::string(EDI_BINARY) + " events --db " + db +
                          " --message 7c4f1d8b-9e0a-4b2c-93d4-4f5a6b7c8d08");
  EXPECT_EQ(table.out.rfind("TIME ", 0), 0u) << table.out;
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 7) << table.out;
  // The id as a path may carry it (without dashes, in braces, percent-encoded) names the same
  // message.
  for (const char* id :
       {"7c4f1d8b9e0a4b2c93d44f5a6b7c8d08", "'{7C4F1D8B-9E0A-4B2C-93D4-4F5A6B7C8D08}'",
        "7c4f1d8b%2D9e0a%2d4b2c%2D93d4%2D4f5a6b7c8d08",
        "%7B7C4F1D8B-9E0A-4B2C-93D4-4F5A6B7C8D08%7d"}) {
    const Output other = Sh(std::string(EDI_BINARY) + " events --db " + db + " --message " + id);
    EXPECT_EQ(other.status, 0) << other.out;
    EXPECT_EQ(other.out, table.out) << id;
  }
}

// An apprec is a message of its own: the call that sent it is found by the apprec's id (its
// response.id) as well as by the message it answers, and says which apprec it sent.
TEST_F(QueryCli, TheCallThatSentAnApprecIsFoundByTheApprecsIdToo) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string apprec = "9b65d4c7-3e81-4a5f-b6c2-7d0e4a3b1c18";  // ex-0079's response.id
  const Output r = Sh(std::string(EDI_BINARY) + " events --db " + db + " --message " + apprec +
                      " --format jsonl");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(JsonlValues(r.out, "requestId"),
            (std::vector<std::string>{"ex-0079", "ex-0083", "ex-0084"}))
      << r.out;
  EXPECT_NE(r.out.find("\"action\":\"apprec_send\",\"status\":201"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"messageId\":\"7c4f1d8b-9e0a-4b2c-93d4-4f5a6b7c8d08\",\"apprecId\":\"" +
                       apprec + "\""),
            std::string::npos)
      << r.out;
  // Other calls name no apprec.
  EXPECT_NE(r.out.find("\"apprecId\":null"), std::string::npos) << r.out;
}

TEST_F(QueryCli, EventsForAPartyAClientAndATimeRangeCombine) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db + " --format jsonl";
  const std::string sql = "sqlite3 " + db + " \"SELECT count(DISTINCT event_id) FROM ";
  // Everyone who acted for HER-Id 8142531, by any route (request, path, query, custody).
  const Output party = Sh(events + " --her-id 8142531");
  ASSERT_EQ(party.status, 0) << party.out;
  const std::string expected = Sh(sql + "party_event_ids WHERE her_id = 8142531\"").out;
  EXPECT_EQ(std::to_string(JsonlValues(party.out, "eventId").size()) + "\n", expected);
  // Every line a call (stderr, merged in here, may add a hint: quarantined records name it).
  const auto lines = [](const std::string& out) {
    std::istringstream in(out);
    long n = 0;
    for (std::string line; std::getline(in, line);) n += line.rfind("edi-audit ", 0) != 0;
    return n;
  };
  EXPECT_EQ(lines(party.out), static_cast<long>(JsonlValues(party.out, "eventId").size()));
  // CSV: the header, then the same calls.
  const Output csv =
      Sh(std::string(EDI_BINARY) + " events --db " + db + " --her-id 8142531 --format csv");
  EXPECT_EQ(csv.out.rfind("eventId,requestId,time,", 0), 0u) << csv.out;
  EXPECT_EQ(lines(csv.out), static_cast<long>(JsonlValues(party.out, "eventId").size()) + 1);
  const auto party_clients = JsonlValues(party.out, "clientId");
  EXPECT_GT(std::set<std::string>(party_clients.begin(), party_clients.end()).size(), 1u);
  // ... narrowed to one client: only its calls, and all of them.
  const std::string fjordvik = "c41d7e83-5a2b-4c9d-b6e0-8f1a3c5d7e03";
  const Output one = Sh(events + " --her-id 8142531 --client " + fjordvik);
  const auto one_clients = JsonlValues(one.out, "clientId");
  ASSERT_FALSE(one_clients.empty()) << one.out;
  EXPECT_EQ(static_cast<long>(one_clients.size()),
            std::count(party_clients.begin(), party_clients.end(), fjordvik));
  EXPECT_EQ(std::set<std::string>(one_clients.begin(), one_clients.end()),
            std::set<std::string>{fjordvik});
  // Who acted for it: one line per client, its calls summed, the earliest first. Fjordvik's
  // two are the foreign download and the foreign send of the examples.
  const Output who = Sh(events + " --her-id 8142531 --by-client");
  ASSERT_EQ(who.status, 0) << who.out;
  EXPECT_EQ(JsonlValues(who.out, "clientId"),
            (std::vector<std::string>{"7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02", fjordvik}));
  long summed = 0;
  for (const std::string& n : JsonlValues(who.out, "calls")) summed += std::stol(n);
  EXPECT_EQ(summed, static_cast<long>(party_clients.size()));
  EXPECT_NE(who.out.find("\"actions\":{\"download\":1,\"send\":1}"), std::string::npos) << who.out;
  // Legepraksis acted for it under three delegations, one of them outside its organisation
  // (the critical edi.org-membership finding): kept apart.
  EXPECT_NE(who.out.find("\"orgnrParents\":{\"921500001\":1,\"921600001\":1,\"944100001\":19}"),
            std::string::npos)
      << who.out;
  // --limit with --by-client keeps the client that acted last, its calls all counted.
  const auto lasts = JsonlValues(who.out, "last");
  ASSERT_EQ(lasts.size(), 2u);
  const size_t latest = lasts[0] > lasts[1] ? 0 : 1;
  const Output who_last = Sh(events + " --her-id 8142531 --by-client --limit 1");
  ASSERT_EQ(who_last.status, 0) << who_last.out;
  EXPECT_EQ(JsonlValues(who_last.out, "clientId"),
            (std::vector<std::string>{JsonlValues(who.out, "clientId")[latest]}));
  EXPECT_EQ(JsonlValues(who_last.out, "calls"),
            (std::vector<std::string>{JsonlValues(who.out, "calls")[latest]}));
  // ... to some actions: who downloaded or sent for it.
  const Output acts = Sh(events + " --her-id 8142531 --action download --action send");
  const auto act_names = JsonlValues(acts.out, "action");
  EXPECT_EQ(std::set<std::string>(act_names.begin(), act_names.end()),
            (std::set<std::string>{"download", "send"}));
  EXPECT_EQ(act_names.size(), 7u) << acts.out;  // Legepraksis 4 + 1, Fjordvik 1 + 1
  // ... and to one day of event time.
  const Output day = Sh(events + " --her-id 8142531 --since 2026-05-05 --until 2026-05-06");
  const auto day_times = JsonlValues(day.out, "time");
  ASSERT_FALSE(day_times.empty()) << day.out;
  for (const std::string& t : day_times) EXPECT_EQ(t.substr(0, 10), "2026-05-05") << t;
  EXPECT_LT(day_times.size(), JsonlValues(party.out, "time").size());
  // A duration counts back from the newest event stored (2026-05-11T07:30:00.009Z).
  const Output last_hour = Sh(events + " --since 1h");
  for (const std::string& t : JsonlValues(last_hour.out, "time")) {
    EXPECT_GE(t, "2026-05-11T06:30:00.009Z") << t;
  }
  EXPECT_FALSE(JsonlValues(last_hour.out, "time").empty()) << last_hour.out;
  // --limit keeps the newest N, printed oldest first.
  const Output newest = Sh(events + " --her-id 8142531 --limit 2");
  const auto all_times = JsonlValues(party.out, "time");
  EXPECT_EQ(JsonlValues(newest.out, "time"),
            (std::vector<std::string>{all_times[all_times.size() - 2], all_times.back()}));
}

TEST_F(QueryCli, EventsRefuseBadArgumentsAndSayWhy) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db;
  const Output not_uuid = Sh(events + " --message 42");
  EXPECT_EQ(not_uuid.status, 2);
  EXPECT_NE(not_uuid.out.find("not a message id"), std::string::npos) << not_uuid.out;
  const Output bad_time = Sh(events + " --since yesterday");
  EXPECT_EQ(bad_time.status, 2);
  EXPECT_NE(bad_time.out.find("--since 'yesterday'"), std::string::npos) << bad_time.out;
  EXPECT_EQ(Sh(events + " --her-id 0").status, 2);
  const Output bad_action = Sh(events + " --action downlod");
  EXPECT_EQ(bad_action.status, 2);
  EXPECT_NE(bad_action.out.find("mark_downloaded"), std::string::npos) << bad_action.out;
  EXPECT_EQ(Sh(events + " --since 2026-05-06 --until 2026-05-05").status, 2);
  // Durations are named as given, with the times they stand for (back from the newest event,
  // 2026-05-11T07:30:00.009Z).
  const Output reversed = Sh(events + " --since 90m --until 2h");
  EXPECT_EQ(reversed.status, 2);
  EXPECT_NE(reversed.out.find("--since 90m (2026-05-11T06:00:00.009Z) is not before --until 2h "
                              "(2026-05-11T05:30:00.009Z)"),
            std::string::npos)
      << reversed.out;
  // A database without events has no times for durations to stand for (none from 1970).
  const std::string empty_log = (dir_ / "empty.jsonl").string();
  std::ofstream(empty_log).flush();
  const std::string empty_db = (dir_ / "empty.db").string();
  ASSERT_EQ(Sh(std::string(EDI_BINARY) +
               " replay -q --registry " EDI_SOURCE_DIR "/examples/registry --db " + empty_db + " " +
               empty_log)
                .status,
            0);
  const Output empty =
      Sh(std::string(EDI_BINARY) + " events --db " + empty_db + " --since 1d --until 2d");
  EXPECT_EQ(empty.status, 2);
  EXPECT_NE(empty.out.find("--since 1d is not before --until 2d: nothing lies between"),
            std::string::npos)
      << empty.out;
  const Output missing = Sh(std::string(EDI_BINARY) + " events --db " +
                            (dir_ / "none.db").string() + " --her-id 8142531");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("no such database file"), std::string::npos) << missing.out;
  // A database this user may not read says so (SQLite: "unable to open database file").
  const std::string hidden = (dir_ / "hidden.db").string();
  ASSERT_EQ(Sh("cp " + db + " " + hidden + " && chmod 000 " + hidden).status, 0);
  const std::string as_other =
      ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const Output unreadable =
      Sh(as_other + EDI_BINARY + " events --db " + hidden + " --her-id 8142531");
  EXPECT_EQ(unreadable.status, 1);
  EXPECT_NE(unreadable.out.find(hidden + ": cannot open database: Permission denied"),
            std::string::npos)
      << unreadable.out;
  // An empty answer says why on stderr; the output stays what it is (a CSV head alone).
  const Output none = Sh(events + " --her-id 8100000");
  EXPECT_EQ(none.status, 0);
  EXPECT_EQ(none.out, "no calls\nedi-audit events: HER-Id 8100000 occurs in no stored call\n");
  const Output stranger = Sh("(" + events + " --client no-such-client --format csv 2>/dev/null)");
  EXPECT_EQ(stranger.status, 0);
  EXPECT_EQ(std::count(stranger.out.begin(), stranger.out.end(), '\n'), 1) << stranger.out;
  EXPECT_NE(Sh(events + " --client no-such-client")
                .out.find("no client 'no-such-client' in this database, by id or by name"),
            std::string::npos);
}

// Calls dated before 1970 (a gateway's clock fault: the schema takes any year) are found by
// party, client and requestId like any other.
TEST_F(QueryCli, CallsDatedBefore1970AreFoundByEveryFilter) {
  const std::string poll = ExampleRecord("ex-0007");
  ASSERT_FALSE(poll.empty());
  const std::string log = (dir_ / "old.jsonl").string();
  {
    std::ofstream out(log);
    int n = 0;
    for (const char* t : {"0001-01-01T00:00:00.000Z", "1960-05-01T12:00:00.000Z",
                          "1969-12-31T23:59:59.000Z", "1970-01-01T00:00:00.000Z"}) {
      std::string r = poll;
      r.replace(r.find("2026-05-04T07:08:15.441Z"), 24, t);
      r.replace(r.find("ex-0007"), 7, "old-" + std::to_string(++n));
      out << r << "\n";
    }
  }
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db) + " " + log).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db + " --format jsonl";
  const std::vector<std::string> old = {"old-1", "old-2", "old-3", "old-4", "ex-0007"};
  auto first5 = [](std::vector<std::string> v) {
    v.resize(std::min<size_t>(v.size(), 5));
    return v;
  };
  EXPECT_EQ(first5(JsonlValues(Sh(events + " --her-id 8142530").out, "requestId")), old);
  EXPECT_EQ(first5(JsonlValues(Sh(events + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02").out,
                               "requestId")),
            old);
  EXPECT_EQ(JsonlValues(Sh(events + " --request-id old-2").out, "requestId"),
            std::vector<std::string>{"old-2"});
  EXPECT_EQ(JsonlValues(Sh(events + " --her-id 8142530 --until 1970-01-01").out, "requestId"),
            (std::vector<std::string>{"old-1", "old-2", "old-3"}));
}

// A client renamed (a new name in its tokens) is found by either name, and by a name as a
// table cut it, in events and findings alike.
TEST_F(QueryCli, ARenamedClientIsFoundByEveryNameItsTokensGave) {
  std::string renamed = ExampleRecord("ex-0007");
  ASSERT_FALSE(renamed.empty());
  auto replace = [&renamed](const std::string& from, const std::string& to) {
    const size_t at = renamed.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    renamed.replace(at, from.size(), to);
  };
  replace("\"clientName\":\"Legepraksis EPJ\"", "\"clientName\":\"Porsáŋgu Legepraksis Nord\"");
  replace("ex-0007", "renamed-1");
  replace("2026-05-04T07:08:15.441Z", "2026-05-11T09:00:00.000Z");
  const std::string log = (dir_ / "renamed.jsonl").string();
  std::ofstream(log) << renamed << "\n";
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db) + " " + log).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db + " --format jsonl";
  const auto by_id =
      JsonlValues(Sh(events + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02").out, "eventId");
  ASSERT_GT(by_id.size(), 1u);
  EXPECT_EQ(JsonlValues(Sh(events + " --client 'legepraksis epj'").out, "eventId"), by_id);
  EXPECT_EQ(JsonlValues(Sh(events + " --client 'porsáŋgu legepraksis nord'").out, "eventId"),
            by_id);
  EXPECT_EQ(JsonlValues(Sh(events + " --client 'PORSÁŊGU LEGEPRAKSIS NORD'").out, "eventId"),
            by_id);
  EXPECT_EQ(JsonlValues(Sh(events + " --client 'Porsáŋgu Lege…'").out, "eventId"), by_id);
  EXPECT_TRUE(JsonlValues(Sh(events + " --client 'Porsáŋgu Lege'").out, "eventId").empty());
  const std::string findings = std::string(EDI_BINARY) + " findings --db " + db + " --format jsonl";
  EXPECT_EQ(JsonlValues(Sh(findings + " --client 'porsáŋgu legepraksis nord'").out, "id"),
            JsonlValues(Sh(findings + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02").out, "id"));
}

TEST_F(QueryCli, EventsFindAClientByNameARequestAndTheQuarantinedRecordsOfAMessage) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string events = std::string(EDI_BINARY) + " events --db " + db;
  // The CLIENT column's name, in any case, selects what the client id does.
  const Output by_id = Sh(events + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02 --format jsonl");
  const Output by_name = Sh(events + " --client 'legepraksis EPJ' --format jsonl");
  ASSERT_EQ(by_name.status, 0);
  EXPECT_FALSE(JsonlValues(by_id.out, "eventId").empty()) << by_id.out;
  EXPECT_EQ(JsonlValues(by_name.out, "eventId"), JsonlValues(by_id.out, "eventId"));
  // One call by its requestId.
  const Output one = Sh(events + " --request-id ex-0027 --format jsonl");
  EXPECT_EQ(JsonlValues(one.out, "requestId"), std::vector<std::string>{"ex-0027"}) << one.out;
  // Times without an offset are UTC, with or without seconds: the same calls as with Z. The
  // examples have calls at 10:05:14.310Z and 10:20:44.871Z and none between.
  const auto from = [&](const std::string& t) {
    return JsonlValues(Sh(events + " --since " + t + " --format jsonl").out, "time");
  };
  const auto utc = from("2026-05-04T10:05:14Z");
  ASSERT_FALSE(utc.empty());
  EXPECT_EQ(utc.front(), "2026-05-04T10:05:14.310Z");
  EXPECT_EQ(from("2026-05-04T10:05:14.311Z").front(), "2026-05-04T10:20:44.871Z");
  // Calls are timed to the millisecond: a bound given finer is the next millisecond, so a call
  // before it is not listed from it on (nor one at it before it, with --until).
  EXPECT_EQ(from("2026-05-04T10:05:14.3101Z").front(), "2026-05-04T10:20:44.871Z");
  EXPECT_EQ(from("2026-05-04T10:05:14.310000Z").front(), "2026-05-04T10:05:14.310Z");
  const Output until = Sh(events + " --until 2026-05-04T10:05:14.3101Z --format jsonl");
  ASSERT_FALSE(JsonlValues(until.out, "time").empty()) << until.out;
  EXPECT_EQ(JsonlValues(until.out, "time").back(), "2026-05-04T10:05:14.310Z") << until.out;
  for (const char* t : {"2026-05-04T10:05:14", "'2026-05-04 10:05:14'", "2026-05-04T10:05"}) {
    EXPECT_EQ(from(t), utc) << t;
  }
  // ... and not local time, nor an offset: +01:00 is an hour earlier.
  EXPECT_GT(from("2026-05-04T10:05:14+01:00").size(), utc.size());
  // Likewise records quarantined that name a HER-Id (as a number of its own, not a part of a
  // longer one): calls for the party that no rule saw.
  const Output party = Sh(events + " --her-id 8142540");
  EXPECT_NE(party.out.find("40 quarantined records name HER-Id 8142540, not listed here: "
                           "edi-audit quarantine --db " +
                           db + " --contains 8142540"),
            std::string::npos)
      << party.out;
  EXPECT_EQ(Sh(events + " --her-id 814254").out.find("quarantined"), std::string::npos);
  // Records quarantined that name a message are no calls on it; the answer says they exist.
  const std::string m4 = "3e0b7f4d-5a6c-4d8e-9f90-0b1c2d3e4f04";
  const Output calls = Sh(events + " --message " + m4);
  EXPECT_NE(
      calls.out.find("quarantined records name message " + m4 +
                     ", not listed here: edi-audit quarantine --db " + db + " --message " + m4),
      std::string::npos)
      << calls.out;
  const Output quarantined = Sh(std::string(EDI_BINARY) + " quarantine --db " + db + " --message " +
                                m4 + " --format jsonl");
  ASSERT_EQ(quarantined.status, 0);
  const size_t n = JsonlValues(quarantined.out, "reason").size();
  EXPECT_GT(n, 0u);
  EXPECT_NE(calls.out.find(std::to_string(n) + " quarantined records"), std::string::npos)
      << calls.out;
  const Output raw =
      Sh(std::string(EDI_BINARY) + " quarantine --db " + db + " --contains " + m4 + " --raw");
  size_t lines = 0;
  for (size_t at = 0; (at = raw.out.find('\n', at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, n);
  std::string lower_raw = raw.out;
  for (char& c : lower_raw) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t mentions = 0;
  for (size_t at = 0; (at = lower_raw.find(m4, at)) != std::string::npos; at += m4.size()) {
    ++mentions;
  }
  EXPECT_GE(mentions, n);
  // A record naming the message in another form (upper case, no dashes, %2D) names it too.
  std::ofstream(dir_ / "forms.jsonl")
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:00.000Z","requestId":"f1",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/3E0B7F4D5A6C4D8E9F900B1C2D3E4F04/)"
         R"(business-document","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n"
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:01.000Z","requestId":"f2",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/{3e0b7f4d%2D5a6c-4d8e-9f90-0b1c2d)"
         R"(3e4f04}","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n"
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:02.000Z","requestId":"f3",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/3e0b7f4d-5a6c-4d8e-9f90-0b1c2d3e4f05)"
         R"(","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n"
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:03.000Z","requestId":"f4",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/abc3e0b7f4d5a6c4d8e9f900b1c2d3e4f04)"
         R"(","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n"
      << R"({"schemaVersion":1,"timestamp":"2026-05-04T11:00:04.000Z","requestId":"f5",)"
         R"("apiVersion":"3","method":"GET","path":"/messages/%7B3e0b7f4d5a6c4d8e9f900b1c2d3e4f04)"
         R"(%7D","status":99,"client":{"clientId":"c","orgnrParent":"944100001"}})"
         "\n";
  ASSERT_EQ(Sh(std::string(EDI_BINARY) +
               " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
               db + " " + (dir_ / "forms.jsonl").string())
                .status,
            0);
  const Output forms = Sh(std::string(EDI_BINARY) + " quarantine --db " + db + " --message " +
                          "3E0B7F4D5A6C4D8E9F900B1C2D3E4F04 --format jsonl");
  // f1, f2 and f5 name it; f3 names another message, f4 a longer hex string holding it.
  EXPECT_EQ(JsonlValues(forms.out, "reason").size(), n + 3) << forms.out;
  EXPECT_NE(Sh(events + " --message " + m4).out.find(std::to_string(n + 3) + " quarantined"),
            std::string::npos);
}

TEST_F(QueryCli, QueryArgumentsAreReadAsAnAnalystWritesThem) {
  const std::string db = (dir_ / "a.db").string();
  ASSERT_EQ(Sh(Replay(db)).status, 0);
  const std::string bin = std::string(EDI_BINARY);
  const std::string events = bin + " events --db " + db + " --format jsonl";
  const std::string findings = bin + " findings --db " + db + " --format jsonl";
  // Numbers are decimal: a zero-padded HER-Id is that HER-Id, not an octal number for another.
  const auto party = JsonlValues(Sh(events + " --her-id 8142531").out, "eventId");
  ASSERT_FALSE(party.empty());
  EXPECT_EQ(JsonlValues(Sh(events + " --her-id 08142531").out, "eventId"), party);
  EXPECT_EQ(JsonlValues(Sh(findings + " --her-id 08142531").out, "id"),
            JsonlValues(Sh(findings + " --her-id 8142531").out, "id"));
  EXPECT_EQ(JsonlValues(Sh(events + " --limit 010").out, "eventId").size(), 10u);
  EXPECT_EQ(Sh(bin + " record --db " + db + " --event-id 010").out,
            Sh(bin + " record --db " + db + " --event-id 10").out);
  // An empty filter (an unset shell variable) is refused, not read as "everything".
  for (const std::string& cmd :
       {events + " --client ''", events + " --request-id ''", events + " --message ''",
        events + " --since ''", findings + " --client ''", findings + " --rule ''",
        bin + " quarantine --db " + db + " --contains ''",
        bin + " record --db " + db + " --request-id ''"}) {
    const Output empty = Sh(cmd);
    EXPECT_EQ(empty.status, 2) << cmd << "\n" << empty.out;
    EXPECT_NE(empty.out.find("is empty: give a value or leave the option out"), std::string::npos)
        << empty.out;
  }
  // findings --client reads the client as events does: the id in any case, or the name.
  const auto legepraksis =
      JsonlValues(Sh(findings + " --client 7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02").out, "id");
  ASSERT_FALSE(legepraksis.empty());
  EXPECT_EQ(JsonlValues(Sh(findings + " --client 7A2E9B54-1C3D-4F6E-8A90-2D4C6B8E0F02").out, "id"),
            legepraksis);
  EXPECT_EQ(JsonlValues(Sh(findings + " --client 'legepraksis epj'").out, "id"), legepraksis);
  const Output stranger = Sh(findings + " --client no-such-client");
  EXPECT_EQ(stranger.status, 0);
  EXPECT_NE(stranger.out.find("no client 'no-such-client' in this database, by id or by name"),
            std::string::npos)
      << stranger.out;
  // A time with an offset may leave out the seconds, as one without does.
  const auto since = [&](const std::string& t) {
    return JsonlValues(Sh(events + " --since " + t).out, "eventId");
  };
  EXPECT_EQ(since("2026-05-04T11:05+01:00"), since("2026-05-04T10:05:00Z"));
  EXPECT_NE(since("2026-05-04T11:05+01:00"), since("2026-05-04T11:05:00Z"));
  for (const char* odd : {"2026-05-04T10:05.5Z", "2026-05-04T10:05+0100", "2026-05-04T10"}) {
    EXPECT_EQ(Sh(events + " --since " + odd).status, 2) << odd;
  }
  // A number too large for any id says so.
  const Output large = Sh(events + " --limit 99999999999999999999");
  EXPECT_EQ(large.status, 2);
  EXPECT_NE(large.out.find("'99999999999999999999' is too large: at most 9223372036854775807"),
            std::string::npos)
      << large.out;
  // A quarantined record is said to name a request only when it has that requestId, not one
  // the text is a part of.
  EXPECT_NE(Sh(events + " --request-id bad-53").out.find("1 quarantined record names request id"),
            std::string::npos);
  EXPECT_EQ(Sh(events + " --request-id ad-53").out.find("quarantined"), std::string::npos);
  // quarantine --contains ignores case in Norwegian letters too.
  const std::string bad = (dir_ / "bad.jsonl").string();
  std::ofstream(bad) << "{\"clientName\":\"ÆRØY LEGEKONTOR\", not json\n";
  ASSERT_EQ(
      Sh(bin + " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
         db + " " + bad)
          .status,
      0);
  const Output folded = Sh(bin + " quarantine --db " + db + " --contains 'ærøy legekontor' --raw");
  EXPECT_EQ(folded.out, "{\"clientName\":\"ÆRØY LEGEKONTOR\", not json\n");
}

TEST_F(QueryCli, ARecordDatedAheadOfTheClockIsStoredWithAWarningAndQueriesSaySo) {
  const std::string db = (dir_ / "a.db").string();
  const std::string log = (dir_ / "ahead.jsonl").string();
  std::ofstream(log)
      << R"({"schemaVersion":1,"timestamp":"2099-01-01T00:00:00.000Z","requestId":"ahead-1",)"
         R"("apiVersion":"3","method":"GET","path":"/ping","status":200,)"
         R"("client":{"clientId":"7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02","orgnrParent":"944100001"}})"
         "\n";
  const Output replay =
      Sh(std::string(EDI_BINARY) +
         " replay --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " + db +
         " " EDI_SOURCE_DIR "/examples/access-log.jsonl " + log);
  ASSERT_EQ(replay.status, 0) << replay.out;
  EXPECT_NE(replay.out.find("warning: record ahead-1 is dated 2099-01-01T00:00:00.000Z, over a "
                            "day after this machine's clock"),
            std::string::npos)
      << replay.out;
  EXPECT_NE(replay.out.find("dated over a day ahead                1\n"), std::string::npos)
      << replay.out;
  // A duration counts back from the newest event before it; the answer says so.
  const Output events = Sh(std::string(EDI_BINARY) + " events --db " + db + " --since 7d");
  EXPECT_EQ(events.status, 0);
  EXPECT_NE(events.out.find("ahead-1"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("ex-0125"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("note: events dated over a day after this machine's clock are "
                            "stored, up to 2099-01-01T00:00:00.000Z"),
            std::string::npos)
      << events.out;
  // Without such a record, neither says anything of it.
  const std::string plain = (dir_ / "plain.db").string();
  const Output ok = Sh(Replay(plain));
  EXPECT_EQ(ok.out.find("dated"), std::string::npos) << ok.out;
  EXPECT_EQ(Sh(std::string(EDI_BINARY) + " events --db " + plain + " --since 7d").out.find("note:"),
            std::string::npos);
  // The warning names the record as text on one line: a requestId with a line break and a
  // syslog priority cannot forge a log line of its own, nor ESC move the terminal.
  const std::string forged = (dir_ / "forged.jsonl").string();
  std::ofstream(forged)
      << R"({"schemaVersion":1,"timestamp":"2099-01-01T00:00:01.000Z","requestId":"x\n<2>edi-audit: all clear\u001b[2J",)"
         R"("apiVersion":"3","method":"GET","path":"/ping","status":200,)"
         R"("client":{"clientId":"7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02","orgnrParent":"944100001"}})"
         "\n";
  const Output warned =
      Sh(std::string(EDI_BINARY) +
         " replay -q --no-findings --registry " EDI_SOURCE_DIR "/examples/registry --db " +
         (dir_ / "forged.db").string() + " " + forged);
  ASSERT_EQ(warned.status, 0) << warned.out;
  EXPECT_NE(warned.out.find("warning: record x <2>edi-audit: all clear [2J is dated"),
            std::string::npos)
      << warned.out;
  EXPECT_EQ(warned.out.find("\n<2>"), std::string::npos);
  EXPECT_EQ(warned.out.find('\x1b'), std::string::npos);
}

TEST_F(QueryCli, EventsWrittenAsTheyAreReadComePageByPageEachCallOnceInOrder) {
  // More calls than a page (10,000): JSON lines and CSV read them in pages, after the last
  // (time, event id) of the page before.
  const std::string gen = (dir_ / "gen").string();
  ASSERT_EQ(Sh("python3 " EDI_SOURCE_DIR "/tools/gen/edi_gen.py --seed 3 --records 25000 --out " +
               gen + " >/dev/null")
                .status,
            0);
  const std::string db = (dir_ / "g.db").string();
  ASSERT_EQ(Sh(std::string(EDI_BINARY) + " replay -q --no-findings --registry " + gen +
               "/registry --db " + db + " " + gen + "/access-log.jsonl >/dev/null")
                .status,
            0);
  const Output stored = Sh("sqlite3 " + db + " 'SELECT count(*) FROM events'");
  const long calls = std::stol(stored.out);
  ASSERT_GT(calls, 20000);
  const Output all = Sh(std::string(EDI_BINARY) + " events --db " + db + " --format jsonl");
  ASSERT_EQ(all.status, 0);
  const auto ids = JsonlValues(all.out, "eventId");
  const auto times = JsonlValues(all.out, "time");
  ASSERT_EQ(static_cast<long>(ids.size()), calls);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  for (size_t i = 1; i < ids.size(); ++i) {
    ASSERT_TRUE(times[i - 1] < times[i] ||
                (times[i - 1] == times[i] && std::stol(ids[i - 1]) < std::stol(ids[i])))
        << i << ": " << times[i - 1] << " " << ids[i - 1] << " then " << times[i] << " " << ids[i];
  }
  const Output csv = Sh(std::string(EDI_BINARY) + " events --db " + db + " --format csv");
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), calls + 1);
}

TEST(CommandLine, ArgumentErrorsNameTheCommandAndWhereHelpIs) {
  const Output no_db = Sh(std::string(EDI_BINARY) + " events --her-id 8142520");
  EXPECT_EQ(no_db.status, 2);
  EXPECT_EQ(no_db.out, "edi-audit events: --db is required (see edi-audit events --help)\n");
  const Output zero = Sh(std::string(EDI_BINARY) + " findings --db x.db --limit 0");
  EXPECT_EQ(zero.status, 2);
  EXPECT_EQ(zero.out,
            "edi-audit findings: --limit: '0' is not a whole number above 0 (see edi-audit "
            "findings --help)\n");
  const Output none = Sh(EDI_BINARY);
  EXPECT_EQ(none.status, 2);
  EXPECT_EQ(none.out.rfind("edi-audit: no command given (the commands: replay, ", 0), 0u)
      << none.out;
  const Output help = Sh(std::string(EDI_BINARY) + " events --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--request-id"), std::string::npos);
  // The same for the commands of a command: the word that is none, the command whose option it
  // is, the command missing. A misspelt option is named with the ones it looks like.
  for (const auto& [args, said] : std::vector<std::pair<std::string, std::string>>{
           {" rules bogus",
            "edi-audit rules: unknown command 'bogus' (the commands: check, list, test; see "
            "edi-audit rules --help)\n"},
           {" rules list --format json",
            "edi-audit rules list: unknown option '--format' (see edi-audit rules list --help)\n"},
           {" events --db x.db --herid 1",
            "edi-audit events: unknown option '--herid'; did you mean --her-id? (see edi-audit "
            "events --help)\n"},
           {" findings --db x.db --Severity=high",
            "edi-audit findings: unknown option '--Severity'; did you mean --severity? (see "
            "edi-audit findings --help)\n"},
           {" rules",
            "edi-audit rules: no command given (the commands: check, list, test; see edi-audit "
            "rules --help)\n"},
           // An option given twice, or without its value, in plain words.
           {" findings --db x.db --db y.db",
            "edi-audit findings: --db is given 2 times; give it once (see edi-audit findings "
            "--help)\n"},
           {" events --db x.db --limit",
            "edi-audit events: --limit needs a value (see edi-audit events --help)\n"},
       }) {
    const Output refused = Sh(std::string(EDI_BINARY) + args);
    EXPECT_EQ(refused.status, 2) << args;
    EXPECT_EQ(refused.out, said) << args;
  }
  EXPECT_EQ(Sh(std::string(EDI_BINARY) + " rules --help").status, 0);
  // Under systemd (stderr is the journal's stream) a refusal carries the error priority, so
  // that `journalctl -p err` shows why the unit failed.
  const std::string err = ::testing::TempDir() + "/edi-journal-" + std::to_string(::getpid());
  const std::string journal = "(exec 2>" + err +
                              "; JOURNAL_STREAM=$(stat -L -c %d:%i /dev/stderr) " +
                              std::string(EDI_BINARY);
  EXPECT_EQ(Sh(journal + " run --config " EDI_SOURCE_DIR "/README.md)").status, 2);
  EXPECT_EQ(Sh("cat " + err).out.rfind("<3>edi-audit run: ", 0), 0u) << Sh("cat " + err).out;
  EXPECT_EQ(Sh(journal + " rules bogus)").status, 2);
  EXPECT_EQ(Sh("cat " + err).out.rfind("<3>edi-audit rules: unknown command 'bogus'", 0), 0u)
      << Sh("cat " + err).out;
  std::remove(err.c_str());
  // An option where a command is wanted is named as such, not taken for no command.
  const Output before = Sh(std::string(EDI_BINARY) + " --bogus events --db x.db");
  EXPECT_EQ(before.status, 2);
  EXPECT_NE(before.out.find("--bogus"), std::string::npos) << before.out;
  EXPECT_EQ(before.out.find("no command given"), std::string::npos) << before.out;
}

}  // namespace
