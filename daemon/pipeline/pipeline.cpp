#include "pipeline/pipeline.h"

#include "common/fnv.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>

namespace edi {
namespace {

// Processing a record first reads memory the decoding thread wrote, which is no longer in
// this core's caches: ask for it a little ahead. First the records' own bytes, two records
// ahead; then, one record ahead, what their strings and vectors point to (reading those
// pointers needs the record's bytes, fetched the round before).
void PrefetchBytes(const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  for (size_t at = 0; at < n; at += 64) __builtin_prefetch(c + at);
}

void PrefetchPointees(const RawRecord& r, const DecodedRecord& d) {
  __builtin_prefetch(r.where.source.data());
  if (!d.ok) return;
  const AccessEvent& e = d.event;
  for (const std::string* s :
       {&e.request_id, &e.route, &e.client.client_id, &e.client.client_name, &e.message_id}) {
    __builtin_prefetch(s->data());
  }
  if (e.client.her_id_claim) __builtin_prefetch(e.client.her_id_claim->data());
  __builtin_prefetch(e.parties.data());
  __builtin_prefetch(e.lookups.data());
  __builtin_prefetch(e.polled.data());
}

}  // namespace

void PipelineCounters::Add(const PipelineCounters& o) {
  records += o.records;
  stored += o.stored;
  older_than_stored += o.older_than_stored;
  future_dated += o.future_dated;
  duplicates += o.duplicates;
  quarantined += o.quarantined;
  for (size_t i = 0; i < quarantined_by_reason.size(); ++i) {
    quarantined_by_reason[i] += o.quarantined_by_reason[i];
    quarantined_succeeded_by_reason[i] += o.quarantined_succeeded_by_reason[i];
  }
  for (size_t i = 0; i < stored_by_action.size(); ++i) stored_by_action[i] += o.stored_by_action[i];
  findings_new += o.findings_new;
  findings_repeats += o.findings_repeats;
  findings_escalated += o.findings_escalated;
  for (size_t i = 0; i < findings_by_severity.size(); ++i) {
    findings_by_severity[i] += o.findings_by_severity[i];
  }
  batches += o.batches;
  failed_batches += o.failed_batches;
}

Pipeline::Pipeline(const PipelineOptions& options, std::unique_ptr<Decoder> decoder,
                   std::shared_ptr<const Registry> registry, Store* store, const RuleEngine* rules,
                   std::unique_ptr<FindingStore> findings)
    : options_(options),
      decoder_(std::move(decoder)),
      registry_(registry),
      store_(store),
      findings_(std::move(findings)),
      state_(options.state, registry),
      detector_(rules, options.findings) {}

Result<std::unique_ptr<Pipeline>> Pipeline::Create(const PipelineOptions& options,
                                                   std::unique_ptr<Decoder> decoder,
                                                   std::shared_ptr<const Registry> registry,
                                                   Store* store, const RuleEngine* rules) {
  auto findings = FindingStore::Open(store->db());
  if (!findings.ok()) return findings.status();
  std::unique_ptr<Pipeline> p(new Pipeline(options, std::move(decoder), std::move(registry), store,
                                           rules, std::move(*findings)));
  if (Status s = p->RestoreFromStore(); !s.ok()) return s;
  return p;
}

Status Pipeline::RestoreFromStore() {
  if (Status s = state_.Load(store_->db()); !s.ok()) return s;
  // The repeat tracker continues where it stood: at the latest finding or repeat (not at the
  // newest event, which it never saw), with the windows open then, as in a run without the
  // restart.
  // Findings dated after the clock limit when they came never moved it (set_clock_limit): the
  // newest event time the state kept leaves them out, whatever the wall clock says now.
  const EventTime limit = state_.max_time() > 0 ? state_.max_time() : INT64_MAX;
  std::optional<EventTime> latest;
  if (Status s = findings_->LatestSeen(limit, &latest); !s.ok()) return s;
  std::vector<KeyedFinding> recent;
  if (latest) {
    if (Status s = findings_->LoadRecent(*latest - options_.findings.window, limit, &recent);
        !s.ok()) {
      return s;
    }
  }
  detector_.tracker().Restore(std::move(recent));
  return Status::OK();
}

void Pipeline::set_registry(std::shared_ptr<const Registry> registry) {
  registry_ = registry;
  state_.set_registry(std::move(registry));
}

void DecodeBatch(Decoder& decoder, const std::vector<RawRecord>& batch,
                 std::vector<DecodedRecord>* out, const Registry* registry) {
  out->resize(batch.size());
  DecodeRange(decoder, batch, 0, batch.size(), out, registry);
}

void DecodeRange(Decoder& decoder, const std::vector<RawRecord>& batch, size_t begin, size_t end,
                 std::vector<DecodedRecord>* out, const Registry* registry) {
  for (size_t i = begin; i < end; ++i) {
    const RawRecord& r = batch[i];
    DecodedRecord& d = (*out)[i];
    if (r.full_size > r.bytes.size()) {
      d.ok = false;
      d.error.reason = QuarantineReason::kOversize;
      d.error.call_succeeded = false;
      d.error.detail = "record of " + std::to_string(r.full_size) + " bytes exceeds the limit of " +
                       std::to_string(r.bytes.size());
    } else {
      d.ok = decoder.Decode(r.bytes, &d.event, &d.error);
      if (d.ok) {
        // Trailing white space is how a record was framed (a line end, a Kafka value's
        // newline), not what it says: the same call framed otherwise is the same record.
        std::string_view bytes = r.bytes;
        while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r' ||
                                  bytes.back() == ' ' || bytes.back() == '\t')) {
          bytes.remove_suffix(1);
        }
        d.content_hash = ContentHash64(bytes);
      }
      if (d.ok && registry != nullptr) LookUpParties(*registry, &d.event);
    }
  }
}

