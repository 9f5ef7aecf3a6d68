// Memory of the reconstruction state: bytes per tracked message and per tracked party, with
// 1,000,000 messages in custody (each sent, downloaded and marked downloaded by its receiver)
// spread over 50,000 parties and 40 clients. Prints a table; not a test.
//
// Nothing is saved here, so the figure per message includes the list of unsaved changes
// (16 bytes per changed message) that the daemon empties with every batch: about 128 bytes per
// message in all, of which the custody entry is 64, its index slot and expiry listing about 25.
#include <malloc.h>

#include <chrono>
#include <cstdio>

#include "registry/registry.h"
#include "state/state.h"

namespace {

size_t HeapBytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edi;
  const int messages = argc > 1 ? std::atoi(argv[1]) : 1000000;
  const int parties = 50000;
  const int clients = 40;
  StateOptions options;
  AuditState state(options, Registry::Empty());
  std::vector<PartyFacts> facts;
  char id[40];
  const size_t before = HeapBytes();
  const auto start = std::chrono::steady_clock::now();
  EventTime t = 1777777777000;
  uint64_t calls = 0;
  for (int i = 0; i < messages; ++i) {
    std::snprintf(id, sizeof id, "%08x-1111-4111-8111-%012x", i, i * 7);
    const HerId sender = 1000000 + (i * 31) % parties;
    const HerId receiver = 1000000 + (i * 17 + 5) % parties;
    const std::string client = "client-" + std::to_string(i % clients);
    AccessEvent send;
    send.time = t += 5;
    send.action = Action::kSend;
    send.status = 201;
    send.client.client_id = client;
    send.message_id = id;
    send.sender_her_id = sender;
    send.receiver_her_ids = {receiver};
    send.parties = {{sender, PartySource::kRequestBody}};
    AccessEvent download = send;
    download.time = t += 5;
    download.action = Action::kDownload;
    download.status = 200;
    download.client.client_id = "client-" + std::to_string((i + 1) % clients);
    download.parties = {{receiver, PartySource::kCustody}};
    AccessEvent mark = download;
    mark.time = t += 5;
    mark.action = Action::kMarkDownloaded;
    mark.status = 204;
    for (AccessEvent* e : {&send, &download, &mark}) {
      facts.clear();
      state.Observe(e, &facts);
      ++calls;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const size_t total = HeapBytes() - before;
  const size_t tracked = state.custody().size();
  const size_t party_count = state.ownership().parties().size();

  // The parties' share: the same run without custody (polls only) over the same parties.
  AuditState parties_only(options, Registry::Empty());
  const size_t before_p = HeapBytes();
  for (int i = 0; i < messages; ++i) {
    AccessEvent poll;
    poll.time = t += 5;
    poll.action = Action::kPoll;
    poll.status = 200;
    poll.client.client_id = "client-" + std::to_string(i % clients);
    poll.parties = {{1000000 + (i * 17 + 5) % parties, PartySource::kQuery}};
    facts.clear();
    parties_only.Observe(&poll, &facts);
  }
  const size_t party_bytes = HeapBytes() - before_p;
  const size_t pairs = parties_only.ownership().pair_count();

  std::printf("%-40s %14s\n", "measure", "value");
  std::printf("%-40s %14zu\n", "tracked messages", tracked);
  std::printf("%-40s %14zu\n", "tracked parties", party_count);
  std::printf("%-40s %14.1f\n", "state heap, MiB", static_cast<double>(total) / (1 << 20));
  std::printf("%-40s %14.0f\n", "bytes per tracked message (all state)",
              static_cast<double>(total) / static_cast<double>(tracked));
  std::printf("%-40s %14.0f\n", "bytes per party (stats + pairs)",
              static_cast<double>(party_bytes) /
                  static_cast<double>(parties_only.ownership().parties().size()));
  std::printf("%-40s %14zu\n", "(client, party) pairs", pairs);
  std::printf("%-40s %14.0f\n", "state updates per second", static_cast<double>(calls) / secs);
  return 0;
}
