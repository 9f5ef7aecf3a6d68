// rules_bench: what rule evaluation costs per event with the full default rule pack.
//
// Generates a deterministic mix of access-log records over the example registry (sends, polls
// with responses, downloads, marks, apprecs, configuration and lock calls, denied calls, v2
// calls, unknown parties and routes), runs them through AuditState once to get realistic
// PartyFacts, then times RuleSet::Evaluate alone over those facts, round after round.
//
//   ninja -C build rules_bench && ./build/tests/rules_bench [records] [rounds]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/schema.h"
#include "decode/decoder.h"
#include "detect/rules.h"
#include "state/facts.h"
#include "state/state.h"

namespace edi {
namespace {

struct Token {
  const char* id;
  const char* org;
  const char* api;
  const char* claim;             // "" = none
  std::vector<int64_t> parties;  // the parties it normally acts for
};

// The clients of examples/registry, the parties each normally serves, and how much of the
// traffic each makes (percent).
const std::vector<Token>& Tokens() {
  static const std::vector<Token> t = {
      {"3f6c2a10-8d4b-4e7a-9c21-5b0e7d9a1c01", "944100001", "3", "", {8142510, 8142520, 8142522}},
      {"7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02", "944100001", "3", "", {8142530, 8142531, 8142532}},
      {"c41d7e83-5a2b-4c9d-b6e0-8f1a3c5d7e03",
       "944100001",
       "3",
       "",
       {8142500, 8142540, 8142541, 8142542}},
      {"e8b5f1a6-3c7d-4b2e-9f04-6a8c0d2e4f04", "983900001", "3", "", {8143000, 8143001, 8143002}},
      {"19d4a7c2-6e8b-4a1f-8d35-0c7e9b2a4f05", "944100001", "2", "0", {8142550}},
      {"5e0b3d9f-2a6c-4e8d-a147-9b3f5d7c1e06", "944100001", "2", "8142520-8142521", {8142521}},
  };
  return t;
}
constexpr int kWeights[] = {30, 25, 20, 15, 5, 5};

const std::vector<int64_t> kAllParties = {8142500, 8142510, 8142520, 8142521, 8142522, 8142530,
                                          8142531, 8142532, 8142540, 8142541, 8142542, 8142550,
                                          8143000, 8143001, 8143002, 8144100, 8144101, 8199999};

// Mostly ordinary traffic: messages go through send, download, mark, apprec and status reads
// by the clients serving their parties. One call in twenty acts for another client's party or
// message, one in twenty-five is denied, and a few hit unknown routes.
class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  std::string Next(int seq) {
    const int kind = static_cast<int>(rng_() % 100);
    status_ = rng_() % 25 == 0 ? (rng_() % 2 ? 403 : 423) : 200;
    method_ = "GET";
    query_.clear();
    body_.clear();
    size_t ci = PickClient();
    if (kind < 60 && !messages_.empty()) {
      ci = Lifecycle();
    } else if (kind < 75) {
      Send(seq, ci);
    } else if (kind < 95) {
      const bool v2 = Tokens()[ci].api[0] == '2';
      path_ = v2 ? "/Messages" : "/notifications";
      query_ = (v2 ? "ReceiverHerIds=" : "HerIds=") + std::to_string(Own(ci));
      body_ = R"(,"response":{"messages":[]})";
    } else if (kind < 97 && Tokens()[ci].api[0] == '3') {
      method_ = "PUT";
      path_ = "/mshconfigurations";
      body_ = R"(,"request":{"configurations":[{"herId":)" + std::to_string(Own(ci)) +
              R"(,"receiveNotificationChannel":"Poll"}]})";
    } else {
      path_ = kind % 2 ? "/ping" : "/messages/00000000-0000-4000-8000-000000000000/attachments";
    }
    const Token& c = Tokens()[ci];
    const EventTime t = start_ + static_cast<EventTime>(seq) * 90 * kMillisPerSecond;
    std::string json = R"({"schemaVersion":1,"timestamp":")" + FormatRfc3339(t) +
                       R"(","requestId":"bench-)" + std::to_string(seq) + R"(","apiVersion":")" +
                       c.api + R"(","method":")" + method_ + R"(","path":")" + path_ +
                       R"(","status":)" + std::to_string(status_);
    if (!query_.empty()) json += R"(,"query":")" + query_ + "\"";
    json +=
        R"(,"client":{"clientId":")" + std::string(c.id) + R"(","orgnrParent":")" + c.org + "\"";
    if (c.claim[0] != '\0') json += R"(,"herIdClaim":")" + std::string(c.claim) + "\"";
    return json + "}" + body_ + "}";
  }

 private:
  struct Message {
    std::string id;
    size_t sender;
    int64_t sender_party;
    size_t receiver;
    int64_t receiver_party;
    int stage = 0;  // 0 sent, 1 downloaded, 2 marked, 3 answered
  };

  size_t PickClient() {
    int w = static_cast<int>(rng_() % 100);
    for (size_t i = 0; i < Tokens().size(); ++i) {
      if ((w -= kWeights[i]) < 0) return i;
    }
    return 0;
  }
  // One of the client's own parties; one time in twenty any party.
  int64_t Own(size_t ci) {
    if (rng_() % 20 == 0) return kAllParties[rng_() % kAllParties.size()];
    const auto& own = Tokens()[ci].parties;
    return own[rng_() % own.size()];
  }

  void Send(int seq, size_t ci) {
    char id[40];
    std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", static_cast<unsigned>(seq),
                  static_cast<unsigned>(rng_() & 0xffffff));
    const size_t to = PickClient();
    const int64_t from = Own(ci), receiver = Own(to);
    if (status_ == 200) messages_.push_back({id, ci, from, to, receiver});
    method_ = "POST";
    path_ = Tokens()[ci].api[0] == '2' ? "/Messages" : "/messages";
    status_ = status_ == 200 ? 201 : status_;
    body_ = R"(,"request":{"senderHerId":)" + std::to_string(from) + R"(,"receiverHerIds":[)" +
            std::to_string(receiver) + R"(]},"response":{"id":")" + id + "\"}";
  }

  // The next step of a recent message; returns the acting client.
  size_t Lifecycle() {
    const size_t n = std::min<size_t>(messages_.size(), 30);
    Message& m = messages_[messages_.size() - 1 - rng_() % n];
    size_t ci = m.stage >= 3 ? m.sender : m.receiver;
    if (rng_() % 20 == 0) ci = PickClient();
    const bool v2 = Tokens()[ci].api[0] == '2';
    const std::string base = (v2 ? "/Messages/" : "/messages/") + m.id;
    const std::string party = std::to_string(m.receiver_party);
    switch (m.stage) {
      case 0:
        path_ = base + "/business-document";
        break;
      case 1:
        method_ = "PUT";
        path_ = v2 ? base + "/read/" + party : base + "/downloaded";
        if (!v2) body_ = R"(,"request":{"receiverHerId":)" + party + "}";
        break;
      case 2:
        method_ = "POST";
        path_ = v2 ? base + "/apprec/" + party : base + "/apprec";
        if (!v2) body_ = R"(,"request":{"appRecSenderHerId":)" + party + R"(,"appRecStatus":"Ok"})";
        break;
      default:
        path_ = base + "/status";
        break;
    }
    if (status_ == 200) ++m.stage;
    if (method_ == "PUT") status_ = status_ == 200 ? 204 : status_;
    return ci;
  }

  std::mt19937 rng_;
  std::vector<Message> messages_;
  EventTime start_ = *ParseRfc3339("2026-05-04T06:00:00.000Z");
  int status_ = 200;
  std::string method_, path_, query_, body_;
};

