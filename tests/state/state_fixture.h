// A small world for reconstruction tests: one municipality (900000001) with a sub-unit and
// three parties, another municipality (800000001) with one party, and a way to feed records.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include <unistd.h>

#include "common/schema.h"
#include "decode/decoder.h"
#include "state/state.h"

namespace edi::testing {

inline constexpr const char* kM1 = "11111111-1111-4111-8111-111111111111";
inline constexpr const char* kM2 = "22222222-2222-4222-8222-222222222222";

inline std::string WriteWorld() {
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("edi-state-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "organizations.jsonl")
      << R"({"organisasjonsnummer":"900000001","navn":"Kommune A","kind":"hovedenhet"})"
         "\n"
      << R"({"organisasjonsnummer":"900000002","navn":"Sykehjem","kind":"underenhet","overordnetEnhet":"900000001"})"
         "\n"
      << R"({"organisasjonsnummer":"800000001","navn":"Kommune B","kind":"hovedenhet"})"
         "\n";
  std::ofstream(dir / "communication-parties.jsonl")
      << R"({"herId":101,"name":"Sykehjem","type":"Organization","organizationNumber":"900000002","parentHerId":-1,"parentOrganizationNumber":"","active":true})"
         "\n"
      << R"({"herId":102,"name":"Sykehjem avd 1","type":"Service","parentHerId":101,"parentOrganizationNumber":"900000002","active":true})"
         "\n"
      << R"({"herId":103,"name":"Legekontor","type":"Organization","organizationNumber":"900000001","parentHerId":-1,"parentOrganizationNumber":"","active":true})"
         "\n"
      << R"({"herId":201,"name":"Kommune B","type":"Organization","organizationNumber":"800000001","parentHerId":-1,"parentOrganizationNumber":"","active":true})"
         "\n"
      // A Service whose organisation the snapshot cannot tell: no parent at all.
      << R"({"herId":104,"name":"Foreldreløs tjeneste","type":"Service","parentHerId":-1,"parentOrganizationNumber":"","active":true})"
         "\n";
  std::ofstream(dir / "owners.jsonl") << R"({"herId":103,"clientId":"gp"})"
                                         "\n";
  return dir.string();
}

// One record as JSON: minute `minute` after 2026-05-04T00:00Z, by `client` of orgnr_parent
// 900000001 unless `org` says otherwise.
struct Rec {
  std::string client = "a";
  std::string api = "3";
  std::string method = "GET";
  std::string path = "/ping";
  std::string query;
  std::string request;
  std::string response;
  std::string message;
  int status = 200;
  int64_t minute = 0;
  std::string org = "900000001";
  std::string claim;
  std::string client_name;  // the token's clientName; none when empty
};

inline std::string ToJson(const Rec& r, int seq) {
  const EventTime t = *ParseRfc3339("2026-05-04T00:00:00.000Z") + r.minute * kMillisPerMinute;
  std::string s = R"({"schemaVersion":1,"timestamp":")" + FormatRfc3339(t) + R"(","requestId":"q)" +
                  std::to_string(seq) + R"(","apiVersion":")" + r.api + R"(","method":")" +
                  r.method + R"(","path":")" + r.path + R"(","status":)" + std::to_string(r.status);
  if (!r.query.empty()) s += R"(,"query":")" + r.query + "\"";
  s += R"(,"client":{"clientId":")" + r.client + R"(","orgnrParent":")" + r.org + "\"";
  if (!r.client_name.empty()) s += R"(,"clientName":")" + r.client_name + "\"";
  if (!r.claim.empty()) s += R"(,"herIdClaim":")" + r.claim + "\"";
  s += "}";
  if (!r.request.empty()) s += R"(,"request":)" + r.request;
  if (!r.response.empty()) s += R"(,"response":)" + r.response;
  if (!r.message.empty()) s += R"(,"message":)" + r.message;
  return s + "}";
}

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = WriteWorld();
    auto reg = Registry::Load(dir_, SchemaDir());
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registry_ = *reg;
    auto d = Decoder::Create({});
    ASSERT_TRUE(d.ok());
    decoder_ = std::move(*d);
    state_ = std::make_unique<AuditState>(options_, registry_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes reservations.jsonl ({herId, clientId, since} per line) and starts the state anew
  // with the registry that has it.
  void Reserve(std::initializer_list<std::string> lines) {
    std::ofstream out(std::filesystem::path(dir_) / "reservations.jsonl");
    for (const std::string& l : lines) out << l << "\n";
    out.close();
    auto reg = Registry::Load(dir_, SchemaDir());
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    state_ = std::make_unique<AuditState>(options_, *reg);
  }

  // Feeds one record; returns the facts of its first party evaluation (trigger call).
  const PartyFacts& Feed(const Rec& r) {
    const std::string json = ToJson(r, ++seq_);
    DecodeError err;
    events_.push_back(std::make_unique<AccessEvent>());
    EXPECT_TRUE(decoder_->Decode(json, events_.back().get(), &err)) << err.detail << json;
    facts_.clear();
    state_->Observe(events_.back().get(), &facts_);
    for (const PartyFacts& f : facts_) {
      if (f.trigger == Trigger::kCall) return f;
    }
    static PartyFacts none;
    return none;
  }
  // A field's value in the given facts, rendered as text ("<absent>" when absent).
  std::string Field(const PartyFacts& f, const std::string& name) {
    auto id = FactsCatalog().Find(name);
    EXPECT_TRUE(id.has_value()) << name;
    if (!id) return "?";
    FactsSource src(&f);
    FieldValue v = src.Get(*id);
    if (!v.present) return "<absent>";
    switch (v.type) {
      case FieldType::kBool:
        return v.i ? "true" : "false";
      case FieldType::kInt:
        return std::to_string(v.i);
      case FieldType::kString:
        return std::string(v.s);
    }
    return "?";
  }

  std::string dir_;
  StateOptions options_;
  std::shared_ptr<const Registry> registry_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<AuditState> state_;
  std::vector<std::unique_ptr<AccessEvent>> events_;
  std::vector<PartyFacts> facts_;
  int seq_ = 0;
};