void PrepareRawBlock(const std::vector<RawRecord>& batch, const std::vector<DecodedRecord>& decoded,
                     PreparedRawBlock* out) {
  out->Clear();
  for (size_t i = 0; i < batch.size() && i < decoded.size(); ++i) {
    if (decoded[i].ok) out->Add(batch[i].bytes);
  }
  if (out->records() > 0) out->Compress();
}

Status Pipeline::Quarantine(const RawRecord& r, const DecodeError& error, PipelineCounters* c) {
  QuarantineEntry q;
  q.where = r.where;
  q.reason = std::string(QuarantineReasonName(error.reason));
  q.detail = error.detail;
  q.raw = r.bytes;
  q.full_size = r.full_size;
  q.received_ms = WallClockMillis();
  bool inserted = false;
  if (Status s = store_->InsertQuarantine(q, &inserted); !s.ok()) return s;
  if (!inserted) {
    ++c->duplicates;  // quarantined before: the same bytes at the same position
    return Status::OK();
  }
  ++c->quarantined;
  ++c->quarantined_by_reason[static_cast<size_t>(error.reason)];
  if (error.call_succeeded) ++c->quarantined_succeeded_by_reason[static_cast<size_t>(error.reason)];
  return Status::OK();
}

std::optional<bool> Pipeline::HoldsRecord(const RawRecord& r) {
  const std::vector<RawRecord> one = {r};
  std::vector<DecodedRecord> decoded;
  DecodeBatch(*decoder_, one, &decoded);
  if (decoded[0].ok) {
    Store::Stored stored = Store::Stored::kNo;
    int64_t id = 0;
    if (!store_->Lookup(decoded[0].event, decoded[0].content_hash, &stored, &id).ok()) {
      return std::nullopt;
    }
    if (stored == Store::Stored::kSame) return true;
  }
  // A bad record, or another one under a stored call's key: quarantined, if it was read.
  return store_->IsQuarantinedAt(r.where, r.bytes, r.full_size);
}