struct Row {
  uint64_t evaluations = 0;
  uint64_t matches = 0;
  double seconds = 0;
};

int Main(int argc, char** argv) {
  const int records = argc > 1 ? std::atoi(argv[1]) : 5000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 200;
  const std::string source = EDI_SOURCE_DIR;
  auto registry = Registry::Load(source + "/examples/registry", SchemaDir());
  if (!registry.ok()) {
    std::fprintf(stderr, "rules_bench: %s\n", registry.status().message().c_str());
    return 1;
  }
  const LoadResult rules = LoadRules({source + "/rules/edi-default.yaml"}, FactsCatalog());
  if (!rules.ok()) {
    std::fprintf(stderr, "rules_bench: %s", rules.ToString().c_str());
    return 1;
  }
  auto decoder = Decoder::Create({});
  if (!decoder.ok()) return 1;

  // Facts point into their events and the state: keep both alive while timing.
  AuditState state(StateOptions{}, *registry);
  std::vector<std::unique_ptr<AccessEvent>> events;
  std::vector<PartyFacts> facts;
  Generator gen(20260504);
  for (int i = 0; i < records; ++i) {
    auto e = std::make_unique<AccessEvent>();
    DecodeError err;
    const std::string json = gen.Next(i);
    if (!(*decoder)->Decode(json, e.get(), &err)) {
      std::fprintf(stderr, "rules_bench: generated a bad record (%s): %s\n", err.detail.c_str(),
                   json.c_str());
      return 1;
    }
    state.Observe(e.get(), &facts);
    events.push_back(std::move(e));
  }

  const FieldId action = *FactsCatalog().Find("evt.action");
  std::map<std::string, Row> by_action;
  std::vector<RuleMatch> matches;
  FactsSource src;
  using Clock = std::chrono::steady_clock;
  // Hot: each fact evaluated kRepeat times in a row, as the pipeline evaluates an event right
  // after the state touched it. One clock pair per fact keeps the clock's cost out.
  constexpr int kRepeat = 16;
  Row hot;
  for (int r = 0; r < rounds / kRepeat + 1; ++r) {
    for (const PartyFacts& f : facts) {
      src.Reset(&f);
      const auto t0 = Clock::now();
      for (int k = 0; k < kRepeat; ++k) {
        matches.clear();
        rules.rules->Evaluate(src, &matches);
      }
      const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
      Row& row = by_action[std::string(src.Get(action).s)];
      for (Row* x : {&row, &hot}) {
        x->evaluations += kRepeat;
        x->matches += kRepeat * matches.size();
        x->seconds += dt;
      }
    }
  }
  // Cold: the facts in turn, round after round (about 1.5 MB of facts, events and state).
  Row cold;
  const auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const PartyFacts& f : facts) {
      src.Reset(&f);
      matches.clear();
      rules.rules->Evaluate(src, &matches);
      cold.matches += matches.size();
    }
  }
  cold.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::map<std::string_view, uint64_t> by_rule;
  for (const PartyFacts& f : facts) {
    src.Reset(&f);
    matches.clear();
    rules.rules->Evaluate(src, &matches);
    for (const RuleMatch& m : matches) ++by_rule[m.rule_id];
  }
  cold.evaluations = static_cast<uint64_t>(rounds) * facts.size();

  std::printf("rules_bench: %zu rules (default pack), %d records -> %zu (event, party) facts\n\n",
              rules.rules->rules().size(), records, facts.size());
  std::printf("%-22s %7s %10s %9s %12s\n", "action", "share", "match/eval", "ns/eval", "evals/s");
  auto print = [&](const std::string& name, const Row& row) {
    std::printf("%-22s %6.1f%% %10.3f %9.1f %12.0f\n", name.c_str(),
                100.0 * static_cast<double>(row.evaluations) / static_cast<double>(hot.evaluations),
                static_cast<double>(row.matches) / static_cast<double>(row.evaluations),
                1e9 * row.seconds / static_cast<double>(row.evaluations),
                static_cast<double>(row.evaluations) / row.seconds);
  };
  for (const auto& [name, row] : by_action) print(name, row);
  print("all, hot", hot);
  std::printf("%-22s %6.1f%% %10.3f %9.1f %12.0f\n", "all, cold caches", 100.0,
              static_cast<double>(cold.matches) / static_cast<double>(cold.evaluations),
              1e9 * cold.seconds / static_cast<double>(cold.evaluations),
              static_cast<double>(cold.evaluations) / cold.seconds);
  std::printf("\n%-36s %8s\n", "rule (one pass over the facts)", "matches");
  for (const auto& [id, n] : by_rule) {
    std::printf("%-36.*s %8llu\n", static_cast<int>(id.size()), id.data(),
                static_cast<unsigned long long>(n));
  }
  std::printf("\n");
  const double facts_per_event = static_cast<double>(facts.size()) / records;
  for (const auto& [name, row] : {std::pair<const char*, Row>{"hot", hot}, {"cold", cold}}) {
    const double ns = 1e9 * row.seconds / static_cast<double>(row.evaluations) * facts_per_event;
    std::printf("per event, %-4s (%.2f facts each): %7.1f ns  %10.0f events/s\n", name,
                facts_per_event, ns, 1e9 / ns);
  }
  return 0;
}

}  // namespace
}  // namespace edi

int main(int argc, char** argv) { return edi::Main(argc, argv); }
