// FindingSink: where findings go after the SQLite transaction that stored them has committed —
// the alerts topic (KafkaAlertSink), and test doubles.
//
// The database is the outbox: a finding is stored undelivered (`findings.delivered = 0`) with
// the events that raised it, offered to the sink after the commit, and marked delivered when
// the sink reports it delivered. Findings a sink could not deliver before a crash or shutdown
// are still undelivered in the database and are offered again after the restart
// (FindingStore::LoadUndelivered). Delivery is therefore at least once per finding; the
// deterministic finding id lets a consumer of the alerts topic drop the rare repeat. A finding
// a later repeat raised to a higher severity is offered again (`escalated`) and sent again
// under the same id: a consumer keeps the latest version of an id.
//
// Not thread-safe: one thread offers findings, polls and flushes, and the delivered callback
// runs on that thread inside Poll or Flush.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "detect/finding.h"

namespace edi {

// Receives the ids of findings a sink delivered, to mark them in the database.
using FindingsDeliveredFn = std::function<void(const std::vector<std::string>& ids)>;

class FindingSink {
 public:
  virtual ~FindingSink() = default;

  // Offers committed findings for delivery. Never blocks on the network. A finding already in
  // flight (offered before, not yet delivered) is not sent twice, unless it is `escalated`:
  // then its new version is sent after the one in flight, and the finding counts as delivered
  // once that is. A finding the sink cannot take now (over its in-flight bound) stays
  // undelivered and is offered again later.
  virtual void Deliver(const std::vector<Finding>& findings) = 0;

  // Serves delivery reports and due retries without blocking; reports delivered ids.
  virtual void Poll() = 0;

  // Waits up to `timeout` for everything in flight (at shutdown). Returns how many findings
  // are still undelivered; they stay so in the database.
  virtual size_t Flush(std::chrono::milliseconds timeout) = 0;

  // Findings offered and not yet delivered.
  virtual size_t in_flight() const = 0;
};

}  // namespace edi
