#include "commands/replay_feed.h"

#include <filesystem>

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
                       std::shared_ptr<const Registry> registry)
    : inputs_(std::move(inputs)),
      batch_size_(batch_size),
      max_record_bytes_(max_record_bytes),
      decoder_(std::move(decoder)),
      prepare_raw_blocks_(prepare_raw_blocks),
      registry_(std::move(registry)),
      thread_([this] { Run(); }) {}

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

void ReplayFeed::Run() {
  auto fresh = [this](const std::string& input) {
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
  };
  for (const std::string& input : inputs_) {
    auto reader = LineReader::Open(input, max_record_bytes_);
    if (!reader.ok()) {
      auto b = fresh(input);
      b->records.clear();
      b->last = true;
      b->status = reader.status();
      Push(std::move(b));
      return;
    }
    const std::string source = SourceName(input);
    auto b = fresh(input);
    size_t n = 0;
    while (true) {
      RawRecord& r = b->records[n];
      if (!(*reader)->Next(&r.bytes, &r.full_size, &r.where.position)) break;
      r.where.source = source;
      if (++n == batch_size_) {
        Decode(b.get());
        Push(std::move(b));
        b = fresh(input);
        n = 0;
      }
    }
    b->records.resize(n);
    Decode(b.get());
    if (!(*reader)->status().ok()) {
      b->last = true;
      b->status = (*reader)->status();
      Push(std::move(b));
      return;
    }
    if (n > 0) Push(std::move(b));
  }
  auto end = fresh("");
  end->records.clear();
  end->last = true;
  Push(std::move(end));
}

}  // namespace edi
