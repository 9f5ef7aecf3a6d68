// The daemon's status: what /metrics and /health publish, and the periodic log line.
#include <spdlog/spdlog.h>

#include "commands/run_daemon.h"
#include "report/report.h"

namespace edi {
namespace {

// What /health reports as the daemon's problem; "" when there is none.
std::string HealthProblem(const Daemon& d) {
  if (!d.outcomes.failing.empty()) return d.outcomes.failing;
  if (const auto since = d.source->unreachable_since()) {
    const auto down = std::chrono::steady_clock::now() - *since;
    if (down >= std::chrono::milliseconds(d.config.run.kafka_unreachable_ms)) {
      return "kafka: no broker reachable for " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(down).count()) +
             " s (librdkafka keeps trying; nothing is lost, nothing is audited meanwhile)";
    }
  }
  return {};
}

}  // namespace

void PublishStatus(Daemon* d) {
  if (d->http == nullptr) return;
  if (!d->http->serving() && !d->http_gone_logged) {
    d->http_gone_logged = true;
    spdlog::error("http: the server on {} stopped accepting connections: no /metrics, no /health",
                  d->config.http.listen);
  }
  RunMetrics m;
  m.pipeline = d->pipeline->counters();
  m.state = d->pipeline->state().counters();
  m.kafka = d->source->counters();
  m.partitions = d->source->assigned_sources().size();
  m.lags = d->source->Lags();
  m.pending_records = d->source->pending_records();
  m.brokers_up = d->source->brokers_up();
  m.wal_bytes = d->store->WalBytes();
  if (d->alerts != nullptr) {
    m.alerts_enabled = true;
    m.alerts = d->alerts->counters();
    m.alerts_in_flight = d->alerts->in_flight();
  }
  m.findings = d->outcomes.findings;
  m.last_finding = d->outcomes.last_finding;
  m.last_quarantined = d->outcomes.last_quarantined;
  m.last_quarantined_succeeded = d->outcomes.last_quarantined_succeeded;
  m.last_loop_unix_seconds = UnixSeconds();
  // Each enabled rule's series exist from the start, at 0 when it raised nothing: the first
  // finding is then a rise Prometheus' increase() sees, not a new series.
  const std::shared_ptr<const RuleSet> rules = d->rules->current();
  for (const RuleInfo& r : rules->rules()) {
    if (r.enabled) m.findings.try_emplace(r.id);
  }
  m.newest_event_time = d->pipeline->state().max_time();
  // Until the first batch, the start: "no batch for 5 minutes" counts from there.
  m.last_batch_unix_seconds =
      d->outcomes.last_batch_seconds > 0 ? d->outcomes.last_batch_seconds : d->start_seconds;
  m.rules_enabled = rules->enabled_count();
  m.reloads = d->rules->successful_reloads() > 0 ? d->rules->successful_reloads() - 1 : 0;
  m.reload_failures = d->rules->failed_reloads();
  m.registry_reloads = d->registry_reloads;
  m.registry_reload_failures = d->registry_reload_failures;
  m.registry_reload_failing = d->registry_reload_failing;
  m.rules_reload_failing = d->rules_reload_failing;
  m.start_unix_seconds = d->start_seconds;
  m.version = EDI_VERSION;
  d->http->Publish(RenderRunMetrics(m), HealthProblem(*d));
}

bool LogStats(const Daemon& d, const char* what, std::string* unchanged_since) {
  const PipelineCounters& p = d.pipeline->counters();
  const KafkaSourceCounters k = d.source->counters();
  const StateCounters& st = d.pipeline->state().counters();
  std::string counts = fmt::format(
      "records {} (stored {}, duplicates {}, quarantined {}), findings {}, batches {} "
      "(failed {}); state: calls with unknown custody {}, party checks with no owner {}; "
      "kafka: partitions {}, redelivered {}, offsets went back {}, commit failures {}, "
      "errors {}, pauses {}, fetches hastened {}, merged ahead of quiet partitions {}, merged "
      "before lagging partitions caught up {}",
      p.records, p.stored, p.duplicates, p.quarantined, p.findings_new, p.batches, p.failed_batches,
      st.custody_unknown, st.no_owner, d.source->assigned_sources().size(), k.redelivered,
      k.offsets_went_back, k.commit_failures, k.consumer_errors, k.pauses, k.fetches_hastened,
      k.merged_past_quiet, k.merged_early);
  std::string alerts;
  if (d.alerts != nullptr) {
    const AlertSinkCounters& a = d.alerts->counters();
    alerts = fmt::format("alerts delivered {}, delivery failures {}, retries {}, in flight {}",
                         a.delivered, a.delivery_failures, a.retries, d.alerts->in_flight());
  }
  if (unchanged_since != nullptr) {
    std::string now = counts + '\n' + alerts;
    if (now == *unchanged_since) return false;
    *unchanged_since = std::move(now);
  }
  spdlog::info("{}: {}", what, counts);
  if (!alerts.empty()) spdlog::info("{}: {}", what, alerts);
  return true;
}

}  // namespace edi