Status Pipeline::ProcessRecord(const RawRecord& r, DecodedRecord& d, PipelineCounters* c) {
  ++c->records;
  if (!d.ok) return Quarantine(r, d.error, c);
  AccessEvent& event = d.event;
  Store::Stored stored = Store::Stored::kNo;
  int64_t stored_id = 0;
  if (Status s = store_->Lookup(event, d.content_hash, &stored, &stored_id); !s.ok()) return s;
  if (stored == Store::Stored::kSame) {
    ++c->duplicates;
    return Status::OK();
  }
  if (stored == Store::Stored::kOther) {
    // Not the record seen again but another one under its key: kept and visible, not dropped.
    DecodeError conflict;
    conflict.reason = QuarantineReason::kConflictingDuplicate;
    conflict.detail = "requestId '" + event.request_id + "' at " + FormatRfc3339(event.time) +
                      " is stored as event " + std::to_string(stored_id) +
                      " from a record with other content";
    return Quarantine(r, conflict, c);
  }
  facts_.clear();
  // The newest event time stored before this one: the state has seen every stored event.
  const EventTime newest = state_.max_time();
  state_.Observe(&event, &facts_);  // also fills the parties custody tells
  bool inserted = false;
  int64_t eventid = 0;
  if (Status s = store_->InsertEvent(event, r.bytes, d.content_hash, r.where, &inserted, &eventid);
      !s.ok()) {
    return s;
  }
  changes_.clear();
  detector_.Evaluate(facts_, *registry_, &changes_);
  for (FindingChange& ch : changes_) {
    if (ch.is_new) {
      if (Status s = findings_->Insert(ch.finding, ch.repeat_key); !s.ok()) return s;
      ++c->findings_new;
      ++c->findings_by_severity[static_cast<size_t>(ch.finding.severity)];
      pending_findings_.push_back(std::move(ch.finding));
    } else if (ch.escalated) {
      // Stored and delivered again with its new severity; not a new finding.
      if (Status s = findings_->UpdateEscalated(ch.finding); !s.ok()) return s;
      ++c->findings_repeats;
      ++c->findings_escalated;
      ch.finding.escalated = true;
      if (!ReplacePending(ch.finding, c)) {
        // Raised by an earlier transaction: counted now under its new severity instead (the
        // batch's own counts may go below zero; its sum with the earlier ones cannot).
        --c->findings_by_severity[static_cast<size_t>(ch.finding.escalated_from)];
        ++c->findings_by_severity[static_cast<size_t>(ch.finding.severity)];
        pending_findings_.push_back(std::move(ch.finding));
      }
    } else {
      if (Status s =
              findings_->UpdateRepeat(ch.finding.id, ch.finding.occurrences, ch.finding.last_seen);
          !s.ok()) {
        return s;
      }
      ++c->findings_repeats;
    }
  }
  ++c->stored;
  ++c->stored_by_action[static_cast<size_t>(event.action)];
  if (newest > 0 && event.time < newest - kOlderThanStoredSlack) {
    ++c->older_than_stored;
    older_than_stored_.Note(event, newest);
  }
  if (event.time > future_after_) {
    ++c->future_dated;
    future_dated_.Note(event, newest);
  }
  return Status::OK();
}

bool Pipeline::ReplacePending(const Finding& escalated, PipelineCounters* c) {
  // A finding raised earlier in this transaction has not been handed on yet: it is handed on
  // once, as it is now (new, if it was new), and counted under its new severity.
  auto replace = [&escalated](std::vector<Finding>& findings, PipelineCounters& counters) {
    for (Finding& f : findings) {
      if (f.id != escalated.id) continue;
      // Counted under f's severity (when new, or as moved there by an earlier escalation).
      --counters.findings_by_severity[static_cast<size_t>(f.severity)];
      ++counters.findings_by_severity[static_cast<size_t>(escalated.severity)];
      const bool was_escalated = f.escalated;
      f = escalated;
      f.escalated = was_escalated;
      return true;
    }
    return false;
  };
  return replace(pending_findings_, *c) || replace(uncommitted_findings_, uncommitted_counters_);
}

Status Pipeline::ProcessBatch(const std::vector<RawRecord>& batch) {
  if (second_decoder_ == nullptr || batch.size() < 2 * kDecodeChunk) {
    DecodeBatch(*decoder_, batch, &decoded_);
    return ProcessDecoded(batch, decoded_);
  }
  const Registry* registry = registry_.get();  // looked up by the decoding threads
  // The second thread decodes chunks ahead while this one runs the state, rules and store over
  // the chunks already decoded; should it catch up, this thread decodes the next chunk itself.
  decoded_.resize(batch.size());
  const size_t chunks = (batch.size() + kDecodeChunk - 1) / kDecodeChunk;
  std::atomic<size_t> next{0};  // the first chunk no thread has taken yet
  std::vector<std::atomic<bool>> done(chunks);
  auto decode = [&](Decoder& decoder, size_t c) {
    DecodeRange(decoder, batch, c * kDecodeChunk, std::min(batch.size(), (c + 1) * kDecodeChunk),
                &decoded_, registry);
    done[c].store(true, std::memory_order_release);
    done[c].notify_one();
  };
  // Once every chunk is decoded (some perhaps by this thread), the second thread also
  // prepares the batch's compressed block of records for the store, which takes it at commit.
  std::thread ahead([&] {
    for (size_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1)) {
      decode(*second_decoder_, c);
    }
    for (size_t c = 0; c < chunks; ++c) done[c].wait(false, std::memory_order_acquire);
    PrepareRawBlock(batch, decoded_, &ahead_block_);
  });
  before_commit_ = [&] {
    ahead.join();
    store_->UsePreparedRawBlock(&ahead_block_);
  };
  wait_decoded_ = [&](size_t i) {
    if (i % kDecodeChunk != 0) return;  // checked at the start of each chunk
    const size_t c = i / kDecodeChunk;
    if (done[c].load(std::memory_order_acquire)) return;
    size_t expected = c;
    if (next.compare_exchange_strong(expected, c + 1)) {
      decode(*decoder_, c);
    } else {
      done[c].wait(false, std::memory_order_acquire);
    }
  };
  Status s = ProcessDecoded(batch, decoded_);
  wait_decoded_ = nullptr;
  before_commit_ = nullptr;
  if (ahead.joinable()) ahead.join();
  return s;
}

