// Tunables of the reconstruction (config keys under `state:`). All durations are event time.
#pragma once

#include <cstdint>

#include "common/time.h"

namespace edi {

struct StateOptions {
  // Learned owner: over the last `learn_window`, the client with at least `learn_min_actions`
  // successful owner actions on the party and at least `learn_min_share` of all of them.
  EventTime learn_window = 14 * kMillisPerDay;
  uint32_t learn_min_actions = 20;
  double learn_min_share = 0.8;
  // Anomaly baselines.
  EventTime learning_period = 7 * kMillisPerDay;  // from the first record, for new-client
  EventTime sweep_window = 10 * kMillisPerMinute;
  EventTime shared_window = 7 * kMillisPerDay;
  EventTime stale_lock_after = 30 * kMillisPerDay;
  // Custody and statistics not touched for this long are forgotten (bounded memory).
  EventTime ttl = 30 * kMillisPerDay;
};

}  // namespace edi
