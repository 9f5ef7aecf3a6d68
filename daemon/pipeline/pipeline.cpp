#include "pipeline/pipeline.h"

#include <chrono>
#include <map>

namespace edi {

void PipelineCounters::Add(const PipelineCounters& o) {
  records += o.records;
  stored += o.stored;
  duplicates += o.duplicates;
  quarantined += o.quarantined;
  for (size_t i = 0; i < quarantined_by_reason.size(); ++i) {
    quarantined_by_reason[i] += o.quarantined_by_reason[i];
  }
  for (size_t i = 0; i < stored_by_action.size(); ++i) stored_by_action[i] += o.stored_by_action[i];
  batches += o.batches;
  failed_batches += o.failed_batches;
}

Pipeline::Pipeline(std::unique_ptr<Decoder> decoder, std::shared_ptr<const Registry> registry,
                   Store* store)
    : decoder_(std::move(decoder)), registry_(std::move(registry)), store_(store) {}

Status Pipeline::ProcessRecord(const RawRecord& r, PipelineCounters* c) {
  ++c->records;
  const bool oversize = r.full_size > r.bytes.size();
  bool ok = false;
  if (oversize) {
    error_.reason = QuarantineReason::kOversize;
    error_.detail = "record of " + std::to_string(r.full_size) + " bytes exceeds the limit of " +
                    std::to_string(r.bytes.size());
  } else {
    ok = decoder_->Decode(r.bytes, &event_, &error_);
  }
  if (!ok) {
    QuarantineEntry q;
    q.where = r.where;
    q.reason = std::string(QuarantineReasonName(error_.reason));
    q.detail = error_.detail;
    q.raw = r.bytes;
    q.received_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    if (Status s = store_->InsertQuarantine(q); !s.ok()) return s;
    ++c->quarantined;
    ++c->quarantined_by_reason[static_cast<size_t>(error_.reason)];
    return Status::OK();
  }
  bool inserted = false;
  int64_t event_id = 0;
  if (Status s = store_->InsertEvent(event_, r.bytes, r.where, &inserted, &event_id); !s.ok()) {
    return s;
  }
  if (!inserted) {
    ++c->duplicates;
    return Status::OK();
  }
  if (Status s = store_->InsertParties(event_id, event_); !s.ok()) return s;
  ++c->stored;
  ++c->stored_by_action[static_cast<size_t>(event_.action)];
  return Status::OK();
}

Status Pipeline::ProcessBatch(const std::vector<RawRecord>& batch) {
  if (batch.empty()) return Status::OK();
  PipelineCounters c;
  if (Status s = store_->Begin(); !s.ok()) {
    ++counters_.failed_batches;
    return s;
  }
  std::map<std::string, int64_t> positions;
  for (const RawRecord& r : batch) {
    if (Status s = ProcessRecord(r, &c); !s.ok()) {
      store_->Rollback();
      ++counters_.failed_batches;
      return s;
    }
    int64_t& p = positions[r.where.source];
    p = std::max(p, r.where.position);
  }
  for (const auto& [source, position] : positions) {
    if (Status s = store_->SetSourcePosition({source, position}); !s.ok()) {
      store_->Rollback();
      ++counters_.failed_batches;
      return s;
    }
  }
  if (Status s = store_->Commit(); !s.ok()) {
    store_->Rollback();
    ++counters_.failed_batches;
    return s;
  }
  ++c.batches;
  counters_.Add(c);
  return Status::OK();
}

}  // namespace edi
