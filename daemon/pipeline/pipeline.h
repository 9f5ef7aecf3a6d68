// Pipeline: one batch of raw records through decode -> state -> detect -> store, in ONE SQLite
// transaction together with the state changes, the findings and the batch's source positions.
//
// Every record ends as exactly one of: stored, duplicate (an event with its requestId and event
// time was stored before, so it is neither stored nor seen by the state again; a requestId a
// later call uses again, against the contract, is that call's and kept), or quarantined (with
// a reason). The
// counters say how many of each. When a batch fails (SQLite error), the transaction is rolled
// back, the in-memory state and finding windows are reloaded from the database, the counters
// are left as they were, and the error is returned: the caller may retry the same batch or
// stop — nothing was half-written.
//
// Used by one thread at a time (the replay loop or the daemon's consumer thread).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "decode/decoder.h"
#include "detect/detector.h"
#include "registry/registry.h"
#include "state/state.h"
#include "store/finding_store.h"
#include "store/store.h"

namespace edi {

struct RawRecord {
  std::string bytes;     // the record, possibly capped at the size limit
  size_t full_size = 0;  // its size before capping
  SourcePosition where;
};

// A raw record after decoding: its event, or why it is quarantined. Decoding needs no state,
// so it may run on another thread than the rest of the pipeline (one Decoder per thread).
struct DecodedRecord {
  bool ok = false;
  AccessEvent event;
  DecodeError error;
  uint64_t content_hash = 0;  // ContentHash64 of the record's bytes, when ok
};

// Decodes every record of `batch` into (*out)[i]; oversize records are marked as such. With a
// `registry`, also looks up the events' parties in it (LookUpParties), which saves the
// pipeline that work when it uses the same registry.
void DecodeBatch(Decoder& decoder, const std::vector<RawRecord>& batch,
                 std::vector<DecodedRecord>* out, const Registry* registry = nullptr);
// Decodes records [begin, end) of `batch` into (*out)[i]; `out` must already have batch.size().
void DecodeRange(Decoder& decoder, const std::vector<RawRecord>& batch, size_t begin, size_t end,
                 std::vector<DecodedRecord>* out, const Registry* registry = nullptr);
// Prepares the block of records as received that storing `batch` will write when none of its
// decoded records turns out a duplicate (`decoded[i]` is `batch[i]`); for ProcessDecoded, and
// like decoding it may run on another thread. The block refers to the records' bytes.
void PrepareRawBlock(const std::vector<RawRecord>& batch, const std::vector<DecodedRecord>& decoded,
                     PreparedRawBlock* out);

struct PipelineCounters {
  uint64_t records = 0;
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t quarantined = 0;
  std::array<uint64_t, kQuarantineReasonCount> quarantined_by_reason{};
  // Of those, the records that say the call succeeded (2xx): calls the API carried out that
  // no rule saw.
  std::array<uint64_t, kQuarantineReasonCount> quarantined_succeeded_by_reason{};
  std::array<uint64_t, kActionCount> stored_by_action{};
  uint64_t findings_new = 0;
  uint64_t findings_repeats = 0;
  uint64_t findings_escalated = 0;  // repeats that raised an earlier finding's severity
  std::array<uint64_t, 5> findings_by_severity{};
  uint64_t batches = 0;
  uint64_t failed_batches = 0;
  // Stored records more than kOlderThanStoredSlack older than the newest event stored before
  // them (in the database when this pipeline started, or since): judged against a
  // reconstruction that is already past them.
  uint64_t older_than_stored = 0;
  // Stored records dated more than kFutureSlack after the wall clock when they were processed:
  // a gateway's clock fault, most likely. They are judged with their own time but do not move
  // event time on (one such record would make every lock look stale, forget custody and close
  // every repeat window); this is the one place where findings depend on the wall clock, and
  // only for records no correct clock can give.
  uint64_t future_dated = 0;

  void Add(const PipelineCounters& o);
};

struct PipelineOptions {
  StateOptions state;
  FindingTrackerOptions findings;
  // The wall clock, ms since the epoch, read once per batch: only future_dated depends on it.
  std::function<EventTime()> wall_clock = WallClockMillis;
};

// A stored record dated later than this after the wall clock counts as future_dated.
inline constexpr EventTime kFutureSlack = 24 * kMillisPerHour;

// A stored record worth naming in a warning (the first future-dated one, the first one older
// than events stored before it): its requestId and time, and the newest event time stored
// before it.
struct NotedRecord {
  std::string request_id;
  EventTime time = 0;
  EventTime newest = 0;
};

// The first record of a kind a pipeline stored, known once its transaction committed (a
// rolled-back transaction's record is forgotten with it).
class FirstNoted {
 public:
  void Note(const AccessEvent& e, EventTime newest) {
    if (!first_ && !pending_) pending_ = NotedRecord{e.request_id, e.time, newest};
  }
  void Commit() {
    if (!first_) first_ = std::move(pending_);
    pending_.reset();
  }
  void Rollback() { pending_.reset(); }
  const std::optional<NotedRecord>& first() const { return first_; }

