// A batch slot's event is decoded into again and again: nothing of an earlier record may show.
#include <gtest/gtest.h>

#include <string>

#include "decode/decoder_fixture.h"

namespace edi {
namespace {

// Everything a decoded event says, for comparing two decodes of the same record.
std::string Describe(const AccessEvent& e) {
  auto opt = [](const auto& o) { return o ? std::to_string(*o) : std::string("-"); };
  auto ids = [](const std::vector<HerId>& v) {
    std::string s;
    for (HerId h : v) s += std::to_string(h) + ",";
    return s;
  };
  auto info = [&](const MessageInfo& m) {
    return m.id + "/" + opt(m.sender_her_id) + "/" + ids(m.receiver_her_ids) + "/" +
           m.business_document_id + "/" + (m.is_apprec ? "apprec" : "msg");
  };
  std::string s = std::to_string(e.time) + "|" + e.timestamp + "|" + e.request_id + "|" +
                  std::string(ApiVersionName(e.api)) + "|" + e.method + "|" + e.path + "|" +
                  e.query + "|" + e.route + "|" + std::string(ActionName(e.action)) + "|" +
                  std::to_string(e.status) + "|" + opt(e.duration_ms) + "|" + e.source_system +
                  "|" + e.client_ip + "|" + e.client.client_id + "|" + e.client.client_name + "|" +
                  e.client.tenancy + "|" + e.client.orgnr_parent + "|" + e.client.orgnr_child +
                  "|" + e.client.orgnr_supplier + "|" + e.client.her_id_claim.value_or("-") + "|";
  for (const PartyRef& p : e.parties) {
    s += std::to_string(p.her_id) + std::string(PartySourceName(p.source)) + ",";
  }
  s += std::string("|") + (e.parties_from_custody ? "custody" : "-") + "|" +
       (e.lookups_in != nullptr ? "lookups" : "-") + std::to_string(e.lookups.size()) + "|" +
       e.message_id + "|" + opt(e.sender_her_id) + "|" + ids(e.receiver_her_ids) + "|" +
       opt(e.receiver_her_id) + "|" + opt(e.apprec_sender_her_id) + "|" + e.apprec_status + "|";
  for (const MshConfiguration& c : e.configurations) {
    s += std::to_string(c.her_id) + "/" + opt(c.client_locked) + "/" +
         c.receive_notification_channel.value_or("-") + "/" +
         opt(c.receive_refused_message_notices) + ",";
  }
  s += "|" + e.response_id + "|";
  for (const MessageInfo& m : e.polled) s += info(m) + ",";
  s += "|" + (e.message ? info(*e.message) : std::string("-"));
  return s;
}

class DecoderReuseTest : public DecoderTest {};

TEST_F(DecoderReuseTest, AnEventDecodedIntoAgainSaysOnlyWhatTheNewRecordSays) {
  // Every optional part filled in the first record: none of it may survive into the second.
  Call full;
  full.api = "2";
  full.method = "POST";
  full.path = "/Messages";
  full.query = "ReceiverHerIds=21";
  full.request =
      R"({"senderHerId":11,"receiverHerIds":[21,22],"receiverHerId":23,"appRecSenderHerId":24,)"
      R"("appRecStatus":"Ok","configurations":[{"herId":21,"clientLocked":true,)"
      R"("receiveNotificationChannel":"amqp","receiveRefusedMessageNotices":false}]})";
  full.response = std::string(R"({"id":")") + kMsg + R"(","messages":[{"id":")" + kMsg +
                  R"(","senderHerId":11,"receiverHerIds":[21],"businessDocumentId":"b-1",)"
                  R"("isAppRec":true}]})";
  full.message = std::string(R"({"id":")") + kMsg + R"(","senderHerId":11,"receiverHerIds":[21]})";
  full.client =
      R"({"clientId":"c-long-client-identifier-0001","clientName":"A vendor's EPJ","tenancy":)"
      R"("multi","orgnrParent":"964338531","orgnrChild":"974600951","orgnrSupplier":)"
      R"("991111111","herIdClaim":"21-22"})";
  const std::string first = Json(full);
  const std::string second = Json(Call{});  // a bare ping

  AccessEvent reused;
  DecodeError err;
  ASSERT_TRUE(decoder_->Decode(first, &reused, &err)) << err.detail;
  ASSERT_EQ(Describe(reused), Describe(DecodeText(first)));
  ASSERT_FALSE(reused.polled.empty());
  ASSERT_TRUE(reused.client.her_id_claim.has_value());
  // What the state stage adds to an event: the registry lookups and the parties custody tells.
  static const int kRegistryStandIn = 0;
  reused.lookups_in = reinterpret_cast<const Registry*>(&kRegistryStandIn);
  reused.lookups.resize(2);
  reused.parties_from_custody = true;
  reused.parties.push_back({7100111, PartySource::kCustody});
  ASSERT_TRUE(decoder_->Decode(second, &reused, &err)) << err.detail;
  EXPECT_EQ(Describe(reused), Describe(DecodeText(second)));
  // And the parties and fields of the ping alone.
  EXPECT_EQ(reused.action, Action::kPing);
  EXPECT_TRUE(reused.parties.empty());
  EXPECT_FALSE(reused.message.has_value());
  EXPECT_EQ(reused.message_id, "");
}

}  // namespace
}  // namespace edi
