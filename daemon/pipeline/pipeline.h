// Pipeline: one batch of raw records through decode -> state -> detect -> store, in ONE SQLite
// transaction together with the batch's source positions.
//
// Every record ends as exactly one of: stored, duplicate (its requestId was stored before), or
// quarantined (with a reason). The counters say how many of each. When a batch fails (SQLite
// error), the transaction is rolled back, the counters are left as they were, and the error is
// returned: the caller may retry the same batch or stop — nothing was half-written.
//
// Used by one thread at a time (the replay loop or the daemon's consumer thread).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "decode/decoder.h"
#include "registry/registry.h"
#include "store/store.h"

namespace edi {

struct RawRecord {
  std::string bytes;       // the record, possibly capped at the size limit
  size_t full_size = 0;    // its size before capping
  SourcePosition where;
};

struct PipelineCounters {
  uint64_t records = 0;
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t quarantined = 0;
  std::array<uint64_t, kQuarantineReasonCount> quarantined_by_reason{};
  std::array<uint64_t, kActionCount> stored_by_action{};
  uint64_t batches = 0;
  uint64_t failed_batches = 0;

  void Add(const PipelineCounters& o);
};

class Pipeline {
 public:
  Pipeline(std::unique_ptr<Decoder> decoder, std::shared_ptr<const Registry> registry,
           Store* store);

  Status ProcessBatch(const std::vector<RawRecord>& batch);

  const PipelineCounters& counters() const { return counters_; }
  void set_registry(std::shared_ptr<const Registry> registry) { registry_ = std::move(registry); }

 private:
  Status ProcessRecord(const RawRecord& r, PipelineCounters* c);

  std::unique_ptr<Decoder> decoder_;
  std::shared_ptr<const Registry> registry_;
  Store* store_;
  PipelineCounters counters_;
  AccessEvent event_;  // reused between records
  DecodeError error_;
};

}  // namespace edi
