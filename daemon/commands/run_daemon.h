// The running daemon's parts, shared by `run` (run_command.cpp: start, loop, reload, stop) and
// its status reporting (run_status.cpp: /metrics, /health and the periodic log line). Used from
// the daemon's one thread only.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "commands/run_metrics.h"
#include "config/config.h"
#include "detect/rules.h"
#include "http/status_server.h"
#include "pipeline/pipeline.h"
#include "report/text_table.h"
#include "sinks/kafka_alert_sink.h"
#include "source/kafka_source.h"

namespace edi {

inline double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// What the stored batches add up to, for /metrics and /health.
struct BatchOutcomes {
  FindingCounts findings;     // new findings since the start
  FindingTimes last_finding;  // when each kind was last raised
  // When a record was last quarantined, per reason; and one saying the call succeeded.
  QuarantineTimes last_quarantined{}, last_quarantined_succeeded{};
  double last_batch_seconds = 0;  // Unix time of the last stored batch
  std::string failing;  // why the last attempt to store a batch failed; "" when it did not
};

// The database is where the source's batches go: the pipeline stores each in one transaction
// with its offsets; the new findings it raised go to the sink after the commit.
class PipelineBatchStore : public BatchStore {
 public:
  PipelineBatchStore(Pipeline* pipeline, Store* store, FindingSink* sink, BatchOutcomes* outcomes)
      : pipeline_(pipeline), store_(store), sink_(sink), outcomes_(outcomes) {}

  Status StoreBatch(const std::vector<RawRecord>& batch) override {
    Status s = pipeline_->ProcessBatch(batch);
    if (!s.ok()) {
      outcomes_->failing = "storing a batch failed (it is retried): " + s.message();
      return s;
    }
    outcomes_->failing.clear();
    const double now = UnixSeconds();
    outcomes_->last_batch_seconds = now;
    for (const Finding& f : pipeline_->batch_findings()) {
      // An escalated finding is not new, but it is now of its new severity: the alerts on
      // the last time a severity was raised fire for it.
      if (!f.escalated) ++outcomes_->findings[f.rule][static_cast<size_t>(f.severity)];
      outcomes_->last_finding[f.rule][static_cast<size_t>(f.severity)] = now;
    }
    const PipelineCounters& c = pipeline_->counters();
    for (size_t r = 0; r < c.quarantined_by_reason.size(); ++r) {
      if (c.quarantined_by_reason[r] != quarantined_[r]) outcomes_->last_quarantined[r] = now;
      if (c.quarantined_succeeded_by_reason[r] != quarantined_succeeded_[r]) {
        outcomes_->last_quarantined_succeeded[r] = now;
      }
    }
    quarantined_ = c.quarantined_by_reason;
    quarantined_succeeded_ = c.quarantined_succeeded_by_reason;
    if (pipeline_->first_future_dated() && !warned_future_) {
      warned_future_ = true;
      const NotedRecord& f = *pipeline_->first_future_dated();
      spdlog::warn(
          "record {} is dated {}, over a day after this machine's clock (a gateway's clock "
          "fault?): it is judged with its own time, but event time does not move on to it "
          "(edi_audit_records_future_dated_total counts such records)",
          LogText(f.request_id), FormatRfc3339(f.time));
    }
    if (sink_ != nullptr && !pipeline_->batch_findings().empty()) {
      sink_->Deliver(pipeline_->batch_findings());
    }
    return s;
  }
  std::optional<int64_t> StoredPosition(const std::string& source) override {
    return store_->GetSourcePosition(source);
  }
  std::optional<bool> HoldsRecord(const RawRecord& r) override { return pipeline_->HoldsRecord(r); }

 private:
  Pipeline* pipeline_;
  Store* store_;
  FindingSink* sink_;
  BatchOutcomes* outcomes_;
  // The pipeline's quarantine counts after the last batch stored: a batch that raised one
  // quarantined a record.
  std::array<uint64_t, kQuarantineReasonCount> quarantined_{}, quarantined_succeeded_{};
  bool warned_future_ = false;
};

struct Daemon {
  Config config;
  std::string config_path;
  std::unique_ptr<Store> store;
  std::unique_ptr<RuleEngine> rules;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<KafkaAlertSink> alerts;
  std::unique_ptr<PipelineBatchStore> batch_store;
  std::unique_ptr<KafkaSource> source;
  std::unique_ptr<StatusServer> http;
  bool http_gone_logged = false;
  uint64_t registry_reloads = 0, registry_reload_failures = 0;         // by SIGHUP
  bool registry_reload_failing = false, rules_reload_failing = false;  // the last one failed
  BatchOutcomes outcomes;
  double start_seconds = UnixSeconds();
  uint64_t deferred_seen = 0;
};

// Publishes /metrics and /health from the daemon's counters (nothing without http.listen).
void PublishStatus(Daemon* d);

// Logs the counters in one line (and the alerts' in a second), as `what`: "progress", "stopped".
// Given `unchanged_since` (what the last call logged), logs only when they changed since, and
// returns whether it did.
bool LogStats(const Daemon& d, const char* what, std::string* unchanged_since = nullptr);

}  // namespace edi
