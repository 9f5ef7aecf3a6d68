// The decoder tests' fixture: records built from a few fields, decoded by a real Decoder.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "decode/decoder.h"

namespace edi {
namespace {

constexpr const char* kMsg = "733be787-0f1e-4a8c-9f55-0a5c1b1d6a11";

struct Call {
  std::string api = "3";
  std::string method = "GET";
  std::string path = "/ping";
  std::string query;
  std::string request;   // JSON object text or ""
  std::string response;  // JSON object text or ""
  std::string message;   // JSON object text or ""
  std::string client = R"({"clientId":"c-1","orgnrParent":"964338531"})";
  int status = 200;
};

inline std::string Json(const Call& c) {
  std::string s = R"({"schemaVersion":1,"timestamp":"2026-05-08T08:32:15.310Z",)";
  s += R"("requestId":"r-1","apiVersion":")" + c.api + R"(","method":")" + c.method +
       R"(","path":")" + c.path + R"(","status":)" + std::to_string(c.status);
  if (!c.query.empty()) s += R"(,"query":")" + c.query + "\"";
  s += R"(,"client":)" + c.client;
  if (!c.request.empty()) s += R"(,"request":)" + c.request;
  if (!c.response.empty()) s += R"(,"response":)" + c.response;
  if (!c.message.empty()) s += R"(,"message":)" + c.message;
  return s + "}";
}

class DecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = Decoder::Create({});
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    decoder_ = std::move(*d);
  }
  AccessEvent Decode(const Call& c) { return DecodeText(Json(c)); }
  AccessEvent DecodeText(const std::string& text) {
    AccessEvent e;
    DecodeError err;
    EXPECT_TRUE(decoder_->Decode(text, &e, &err)) << err.detail << "\n" << text;
    return e;
  }
  DecodeError Reject(const std::string& text) {
    AccessEvent e;
    DecodeError err;
    EXPECT_FALSE(decoder_->Decode(text, &e, &err)) << text;
    return err;
  }
  std::unique_ptr<Decoder> decoder_;
};

inline std::vector<HerId> Parties(const AccessEvent& e) {
  std::vector<HerId> out;
  for (const auto& p : e.parties) out.push_back(p.her_id);
  return out;
}

}  // namespace
}  // namespace edi