inline Rec Lock(const std::string& client, int64_t her, bool locked, int64_t minute,
                int status = 200) {
  Rec r;
  r.client = client;
  r.method = "PUT";
  r.path = "/mshconfigurations";
  r.request = R"({"configurations":[{"herId":)" + std::to_string(her) + R"(,"clientLocked":)" +
              (locked ? "true" : "false") + "}]}";
  r.minute = minute;
  r.status = status;
  return r;
}

inline Rec Send(const std::string& client, int64_t sender, const std::string& receivers,
                const char* msg, int64_t minute) {
  Rec r;
  r.client = client;
  r.method = "POST";
  r.path = "/messages";
  r.request =
      R"({"senderHerId":)" + std::to_string(sender) + R"(,"receiverHerIds":[)" + receivers + "]}";
  r.response = std::string(R"({"id":")") + msg + "\"}";
  r.minute = minute;
  r.status = 201;
  return r;
}

inline Rec Download(const std::string& client, const char* msg, int64_t minute) {
  Rec r;
  r.client = client;
  r.path = std::string("/messages/") + msg + "/business-document";
  r.minute = minute;
  return r;
}

inline Rec Mark(const std::string& client, const char* msg, int64_t her, int64_t minute) {
  Rec r;
  r.client = client;
  r.method = "PUT";
  r.path = std::string("/messages/") + msg + "/downloaded";
  r.request = R"({"receiverHerId":)" + std::to_string(her) + "}";
  r.minute = minute;
  r.status = 204;
  return r;
}

inline Rec Poll(const std::string& client, int64_t her, int64_t minute,
                const std::string& messages = "") {
  Rec r;
  r.client = client;
  r.path = "/notifications";
  r.query = "HerIds=" + std::to_string(her);
  if (!messages.empty()) r.response = R"({"messages":[)" + messages + "]}";
  r.minute = minute;
  return r;
}

}  // namespace edi::testing
