#include "commands/replay_feed.h"

#include <filesystem>
#include <limits>

#include "source/event_time_merge.h"
#include "source/line_reader.h"

namespace edi {

std::string SourceName(const std::string& input) {
  if (input == "-") return "stdin";
  std::error_code ec;
  auto abs = std::filesystem::absolute(input, ec);
  return "file:" + (ec ? input : abs.lexically_normal().string());
}

ReplayFeed::ReplayFeed(std::vector<std::string> inputs, size_t batch_size, size_t max_record_bytes,
                       std::unique_ptr<Decoder> decoder, bool prepare_raw_blocks,
                       std::shared_ptr<const Registry> registry, bool merge)
    : inputs_(std::move(inputs)),
      batch_size_(batch_size),
      max_record_bytes_(max_record_bytes),
      decoder_(std::move(decoder)),
      prepare_raw_blocks_(prepare_raw_blocks),
      merge_(merge && inputs_.size() > 1),
      registry_(std::move(registry)),
      thread_([this] { merge_ ? RunMerged() : Run(); }) {}

ReplayFeed::~ReplayFeed() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ReplayFeed::Push(std::unique_ptr<FeedBatch> b) {
  std::unique_lock<std::mutex> l(mu_);
  // One batch ready ahead is enough to keep the pipeline busy; more only hold memory (each
  // batch holds its records and their decoded events).
  cv_.wait(l, [this] { return ready_.empty() || stop_; });
  if (stop_) return;
  ready_.push_back(std::move(b));
  cv_.notify_all();
}

std::unique_ptr<FeedBatch> ReplayFeed::Next() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return !ready_.empty(); });
  auto b = std::move(ready_.front());
  ready_.pop_front();
  cv_.notify_all();
  return b;
}

void ReplayFeed::Recycle(std::unique_ptr<FeedBatch> b) {
  std::lock_guard<std::mutex> l(mu_);
  if (free_.size() < 2) free_.push_back(std::move(b));
}

void ReplayFeed::Decode(FeedBatch* b) {
  DecodeBatch(*decoder_, b->records, &b->decoded, registry_.get());
  if (prepare_raw_blocks_) {
    PrepareRawBlock(b->records, b->decoded, &b->raw_block);
  } else {
    b->raw_block.Clear();
  }
}

std::unique_ptr<FeedBatch> ReplayFeed::Fresh(const std::string& input) {
  std::unique_ptr<FeedBatch> b;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!free_.empty()) {
      b = std::move(free_.back());
      free_.pop_back();
    }
  }
  if (b == nullptr) b = std::make_unique<FeedBatch>();
  b->records.resize(batch_size_);
  b->input = input;
  b->last = false;
  b->status = Status::OK();
  b->raw_block.Clear();
  return b;
}

void ReplayFeed::Fail(const std::string& input, const Status& status) {
  auto b = Fresh(input);
  b->records.clear();
  b->last = true;
  b->status = status;
  Push(std::move(b));
}

void ReplayFeed::Filled(std::unique_ptr<FeedBatch>* b, size_t* n) {
  if (++*n < batch_size_) return;
  const std::string input = (*b)->input;
  Decode(b->get());
  Push(std::move(*b));
  *b = Fresh(input);
  *n = 0;
}

void ReplayFeed::Finish(std::unique_ptr<FeedBatch> b, size_t n, const Status& status) {
  b->records.resize(n);
  Decode(b.get());
  b->last = true;
  b->status = status;
  Push(std::move(b));
}

void ReplayFeed::Run() {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const std::string& input = inputs_[i];
    auto reader = LineReader::Open(input, max_record_bytes_);
    if (!reader.ok()) return Fail(input, reader.status());
    const std::string source = SourceName(input);
    auto b = Fresh(input);
    size_t n = 0;
    while (true) {
      RawRecord& r = b->records[n];
      if (!(*reader)->Next(&r.bytes, &r.full_size, &r.where.position)) break;
      r.where.source = source;
      Filled(&b, &n);
    }
    const bool last = i + 1 == inputs_.size();
    if (!(*reader)->status().ok() || last) return Finish(std::move(b), n, (*reader)->status());
    if (n > 0) {
      b->records.resize(n);
      Decode(b.get());
      Push(std::move(b));
    }
  }
  Finish(Fresh(""), 0, Status::OK());  // no inputs
}

void ReplayFeed::RunMerged() {
  // One reader per input and the record it has read ahead; the earliest goes next (ties: the
  // input given first).
  struct Input {
    std::unique_ptr<LineReader> reader;
    std::string source;
    RawRecord next;
    EventTime time = 0;
    bool has_next = false;
  };
  std::vector<Input> in(inputs_.size());
  auto advance = [](Input& x) {
    x.has_next = x.reader->Next(&x.next.bytes, &x.next.full_size, &x.next.where.position);
    if (x.has_next) {
      x.next.where.source = x.source;
      // Records without a readable timestamp go first (they are quarantined).
      x.time = PeekEventTime(x.next.bytes).value_or(std::numeric_limits<EventTime>::min());
    }
  };
  for (size_t i = 0; i < inputs_.size(); ++i) {
    auto reader = LineReader::Open(inputs_[i], max_record_bytes_);
    if (!reader.ok()) return Fail(inputs_[i], reader.status());
    in[i].reader = std::move(*reader);
    in[i].source = SourceName(inputs_[i]);
    advance(in[i]);
  }
  auto b = Fresh("the merged inputs");
  size_t n = 0;
  while (true) {
    Input* first = nullptr;
    for (Input& x : in) {
      if (x.has_next && (first == nullptr || x.time < first->time)) first = &x;
    }
    if (first == nullptr) break;
    std::swap(b->records[n], first->next);
    advance(*first);
    if (!first->has_next && !first->reader->status().ok()) {
      return Finish(std::move(b), n + 1, first->reader->status());
    }
    Filled(&b, &n);
  }
  Finish(std::move(b), n, Status::OK());
}

}  // namespace edi
