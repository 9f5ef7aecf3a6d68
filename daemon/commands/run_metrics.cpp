#include "commands/run_metrics.h"

#include "detect/rules.h"
#include "http/metrics_text.h"

namespace edi {
namespace {

// One sample per rule and severity of `by_rule` (the array's index is the Severity); with
// `skip_zero`, only the non-zero ones.
template <typename T>
void SamplesByRuleAndSeverity(MetricsText& t,
                              const std::map<std::string, std::array<T, 5>>& by_rule,
                              bool skip_zero) {
  for (const auto& [rule, by_severity] : by_rule) {
    for (size_t s = 0; s < by_severity.size(); ++s) {
      if (skip_zero && by_severity[s] == 0) continue;
      t.Sample({{"rule", rule}, {"severity", SeverityName(static_cast<Severity>(s))}},
               by_severity[s]);
    }
  }
}

}  // namespace

std::string RenderRunMetrics(const RunMetrics& m) {
  MetricsText t;
  const PipelineCounters& p = m.pipeline;
  t.Family("edi_audit_build_info", "gauge", "The running edi-audit's version (always 1).");
  t.Sample({{"version", m.version}}, uint64_t{1});
  t.Single("edi_audit_start_time_seconds", "gauge", "When the daemon started, Unix time.",
           m.start_unix_seconds);
  t.Single("edi_audit_last_loop_time_seconds", "gauge",
           "When the daemon's consumer loop last went round, Unix time: a loop that stops "
           "leaves it behind.",
           m.last_loop_unix_seconds);

  t.Family("edi_audit_records_total", "counter",
           "Access-log records read from Kafka and stored in batches, by what became of them.");
  t.Sample({{"outcome", "stored"}}, p.stored);
  t.Sample({{"outcome", "duplicate"}}, p.duplicates);
  t.Sample({{"outcome", "quarantined"}}, p.quarantined);
  t.Single("edi_audit_records_future_dated_total", "counter",
           "Stored records dated over a day after the wall clock when they were read (a "
           "gateway's clock fault?): judged with their own time, they do not move event time "
           "on.",
           p.future_dated);
  t.Family("edi_audit_quarantined_total", "counter", "Records quarantined, by reason.");
  for (int r = 0; r < kQuarantineReasonCount; ++r) {
    t.Sample({{"reason", QuarantineReasonName(static_cast<QuarantineReason>(r))}},
             p.quarantined_by_reason[static_cast<size_t>(r)]);
  }
  t.Family("edi_audit_quarantined_succeeded_total", "counter",
           "Records quarantined although they say the call succeeded (2xx), by reason: calls "
           "the API carried out that no rule saw.");
  for (int r = 0; r < kQuarantineReasonCount; ++r) {
    t.Sample({{"reason", QuarantineReasonName(static_cast<QuarantineReason>(r))}},
             p.quarantined_succeeded_by_reason[static_cast<size_t>(r)]);
  }
  const auto last_times = [&t](const QuarantineTimes& times) {
    for (int r = 0; r < kQuarantineReasonCount; ++r) {
      if (times[static_cast<size_t>(r)] == 0) continue;
      t.Sample({{"reason", QuarantineReasonName(static_cast<QuarantineReason>(r))}},
               times[static_cast<size_t>(r)]);
    }
  };
  t.Family("edi_audit_last_quarantine_time_seconds", "gauge",
           "When a record was last quarantined for this reason, Unix time (wall clock); only "
           "reasons since the start.");
  last_times(m.last_quarantined);
  t.Family("edi_audit_last_quarantine_succeeded_time_seconds", "gauge",
           "When a record saying the call succeeded (2xx) was last quarantined for this reason, "
           "Unix time (wall clock); only reasons since the start.");
  last_times(m.last_quarantined_succeeded);
  t.Family("edi_audit_events_total", "counter", "Calls stored, by action.");
  for (int a = 0; a < kActionCount; ++a) {
    t.Sample({{"action", ActionName(static_cast<Action>(a))}},
             p.stored_by_action[static_cast<size_t>(a)]);
  }
  t.Single("edi_audit_batches_total", "counter", "Batches stored (one transaction each).",
           p.batches);
  t.Single("edi_audit_batch_failures_total", "counter",
           "Attempts to store a batch that failed: nothing of it was stored, and it is retried.",
           p.failed_batches);
  t.Single("edi_audit_last_batch_time_seconds", "gauge",
           "When the last batch was stored, Unix time (the start until the first).",
           m.last_batch_unix_seconds);
  t.Single("edi_audit_newest_event_time_seconds", "gauge",
           "The newest event time seen, Unix time (0: none yet).",
           static_cast<double>(m.newest_event_time) / 1000.0);

  t.Family("edi_audit_findings_total", "counter",
           "New findings raised since the start, by rule and severity (repeats not included).");
  SamplesByRuleAndSeverity(t, m.findings, /*skip_zero=*/false);
  t.Family("edi_audit_last_finding_time_seconds", "gauge",
           "When a finding of this rule and severity was last raised (or a repeat raised one to "
           "this severity), Unix time (wall clock); only kinds raised since the start.");
  SamplesByRuleAndSeverity(t, m.last_finding, /*skip_zero=*/true);
  t.Single("edi_audit_finding_repeats_total", "counter",
           "Repeats folded into an open finding instead of raising a new one.", p.findings_repeats);
  t.Single("edi_audit_finding_escalations_total", "counter",
           "Repeats that raised the severity of the finding they were folded into (it is stored "
           "and sent to the alerts topic again).",
           p.findings_escalated);
  t.Single("edi_audit_rules_enabled", "gauge", "Rules enabled in the rule files in use.",
           static_cast<uint64_t>(m.rules_enabled));
  t.Family("edi_audit_reloads_total", "counter",
           "SIGHUP reloads of the rule files and of the reference snapshots (the registry), by "
           "result; a failed one keeps what was in use.");
  t.Sample({{"part", "rules"}, {"result", "ok"}}, m.reloads);
  t.Sample({{"part", "rules"}, {"result", "failed"}}, m.reload_failures);
  t.Sample({{"part", "registry"}, {"result", "ok"}}, m.registry_reloads);
  t.Sample({{"part", "registry"}, {"result", "failed"}}, m.registry_reload_failures);
  t.Family("edi_audit_reload_failing", "gauge",
           "1 while the last SIGHUP reload of the part failed (what was in use before stays).");
  t.Sample({{"part", "rules"}}, uint64_t{m.rules_reload_failing ? 1u : 0u});
  t.Sample({{"part", "registry"}}, uint64_t{m.registry_reload_failing ? 1u : 0u});

  const StateCounters& st = m.state;
  t.Single("edi_audit_custody_unknown_total", "counter",
           "Calls whose parties or facts needed a message custody not known (yet).",
           st.custody_unknown);
  t.Single("edi_audit_message_blocks_ignored_total", "counter",
           "Records whose `message` block named another message than the call's: custody is "
           "not learned from it (a gateway fault).",
           st.message_blocks_ignored);
  t.Single("edi_audit_calls_naming_no_party_total", "counter",
           "Calls of a route that names the parties it acts for (a poll's HerIds, a send's "
           "sender...) that named none: the rules see no party for them.",
           st.no_party);
  t.Single("edi_audit_party_checks_without_owner_total", "counter",
           "Party evaluations with no owner known: lock, declared or learned.", st.no_owner);
  t.Single("edi_audit_stale_locks_total", "counter", "Locks found held by a quiet client.",
           st.stale_locks);

  const KafkaSourceCounters& k = m.kafka;
  t.Single("edi_audit_kafka_partitions", "gauge", "Partitions assigned to this instance.",
           static_cast<uint64_t>(m.partitions));
  if (m.wal_bytes >= 0) {
    t.Single("edi_audit_database_wal_bytes", "gauge",
             "Size of the database's write-ahead log; it grows while a reader's transaction keeps "
             "checkpoints from finishing.",
             static_cast<uint64_t>(m.wal_bytes));
  }
  if (m.brokers_up >= 0) {  // none before librdkafka's first statistics, or with them off
    t.Single("edi_audit_kafka_brokers_up", "gauge",
             "Kafka brokers the consumer is connected to (librdkafka's statistics).",
             static_cast<uint64_t>(m.brokers_up));
  }
  t.Family("edi_audit_kafka_lag_records", "gauge",
           "Records Kafka holds beyond the next offset to read, per assigned partition (as of "
           "the last fetch).");
  for (const KafkaSource::PartitionLag& l : m.lags) {
    t.Sample({{"topic", l.topic}, {"partition", std::to_string(l.partition)}},
             static_cast<uint64_t>(l.records));
  }
  t.Single("edi_audit_kafka_pending_records", "gauge",
           "Records consumed but not yet stored (in the batch or waiting for other partitions).",
           static_cast<uint64_t>(m.pending_records));
  t.Single("edi_audit_kafka_redelivered_total", "counter",
           "Records Kafka delivered again within an assignment, skipped.", k.redelivered);
  t.Family("edi_audit_kafka_dropped_total", "counter",
           "Unstored records of partitions given up or lost; their next owner reads them.");
  t.Sample({{"why", "unowned"}}, k.dropped_unowned);
  t.Sample({{"why", "lost"}}, k.dropped_lost);
  t.Single("edi_audit_kafka_commit_failures_total", "counter",
           "Offset commits to Kafka that failed (harmless: the database holds the offsets).",
           k.commit_failures);
  t.Single("edi_audit_kafka_handed_over_uncommitted_total", "counter",
           "Partitions given up although committing their offsets failed: their next owner may "
           "store again records this database holds.",
           k.handed_over_uncommitted);
  t.Single("edi_audit_kafka_errors_total", "counter",
           "Broker, transport and consumer errors librdkafka reported.", k.consumer_errors);
  t.Family("edi_audit_kafka_rebalance_partitions_total", "counter",
           "Partitions assigned, and given up (revoked or lost), over time.");
  t.Sample({{"event", "assigned"}}, k.assigned);
  t.Sample({{"event", "given_up"}}, k.revoked);
  t.Family("edi_audit_kafka_merged_early_total", "counter",
           "Records merged into a batch before every partition caught up with their event time.");
  t.Sample({{"why", "lagging_partition"}}, k.merged_early);
  t.Sample({{"why", "quiet_partition"}}, k.merged_past_quiet);

  t.Single("edi_audit_alerts_enabled", "gauge", "1 when findings go to an alerts topic.",
           uint64_t{m.alerts_enabled ? 1u : 0u});
  if (m.alerts_enabled) {
    const AlertSinkCounters& a = m.alerts;
    t.Single("edi_audit_alerts_delivered_total", "counter",
             "Findings the alerts topic acknowledged.", a.delivered);
    t.Single("edi_audit_alerts_delivery_failures_total", "counter",
             "Attempts to deliver a finding that failed (each is retried).", a.delivery_failures);
    t.Single("edi_audit_alerts_in_flight", "gauge", "Findings sent and not yet acknowledged.",
             static_cast<uint64_t>(m.alerts_in_flight));
    t.Single("edi_audit_alerts_deferred_total", "counter",
             "Findings not taken for delivery because too many were in flight (sent later).",
             a.deferred);
  }
  return t.Take();
}

}  // namespace edi