Status Pipeline::ProcessDecoded(const std::vector<RawRecord>& batch,
                                std::vector<DecodedRecord>& decoded,
                                const PreparedRawBlock* raw_block, bool commit) {
  batch_findings_.clear();
  if (batch.empty() && !(commit && in_transaction_)) return Status::OK();
  PipelineCounters c;
  pending_findings_.clear();
  auto fail = [this](Status s) {
    store_->Rollback();
    ++counters_.failed_batches;
    pending_findings_.clear();
    // Every batch of the transaction is taken back.
    in_transaction_ = false;
    uncommitted_counters_ = PipelineCounters();
    uncommitted_findings_.clear();
    future_dated_.Rollback();
    older_than_stored_.Rollback();
    // The in-memory state ran ahead of the database: bring it back to the last commit.
    if (Status r = RestoreFromStore(); !r.ok()) {
      return Status::Corruption(s.message() + "; and reloading state failed: " + r.message());
    }
    return s;
  };
  if (!in_transaction_) {
    if (Status s = store_->Begin(); !s.ok()) {
      ++counters_.failed_batches;
      return s;
    }
    in_transaction_ = true;
  }
  store_->UsePreparedRawBlock(raw_block);
  future_after_ = options_.wall_clock() + kFutureSlack;
  state_.set_clock_limit(future_after_);
  detector_.tracker().set_clock_limit(future_after_);
  std::map<std::string, int64_t> positions;
  for (size_t i = 0; i < batch.size(); ++i) {
    const RawRecord& r = batch[i];
    if (wait_decoded_) wait_decoded_(i);
    // Only records known to be decoded (decoding ahead waits chunk by chunk).
    auto decoded_for_sure = [&](size_t j) {
      return j < batch.size() && (!wait_decoded_ || j / kDecodeChunk == i / kDecodeChunk);
    };
    if (decoded_for_sure(i + 2)) {
      PrefetchBytes(&decoded[i + 2], sizeof(DecodedRecord));
      PrefetchBytes(&batch[i + 2], sizeof(RawRecord));
    }
    if (decoded_for_sure(i + 1)) PrefetchPointees(batch[i + 1], decoded[i + 1]);
    if (Status s = ProcessRecord(r, decoded[i], &c); !s.ok()) return fail(s);
    // A source's last record in the batch is where it stands (its records keep their order;
    // a Kafka partition whose offsets went back stands at the lower offset). try_emplace: no
    // node (and no copy of the name) for a source already there.
    auto [it, added] = positions.try_emplace(r.where.source, r.where.position);
    if (!added) it->second = r.where.position;
  }
  for (const auto& [source, position] : positions) {
    if (Status s = store_->SetSourcePosition({source, position}); !s.ok()) return fail(s);
  }
  if (!batch.empty()) ++c.batches;
  if (!commit) {
    // The batch's records are a raw block of their own; the transaction stays open.
    if (Status s = store_->EndRawBlock(); !s.ok()) return fail(s);
    uncommitted_counters_.Add(c);
    for (Finding& f : pending_findings_) uncommitted_findings_.push_back(std::move(f));
    pending_findings_.clear();
    return Status::OK();
  }
  if (Status s = state_.SaveBatch(store_->db()); !s.ok()) return fail(s);
  if (before_commit_) before_commit_();
  if (Status s = store_->Commit(); !s.ok()) return fail(s);
  in_transaction_ = false;
  future_dated_.Commit();
  older_than_stored_.Commit();
  counters_.Add(uncommitted_counters_);
  counters_.Add(c);
  uncommitted_counters_ = PipelineCounters();
  batch_findings_.swap(uncommitted_findings_);
  for (Finding& f : pending_findings_) batch_findings_.push_back(std::move(f));
  pending_findings_.clear();
  uncommitted_findings_.clear();
  return Status::OK();
}

}  // namespace edi