 private:
  std::optional<NotedRecord> first_, pending_;
};

class Pipeline {
 public:
  // Loads the reconstruction state and the open finding windows from `store`.
  static Result<std::unique_ptr<Pipeline>> Create(const PipelineOptions& options,
                                                  std::unique_ptr<Decoder> decoder,
                                                  std::shared_ptr<const Registry> registry,
                                                  Store* store, const RuleEngine* rules);

  Status ProcessBatch(const std::vector<RawRecord>& batch);
  // From now on ProcessBatch decodes large batches on a second thread with `decoder`, chunk by
  // chunk ahead of the rest of the pipeline, which runs over the decoded chunks meanwhile.
  void EnableParallelDecode(std::unique_ptr<Decoder> decoder) {
    second_decoder_ = std::move(decoder);
  }
  // As ProcessBatch, for a batch DecodeBatch already decoded (`decoded[i]` is `batch[i]`);
  // `raw_block`, when given, is what PrepareRawBlock made of them (it only saves work: the
  // result is the same without it).
  // `commit` false leaves the transaction open: the next batch goes into it too, and the batch
  // whose `commit` is true commits them all (replay stores several batches per transaction).
  // The batches' counters and findings count once they are committed; a failure takes back
  // every batch of the transaction.
  Status ProcessDecoded(const std::vector<RawRecord>& batch, std::vector<DecodedRecord>& decoded,
                        const PreparedRawBlock* raw_block = nullptr, bool commit = true);

  // The findings the last committed transaction created (not the repeats), for the sinks,
  // and the earlier findings a repeat in it raised to a higher severity (`escalated`: to be
  // delivered again, not counted as new). Each finding at most once, as it is now.
  const std::vector<Finding>& batch_findings() const { return batch_findings_; }
  // Whether the database holds record `r` already: a call stored (from any position) or the
  // record quarantined from its position. Nullopt when nothing tells (a database from before
  // records' hashes were kept). Between batches only.
  std::optional<bool> HoldsRecord(const RawRecord& r);
  const PipelineCounters& counters() const { return counters_; }
  const AuditState& state() const { return state_; }
  static constexpr EventTime kOlderThanStoredSlack = kMillisPerHour;
  // The first record counted in older_than_stored since the start (once its transaction
  // committed); none before.
  const std::optional<NotedRecord>& first_older_than_stored() const {
    return older_than_stored_.first();
  }
  // The first record counted in future_dated since the start (once its transaction committed);
  // none before.
  const std::optional<NotedRecord>& first_future_dated() const { return future_dated_.first(); }
  const Detector& detector() const { return detector_; }
  FindingStore& findings() { return *findings_; }
  // Takes effect from the next batch.
  void set_registry(std::shared_ptr<const Registry> registry);

 private:
  Pipeline(const PipelineOptions& options, std::unique_ptr<Decoder> decoder,
           std::shared_ptr<const Registry> registry, Store* store, const RuleEngine* rules,
           std::unique_ptr<FindingStore> findings);
  Status ProcessRecord(const RawRecord& r, DecodedRecord& d, PipelineCounters* c);
  Status Quarantine(const RawRecord& r, const DecodeError& error, PipelineCounters* c);
  Status RestoreFromStore();
  // Puts an escalated finding in place of the same finding still waiting in this transaction;
  // false if none is.
  bool ReplacePending(const Finding& escalated, PipelineCounters* c);

  PipelineOptions options_;
  std::unique_ptr<Decoder> decoder_;
  static constexpr size_t kDecodeChunk = 256;
  std::unique_ptr<Decoder> second_decoder_;   // optional: decodes ahead (ProcessBatch)
  std::function<void(size_t)> wait_decoded_;  // set while ProcessBatch decodes ahead
  std::function<void()> before_commit_;       // set while ProcessBatch decodes ahead
  PreparedRawBlock ahead_block_;              // what the second thread prepared
  std::shared_ptr<const Registry> registry_;
  Store* store_;
  std::unique_ptr<FindingStore> findings_;
  AuditState state_;
  Detector detector_;
  PipelineCounters counters_;
  EventTime future_after_ = 0;  // records dated after this are future_dated (this batch)
  FirstNoted future_dated_, older_than_stored_;
  std::vector<DecodedRecord> decoded_;  // reused between batches
  std::vector<PartyFacts> facts_;
  std::vector<FindingChange> changes_;
  std::vector<Finding> batch_findings_, pending_findings_;
  // Batches stored in the open transaction, not yet committed (ProcessDecoded's `commit`).
  bool in_transaction_ = false;
  PipelineCounters uncommitted_counters_;
  std::vector<Finding> uncommitted_findings_;
};

}  // namespace edi
