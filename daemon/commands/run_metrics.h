// The metrics `edi-audit run` serves on /metrics (http.listen), rendered from its counters.
// README.md ("Metrics and health") lists them; rules/prometheus/edi-audit-alerts.yml alerts on
// them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "common/time.h"
#include "pipeline/pipeline.h"
#include "sinks/kafka_alert_sink.h"
#include "source/kafka_source.h"
#include "state/state.h"

namespace edi {

// Findings per rule, per severity (the index is the Severity).
using FindingCounts = std::map<std::string, std::array<uint64_t, 5>>;
// When findings were last raised (Unix time, wall clock) per rule, per severity; 0: not since
// the start.
using FindingTimes = std::map<std::string, std::array<double, 5>>;
// When a record was last quarantined (Unix time, wall clock) per reason (the index is the
// QuarantineReason); 0: not since the start.
using QuarantineTimes = std::array<double, kQuarantineReasonCount>;

struct RunMetrics {
  PipelineCounters pipeline;
  StateCounters state;
  KafkaSourceCounters kafka;
  size_t partitions = 0;  // assigned now
  std::vector<KafkaSource::PartitionLag> lags;
  size_t pending_records = 0;  // consumed, not yet stored
  int brokers_up = -1;         // brokers connected, from librdkafka's statistics; -1 unknown
  int64_t wal_bytes = -1;      // the database's write-ahead log on disk; -1 unknown
  bool alerts_enabled = false;
  AlertSinkCounters alerts;
  size_t alerts_in_flight = 0;
  // New findings raised since the start. Every rule in it gets a sample for each severity, 0
  // included, so that the first finding of a kind is a rise, not a new series.
  FindingCounts findings;
  // When each kind was last raised (since the start): alerting on how recent that is sees
  // findings raised before a scrape as well as during one, backlogs included.
  FindingTimes last_finding;
  // Likewise when a record was last quarantined, and one saying the call succeeded.
  QuarantineTimes last_quarantined{}, last_quarantined_succeeded{};
  double last_loop_unix_seconds = 0;   // when the daemon's loop last went round
  EventTime newest_event_time = 0;     // ms; 0: none yet
  double last_batch_unix_seconds = 0;  // wall clock of the last stored batch (the start before)
  size_t rules_enabled = 0;
  uint64_t reloads = 0, reload_failures = 0;                           // of the rule files
  uint64_t registry_reloads = 0, registry_reload_failures = 0;         // of the reference snapshots
  bool rules_reload_failing = false, registry_reload_failing = false;  // the last one failed
  double start_unix_seconds = 0;
  std::string version;
};

std::string RenderRunMetrics(const RunMetrics& m);

}  // namespace edi
