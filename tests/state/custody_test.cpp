#include "state_fixture.h"

namespace edi::testing {
namespace {

std::string PolledMsg(const char* id, int64_t sender, int64_t receiver) {
  return std::string(R"({"id":")") + id + R"(","senderHerId":)" + std::to_string(sender) +
         R"(,"receiverHerId":)" + std::to_string(receiver) + "}";
}

TEST_F(StateTest, ADownloadFillsItsPartiesFromTheSendTheClientsOrganisationCovers) {
  Feed(Send("hospital", 201, "101,201", kM1, 0));
  Rec d = Download("a", kM1, 1);
  Feed(d);
  ASSERT_EQ(events_.back()->parties.size(), 1u);  // 201 is in the other municipality
  EXPECT_EQ(events_.back()->parties[0].her_id, 101);
  EXPECT_EQ(events_.back()->parties[0].source, PartySource::kCustody);
}

TEST_F(StateTest, ADownloadOutsideTheClientsOrganisationNamesAllReceiversSoItStaysVisible) {
  Feed(Send("hospital", 103, "201", kM1, 0));
  const PartyFacts& f = Feed(Download("a", kM1, 1));
  EXPECT_EQ(Field(f, "party.her_id"), "201");
  EXPECT_EQ(Field(f, "party.org_covered"), "false");
}

TEST_F(StateTest, ADownloadOfAMessageSeenOnlyInAPollResponseKnowsItsReceiver) {
  Feed(Poll("a", 101, 0, PolledMsg(kM1, 201, 101)));
  const PartyFacts& f = Feed(Download("a", kM1, 1));
  EXPECT_EQ(Field(f, "party.her_id"), "101");
  EXPECT_EQ(Field(f, "msg.custody_known"), "true");
  EXPECT_EQ(Field(f, "msg.sender_her_id"), "201");
}

TEST_F(StateTest, UnknownCustodyLeavesThePartyUnknownAndIsCounted) {
  const PartyFacts& f = Feed(Download("a", kM1, 0));
  EXPECT_EQ(Field(f, "party.her_id"), "<absent>");
  EXPECT_EQ(Field(f, "msg.custody_known"), "false");
  EXPECT_EQ(Field(f, "msg.downloaded_by_any"), "<absent>");
  EXPECT_EQ(state_->counters().custody_unknown, 1u);
  const PartyFacts& g = Feed(Mark("a", kM1, 101, 1));
  EXPECT_EQ(Field(g, "msg.custody_known"), "false");
  EXPECT_EQ(Field(g, "msg.is_receiver"), "<absent>");
}

// A mark or apprec whose body named no party (the gateway did not extract it) acts for the
// receivers its organisation covers, as a download does; without custody it stays unknown and
// counted. A poll naming no HER-Id is counted as a call naming no party.
TEST_F(StateTest, AMarkWithoutItsBodysPartyActsForTheReceiversItsOrganisationCovers) {
  Feed(Send("hospital", 201, "101,201", kM1, 0));
  Rec mark = Mark("b", kM1, 101, 1);
  mark.request.clear();
  const PartyFacts& f = Feed(mark);
  EXPECT_EQ(Field(f, "party.her_id"), "101");
  EXPECT_EQ(Field(f, "msg.downloaded_by_any"), "false");
  ASSERT_EQ(events_.back()->parties.size(), 1u);
  EXPECT_EQ(events_.back()->parties[0].source, PartySource::kCustody);
  Rec apprec = mark;
  apprec.method = "POST";
  apprec.path = std::string("/messages/") + kM2 + "/apprec";
  apprec.request = R"({"appRecStatus":"Ok"})";
  EXPECT_EQ(Field(Feed(apprec), "party.her_id"), "<absent>");  // kM2: custody unknown
  EXPECT_EQ(state_->counters().custody_unknown, 1u);
  EXPECT_EQ(state_->counters().no_party, 0u);
  Rec poll = Poll("a", 101, 2);
  poll.query = "NotificationsToFetch=10";
  EXPECT_EQ(Field(Feed(poll), "party.her_id"), "<absent>");
  EXPECT_EQ(state_->counters().no_party, 1u);
}

TEST_F(StateTest, ADownloadBeforeCustodyCountsForTheReceiversItsOrganisationCovers) {
  Rec early = Download("h", kM1, 0);  // Kommune B's client, before anything told the receivers
  early.org = "800000001";
  Feed(early);
  Feed(Send("hospital", 103, "101,201", kM1, 1));
  // 101 belongs to Kommune A: Kommune B's download was not one for it.
  const PartyFacts& a = Feed(Download("a", kM1, 2));
  EXPECT_EQ(Field(a, "party.her_id"), "101");
  EXPECT_EQ(Field(a, "msg.downloaded_by_other"), "false");
  const PartyFacts& mark_a = Feed(Mark("a", kM1, 101, 3));
  EXPECT_EQ(Field(mark_a, "msg.downloaded_by_client"), "true");
  EXPECT_EQ(Field(mark_a, "msg.downloaded_by_other"), "false");
  // 201 is Kommune B's: its client downloaded for it.
  Rec mark_b = Mark("b", kM1, 201, 4);
  mark_b.org = "800000001";
  const PartyFacts& b = Feed(mark_b);
  EXPECT_EQ(Field(b, "msg.downloaded_by_other"), "true");
  EXPECT_EQ(Field(b, "msg.other_downloader"), "h");
  EXPECT_EQ(Field(b, "msg.downloaded_by_client"), "false");
}

TEST_F(StateTest, AMarkAfterOnlyAnotherOrganisationsEarlyDownloadIsOneWithoutDownload) {
  Rec early = Download("h", kM1, 0);
  early.org = "800000001";
  Feed(early);
  Feed(Send("hospital", 103, "101,201", kM1, 1));
  const PartyFacts& f = Feed(Mark("a", kM1, 101, 2));
  EXPECT_EQ(Field(f, "msg.custody_known"), "true");
  EXPECT_EQ(Field(f, "msg.downloaded_by_any"), "false");
}

TEST_F(StateTest, AnEarlyDownloadByAnOrganisationCoveringNoReceiverCountsForThemAll) {
  Rec early = Download("h", kM1, 0);
  early.org = "800000001";
  Feed(early);
  Feed(Send("hospital", 103, "101,102", kM1, 1));
  const PartyFacts& f = Feed(Mark("a", kM1, 102, 2));
  EXPECT_EQ(Field(f, "msg.downloaded_by_other"), "true");
  EXPECT_EQ(Field(f, "msg.other_downloader"), "h");
}

TEST_F(StateTest, AnEarlyDownloadCountsForAllReceiversOnlyOnceAllOfThemAreKnown) {
  Rec early = Download("h", kM1, 0);
  early.org = "800000001";
  Feed(early);
  // A poll for 101 tells one receiver: Kommune B's client may have downloaded for another.
  Feed(Poll("a", 101, 1, PolledMsg(kM1, 103, 101)));
  const PartyFacts& a = Feed(Download("a", kM1, 2));
  EXPECT_EQ(Field(a, "party.her_id"), "101");
  EXPECT_EQ(Field(a, "msg.downloaded_by_other"), "false");
  EXPECT_EQ(Field(Feed(Mark("a", kM1, 101, 3)), "msg.downloaded_by_other"), "false");
  // A download by Kommune B's client now, covering none of the receivers known so far: for
  // whom is not known yet, so it acts for no party (counted), rather than for 101.
  const uint64_t unknown_before = state_->counters().custody_unknown;
  Rec late = Download("h2", kM1, 4);
  late.org = "800000001";
  const PartyFacts& l = Feed(late);
  EXPECT_EQ(Field(l, "party.her_id"), "<absent>");
  EXPECT_EQ(state_->counters().custody_unknown, unknown_before + 1);
  // The message's own list: 101 and 102, both Kommune A's. Kommune B's downloads covered none
  // of them, so they were for all of them.
  Rec read = Rec();
  read.client = "a";
  read.path = std::string("/messages/") + kM1;
  read.minute = 5;
  read.message =
      std::string(R"({"id":")") + kM1 + R"(","senderHerId":103,"receiverHerIds":[101,102]})";
  Feed(read);
  const PartyFacts& b = Feed(Mark("b", kM1, 102, 6));
  EXPECT_EQ(Field(b, "msg.downloaded_by_other"), "true");
  EXPECT_EQ(Field(b, "msg.other_downloader"), "h");
  // Not for a party that is no receiver, even one Kommune B covers.
  Rec apprec = Rec();
  apprec.client = "b";
  apprec.org = "800000001";
  apprec.method = "POST";
  apprec.path = std::string("/messages/") + kM1 + "/apprec";
  apprec.request = R"({"appRecSenderHerId":201})";
  apprec.minute = 7;
  EXPECT_EQ(Field(Feed(apprec), "msg.downloaded_by_other"), "false");
}

// One municipality, two applications, each told of its own receiver by its own poll: each
// downloads its own copy before the other receiver is known. Neither download is for the
// other's party (a receiver the other owns), so neither owner sees a foreign download.
TEST_F(StateTest, AnEarlyDownloadOfAnOwnCopyDoesNotCountForAnotherOwnersReceiverNamedLater) {
  Feed(Lock("nh", 101, true, 0));
  Feed(Poll("nh", 101, 1, PolledMsg(kM1, 201, 101)));
  Feed(Download("nh", kM1, 2));
  Feed(Mark("nh", kM1, 101, 3));
  // gp is 103's declared owner.
  Feed(Poll("gp", 103, 4, PolledMsg(kM1, 201, 103)));
  const PartyFacts& gp = Feed(Download("gp", kM1, 5));
  EXPECT_EQ(Field(gp, "party.her_id"), "103");
  EXPECT_EQ(Field(gp, "msg.downloaded_by_other"), "false");
  // A receiver named later that nobody owns: the early download may have been for it.
  Feed(Send("hospital", 201, "101,103,102", kM1, 6));
  EXPECT_EQ(Field(Feed(Mark("x", kM1, 102, 7)), "msg.downloaded_by_other"), "true");
  // A client that answered for none of the receivers known then: its early download counts
  // for every receiver named later that its organisation covers, owned or not.
  Feed(Poll("nh", 101, 10, PolledMsg(kM2, 201, 101)));
  Feed(Download("intruder", kM2, 11));
  Feed(Poll("gp", 103, 12, PolledMsg(kM2, 201, 103)));
  const PartyFacts& gp2 = Feed(Download("gp", kM2, 13));
  EXPECT_EQ(Field(gp2, "msg.downloaded_by_other"), "true");
  EXPECT_EQ(Field(gp2, "msg.other_downloader"), "intruder");
}

// A download before anything told the receivers, by a client owning one of those the message
// turns out to have: its own copy, not one of another owner's receivers. By a client owning
// none of them: for every receiver its organisation covers.
TEST_F(StateTest, ADownloadBeforeCustodyByAReceiversOwnerIsNotForAnotherOwnersReceiver) {
  Feed(Lock("nh", 101, true, 0));
  Feed(Download("nh", kM1, 1));
  Feed(Download("intruder", kM2, 1));
  const std::string block = R"(","senderHerId":201,"receiverHerIds":[101,103]})";
  Rec gp = Download("gp", kM1, 2);  // 103's declared owner
  gp.message = std::string(R"({"id":")") + kM1 + block;
  const PartyFacts& f = Feed(gp);
  EXPECT_EQ(Field(f, "party.her_id"), "103");
  EXPECT_EQ(Field(f, "msg.downloaded_by_other"), "false");
  Rec gp2 = Download("gp", kM2, 3);
  gp2.message = std::string(R"({"id":")") + kM2 + block;
  const PartyFacts& f2 = Feed(gp2);
  EXPECT_EQ(Field(f2, "msg.downloaded_by_other"), "true");
  EXPECT_EQ(Field(f2, "msg.other_downloader"), "intruder");
}

// Ownership gained after the early download (a lock taken, a list named, a party of another
// organisation) does not make it one's own copy: it stays a download for the others' receiver.
TEST_F(StateTest, OwnershipGainedAfterAnEarlyDownloadDoesNotMakeItOnesOwnCopy) {
  const char* m3 = "33333333-3333-4333-8333-333333333333";
  Feed(Download("x", m3, 5));
  Feed(Lock("x", 102, true, 6));   // 102 was nobody's when x downloaded
  Rec gp = Download("gp", m3, 7);  // 103's declared owner
  gp.message =
      std::string(R"({"id":")") + m3 + R"(","senderHerId":201,"receiverHerIds":[102,103]})";
  const PartyFacts& f = Feed(gp);
  EXPECT_EQ(Field(f, "party.her_id"), "103");
  EXPECT_EQ(Field(f, "msg.downloaded_by_other"), "true");
  EXPECT_EQ(Field(f, "msg.other_downloader"), "x");
}

// A client's herid claim list as it was when it downloaded decides, not a later one.
TEST_F(StateTest, TheClaimListAnEarlyDownloadCameWithDecidesWhoseCopyItWas) {
  Rec v2 = Download("v2", kM1, 1);
  v2.claim = "101";
  Feed(v2);
  Rec later = Poll("v2", 102, 2);
  later.claim = "102";
  Feed(later);
  Rec gp = Download("gp", kM1, 3);  // 103's declared owner
  gp.message =
      std::string(R"({"id":")") + kM1 + R"(","senderHerId":201,"receiverHerIds":[101,103]})";
  EXPECT_EQ(Field(Feed(gp), "msg.downloaded_by_other"), "false");
}

// Whose copy an early download was is judged by the list the download came with, also when
// many lists came after it, when the download came with none ("0") after a call with a list,
// or when another list came in the same millisecond.
TEST_F(StateTest, AClaimListChangeDoesNotLetAnEarlyDownloadPassForOnesOwnCopy) {
  const std::string block = R"(","senderHerId":201,"receiverHerIds":[101,103]})";
  auto gp_after = [&](const char* id, int64_t minute) {
    Rec gp = Download("gp", id, minute);  // 103's declared owner
    gp.message = std::string(R"({"id":")") + id + block;
    return Field(Feed(gp), "msg.downloaded_by_other");
  };
  // x0 holds 101's lock but downloads with a list naming 103 (gp's), then 20 other lists.
  const char* m0 = "44444444-4444-4444-8444-444444444440";
  Feed(Lock("x0", 101, true, 0));
  Rec d0 = Download("x0", m0, 1);
  d0.claim = "103";
  Feed(d0);
  for (int i = 0; i < 20; ++i) {
    Rec p = Poll("x0", 101, 2 + i);
    p.claim = i % 2 ? "101" : "102";
    Feed(p);
  }
  EXPECT_EQ(gp_after(m0, 50), "true");
  // x1 called with a list naming 101, then downloaded with "0" (no list): 101 is nobody's.
  const char* m1 = "44444444-4444-4444-8444-444444444441";
  Rec p1 = Poll("x1", 101, 100);
  p1.claim = "101";
  Feed(p1);
  Rec d1 = Download("x1", m1, 101);
  d1.claim = "0";
  Feed(d1);
  EXPECT_EQ(gp_after(m1, 150), "true");
  // x2 downloaded with a list naming 103 and polled with one naming 101 in the same minute.
  const char* m2 = "44444444-4444-4444-8444-444444444442";
  Rec d2 = Download("x2", m2, 200);
  d2.claim = "103";
  Feed(d2);
  Rec p2 = Poll("x2", 101, 200);
  p2.claim = "101";
  Feed(p2);
  EXPECT_EQ(gp_after(m2, 250), "true");
}

// The same for a client whose herid claim list named one of the receivers: its own copy.
TEST_F(StateTest, ADownloadBeforeCustodyByAClientClaimingAReceiverIsNotForAnotherOwners) {
  Rec v2 = Download("v2", kM1, 1);
  v2.claim = "101";
  Feed(v2);
  Rec gp = Download("gp", kM1, 2);  // 103's declared owner
  gp.message =
      std::string(R"({"id":")") + kM1 + R"(","senderHerId":201,"receiverHerIds":[101,103]})";
  const PartyFacts& f = Feed(gp);
  EXPECT_EQ(Field(f, "party.her_id"), "103");
  EXPECT_EQ(Field(f, "msg.downloaded_by_other"), "false");
}

// The sender's client reading its message's metadata acts for the sender also when custody
// came from a `message` block (which names no sending client): it answers for the sender.
TEST_F(StateTest, TheSendersOwnerReadsMetadataForTheSenderWithCustodyFromABlock) {
  Rec read;
  read.client = "gp";  // 103's declared owner
  read.path = std::string("/messages/") + kM1;
  read.message = std::string(R"({"id":")") + kM1 + R"(","senderHerId":103,"receiverHerIds":[101]})";
  const PartyFacts& f = Feed(read);
  EXPECT_EQ(Field(f, "party.her_id"), "103");
  Rec other = read;
  other.client = "x";
  other.minute = 1;
  EXPECT_EQ(Field(Feed(other), "party.her_id"), "101");
}

// The gateway's block is about the message the call concerns: one naming another message
// says nothing of the path's message, and is counted.
TEST_F(StateTest, AMessageBlockNamingAnotherMessageIsNotLearnedFrom) {
  Feed(Send("hospital", 201, "101", kM1, 0));
  Rec d = Download("a", kM1, 1);
  d.message = std::string(R"({"id":")") + kM2 + R"(","senderHerId":201,"receiverHerIds":[103]})";
  const PartyFacts& f = Feed(d);
  EXPECT_EQ(Field(f, "party.her_id"), "101");
  EXPECT_EQ(state_->counters().message_blocks_ignored, 1u);
  EXPECT_EQ(Field(Feed(Download("gp", kM1, 2)), "party.her_id"), "101");  // not 103
}

// A send the gateway logged without response.id but with its own block is about that message.
TEST_F(StateTest, ASendWithOnlyAMessageBlockStartsItsCustody) {
  Rec s = Send("hospital", 201, "101", kM1, 0);
  s.response.clear();
  s.message = std::string(R"({"id":")") + kM1 + R"(","senderHerId":201,"receiverHerIds":[101]})";
  Feed(s);
  EXPECT_EQ(events_.back()->message_id, kM1);
  const PartyFacts& mark = Feed(Mark("a", kM1, 101, 1));
  EXPECT_EQ(Field(mark, "msg.custody_known"), "true");
  EXPECT_EQ(Field(mark, "msg.downloaded_by_any"), "false");
}

TEST_F(StateTest, AMessageBlockMakesCustodyKnown) {
  Rec d = Download("a", kM1, 0);
  d.message = std::string(R"({"id":")") + kM1 + R"(","senderHerId":201,"receiverHerIds":[102]})";
  const PartyFacts& f = Feed(d);
  EXPECT_EQ(Field(f, "msg.custody_known"), "true");
  EXPECT_EQ(Field(f, "party.her_id"), "102");
}

TEST_F(StateTest, MarkingDownloadedRemembersWhoDownloadedForWhichReceiver) {
  Feed(Send("hospital", 201, "101,102", kM1, 0));
  Feed(Download("a", kM1, 1));  // for 101 and 102
  const PartyFacts& mine = Feed(Mark("a", kM1, 101, 2));
  EXPECT_EQ(Field(mine, "msg.downloaded_by_client"), "true");
  EXPECT_EQ(Field(mine, "msg.downloaded_by_other"), "false");
  const PartyFacts& theirs = Feed(Mark("b", kM1, 102, 3));
  EXPECT_EQ(Field(theirs, "msg.downloaded_by_client"), "false");
  EXPECT_EQ(Field(theirs, "msg.downloaded_by_other"), "true");
  EXPECT_EQ(Field(theirs, "msg.other_downloader"), "a");
  EXPECT_EQ(Field(theirs, "msg.is_receiver"), "true");
}

TEST_F(StateTest, AMarkWithoutAnyDownloadIsVisible) {
  Feed(Send("hospital", 201, "101", kM1, 0));
  const PartyFacts& f = Feed(Mark("a", kM1, 101, 1));
  EXPECT_EQ(Field(f, "msg.downloaded_by_any"), "false");
}

TEST_F(StateTest, MultiReceiverMessagesKeepCustodyPerReceiver) {
  Feed(Send("hospital", 201, "101,103", kM1, 0));
  Feed(Download("nh", kM1, 1));  // owns neither: for both 101 and 103 (same municipality)
  EXPECT_EQ(events_.back()->parties.size(), 2u);
  const PartyFacts& f = Feed(Mark("a", kM1, 103, 2));
  EXPECT_EQ(Field(f, "msg.downloaded_by_other"), "true");
  EXPECT_EQ(Field(f, "msg.other_downloader"), "nh");
  EXPECT_EQ(Field(f, "msg.receiver_count"), "2");
}

// One message to two parties of a municipality, each used by its own application: each
// application's download is for its own party, not for the other's too.
TEST_F(StateTest, ADownloadIsForTheReceiversTheClientOwnsWhenItOwnsSome) {
  Feed(Lock("nh", 101, true, 0));
  Feed(Send("hospital", 201, "101,103", kM1, 1));
  Feed(Download("nh", kM1, 2));  // holds 101's lock
  ASSERT_EQ(events_.back()->parties.size(), 1u);
  EXPECT_EQ(events_.back()->parties[0].her_id, 101);
  const PartyFacts& gp = Feed(Download("gp", kM1, 3));  // the declared owner of 103
  EXPECT_EQ(Field(gp, "party.her_id"), "103");
  EXPECT_EQ(events_.back()->parties.size(), 1u);
  EXPECT_EQ(Field(gp, "msg.downloaded_by_other"), "false");  // nh's download was for 101
  // Marking its own party's copy: gp downloaded it, nobody else did.
  const PartyFacts& mark = Feed(Mark("gp", kM1, 103, 4));
  EXPECT_EQ(Field(mark, "msg.downloaded_by_client"), "true");
  EXPECT_EQ(Field(mark, "msg.downloaded_by_other"), "false");
  // A party nobody downloaded for: marking it is marking without a download.
  Feed(Send("hospital", 201, "102,103", kM2, 5));
  Feed(Download("gp", kM2, 6));  // for 103 only
  const PartyFacts& other = Feed(Mark("gp", kM2, 102, 7));
  EXPECT_EQ(Field(other, "msg.downloaded_by_any"), "false");
}

// A mark or apprec whose body named no party changed some receiver's copy, which the record
// cannot tell: it counts for every covered receiver, even from a client owning one of them
// (else owning any receiver would let it mark another's unseen).
TEST_F(StateTest, AMarkWithoutABodyPartyCountsForEveryCoveredReceiver) {
  Feed(Lock("nh", 101, true, 0));
  Feed(Send("hospital", 201, "101,103", kM1, 1));
  Feed(Download("nh", kM1, 2));  // its own copy: 101
  Rec mark = Mark("nh", kM1, 0, 3);
  mark.request.clear();
  Feed(mark);
  EXPECT_EQ(events_.back()->parties.size(), 2u);
}

TEST_F(StateTest, AV2DownloadIsForTheReceiversInItsHeridClaim) {
  Feed(Send("hospital", 201, "101,102", kM1, 0));
  Rec d = Download("v2", kM1, 1);
  d.api = "2";
  d.path = std::string("/Messages/") + kM1 + "/business-document";
  d.claim = "102-104";
  const PartyFacts& f = Feed(d);
  ASSERT_EQ(events_.back()->parties.size(), 1u);
  EXPECT_EQ(Field(f, "party.her_id"), "102");
  EXPECT_EQ(Field(f, "party.in_herid_claim"), "true");
  // A claim naming none of the receivers: the download is for all of them, outside the claim.
  d.claim = "104";
  d.minute = 2;
  const PartyFacts& g = Feed(d);
  EXPECT_EQ(events_.back()->parties.size(), 2u);
  EXPECT_EQ(Field(g, "party.in_herid_claim"), "false");
  // A claim naming every receiver: the download is for all of them, whichever the client
  // owns (the claim says what it answers for).
  Feed(Lock("v2", 101, true, 3));
  d.claim = "101-102";
  d.minute = 4;
  Feed(d);
  EXPECT_EQ(events_.back()->parties.size(), 2u);
}

TEST_F(StateTest, TheSendersClientReadsItsMessagesMetadataForTheSender) {
  Feed(Send("gp", 103, "101", kM1, 0));
  Rec read;
  read.client = "gp";
  read.path = std::string("/messages/") + kM1;
  read.minute = 1;
  const PartyFacts& f = Feed(read);
  EXPECT_EQ(Field(f, "evt.action"), "read_metadata");
  EXPECT_EQ(Field(f, "party.her_id"), "103");
  // Another client of the municipality reading it: for the receiver, as before.
  read.client = "a";
  read.minute = 2;
  EXPECT_EQ(Field(Feed(read), "party.her_id"), "101");
}

TEST_F(StateTest, V2RoutesFeedTheSameCustodyAsV3) {
  Rec send = Send("v2client", 101, "201", kM1, 0);
  send.api = "2";
  send.path = "/Messages";
  Feed(send);
  Rec status;
  status.client = "v2client";
  status.api = "2";
  status.path = std::string("/Messages/") + kM1 + "/apprec";
  status.minute = 1;
  const PartyFacts& f = Feed(status);
  EXPECT_EQ(Field(f, "evt.action"), "read_apprec");
  EXPECT_EQ(Field(f, "party.her_id"), "101");  // the sender, from custody
  EXPECT_EQ(Field(f, "msg.sender_client"), "v2client");
  Rec read;
  read.client = "b";
  read.api = "2";
  read.method = "PUT";
  read.path = std::string("/Messages/") + kM1 + "/read/201";
  read.minute = 2;
  const PartyFacts& g = Feed(read);
  EXPECT_EQ(Field(g, "msg.is_receiver"), "true");
  EXPECT_EQ(Field(g, "msg.downloaded_by_any"), "false");
}

TEST_F(StateTest, CustodyUntouchedForTheTtlIsForgotten) {
  Feed(Send("hospital", 201, "101", kM1, 0));
  EXPECT_EQ(state_->custody().size(), 1u);
  Feed(Poll("a", 101, 31 * 24 * 60));
  EXPECT_EQ(state_->custody().size(), 0u);
  EXPECT_EQ(state_->counters().expired_messages, 1u);
  const PartyFacts& f = Feed(Mark("a", kM1, 101, 31 * 24 * 60 + 1));
  EXPECT_EQ(Field(f, "msg.custody_known"), "false");
}

TEST_F(StateTest, RecordsAFewMinutesOutOfOrderStillBuildCustody) {
  Feed(Download("a", kM1, 10));  // arrives before the send that happened earlier
  Feed(Send("hospital", 201, "101", kM1, 8));
  const PartyFacts& f = Feed(Mark("a", kM1, 101, 11));
  EXPECT_EQ(Field(f, "msg.custody_known"), "true");
  EXPECT_EQ(Field(f, "msg.downloaded_by_client"), "true");  // unknown-receiver download counts
}

}  // namespace
}  // namespace edi::testing

namespace edi::testing {
namespace {

TEST_F(StateTest, ReadingMetadataActsForTheReceiversTheClientCoversNotTheSender) {
  Feed(Send("b", 103, "101", kM2, 0));  // both in municipality A
  Rec read;
  read.client = "a";
  read.path = std::string("/messages/") + kM2;
  read.minute = 1;
  Feed(read);
  ASSERT_EQ(events_.back()->parties.size(), 1u);
  EXPECT_EQ(events_.back()->parties[0].her_id, 101);
}

TEST_F(StateTest, ReadingMetadataOfAnOwnSentMessageActsForTheSender) {
  Feed(Send("a", 101, "201", kM2, 0));  // the receiver is in municipality B
  Rec read;
  read.client = "a";
  read.path = std::string("/messages/") + kM2;
  read.minute = 1;
  Feed(read);
  ASSERT_EQ(events_.back()->parties.size(), 1u);
  EXPECT_EQ(events_.back()->parties[0].her_id, 101);
}

}  // namespace
}  // namespace edi::testing
