// ReplayFeed: reads JSON-lines inputs and decodes them on a thread of its own, handing the
// replay loop batches that only need the state, rule and store stages — so decoding and the
// rest of the pipeline use both cores. At most one batch waits (bounded memory).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/pipeline.h"

namespace edi {

struct FeedBatch {
  std::vector<RawRecord> records;
  std::vector<DecodedRecord> decoded;
  PreparedRawBlock raw_block;  // when the feed prepares them (PrepareRawBlock)
  std::string input;           // the input the batch came from ("the merged inputs": several)
  bool last = false;           // no batches follow
  Status status;               // a read error ends the feed with a non-OK status on the last batch
};

class ReplayFeed {
 public:
  // Starts reading `inputs` in order ("-" = stdin) into batches of `batch_size`; with
  // `prepare_raw_blocks` each batch also gets its raw_block. With `merge` the inputs are read
  // side by side, the record with the earliest timestamp first (each input in event-time
  // order, e.g. the logs of several gateway nodes): as `run` merges its partitions.
  // `registry`, when given, is the one the pipeline uses: the feed looks the events' parties up
  // in it (DecodeBatch).
  ReplayFeed(std::vector<std::string> inputs, size_t batch_size, size_t max_record_bytes,
             std::unique_ptr<Decoder> decoder, bool prepare_raw_blocks = false,
             std::shared_ptr<const Registry> registry = nullptr, bool merge = false);
  ~ReplayFeed();

  // The next batch; blocks until one is ready. After a batch with `last` set, do not call again.
  std::unique_ptr<FeedBatch> Next();
  // Hands a processed batch back: the reading thread refills it, so the records' memory is
  // reused and released there rather than on the caller's thread.
  void Recycle(std::unique_ptr<FeedBatch> b);

 private:
  void Run();
  void RunMerged();
  std::unique_ptr<FeedBatch> Fresh(const std::string& input);  // a recycled or new batch
  // Ends the feed with a last batch, empty, whose status says why.
  void Fail(const std::string& input, const Status& status);
  // Counts a record put at (*b)->records[*n]; a full batch is decoded and handed on.
  void Filled(std::unique_ptr<FeedBatch>* b, size_t* n);
  // Ends the feed with `b`'s first n records as the last batch.
  void Finish(std::unique_ptr<FeedBatch> b, size_t n, const Status& status);
  void Push(std::unique_ptr<FeedBatch> b);
  void Decode(FeedBatch* b);

  std::vector<std::string> inputs_;
  size_t batch_size_, max_record_bytes_;
  std::unique_ptr<Decoder> decoder_;
  bool prepare_raw_blocks_;
  bool merge_;
  std::shared_ptr<const Registry> registry_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<FeedBatch>> ready_;  // guarded by mu_
  std::vector<std::unique_ptr<FeedBatch>> free_;  // guarded by mu_
  bool stop_ = false;                             // guarded by mu_
  std::thread thread_;
};

// "file:/abs/path" for a file, "stdin" for "-": the source name stored with each record.
std::string SourceName(const std::string& input);

}  // namespace edi
