// The records as received, one zstd-compressed block per batch: building, matching a block
// prepared ahead, writing and reading back (the Store's part in store.h).
#include <zstd.h>

#include "store/store.h"

namespace edi {

namespace {

// One zstd frame of `data` into *frame; *cctx is created on first use and reused.
Status CompressRawBlock(void** cctx, std::string_view data, std::string* frame) {
  if (*cctx == nullptr) *cctx = ZSTD_createCCtx();
  frame->resize(ZSTD_compressBound(data.size()));
  // Level 1: JSON lines of one shape compress about tenfold at over 1 GB/s.
  const size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(*cctx), frame->data(), frame->size(),
                                     data.data(), data.size(), 1);
  if (ZSTD_isError(n)) {
    frame->clear();
    return Status::IOError(std::string("compressing a block of records: ") + ZSTD_getErrorName(n));
  }
  frame->resize(n);
  return Status::OK();
}

}  // namespace

Status Store::FlushRawBlock() {
  if (inserted_.empty()) return Status::OK();
  std::string_view frame;
  if (PreparedMatches()) {
    frame = prepared_->frame_;
  } else {
    if (!copying_raw_) CopyRaw();
    if (Status s = CompressRawBlock(&zstd_, raw_, &frame_); !s.ok()) {
      return Status::IOError(path_ + ": " + s.message());
    }
    frame = frame_;
  }
  if (insert_block_.Bind(1, raw_block_)
          .Bind(2, static_cast<int64_t>(inserted_.size()))
          .Bind(3, static_cast<int64_t>(raw_size_))
          .BindBlobRef(4, frame)
          .Run() != SQLITE_DONE) {
    return Status::IOError(LastError());
  }
  ClearRaw();
  return Status::OK();
}

bool Store::PreparedMatches() const {
  if (prepared_ == nullptr || !prepared_->ready() ||
      prepared_->records_.size() != inserted_.size()) {
    return false;
  }
  for (size_t i = 0; i < inserted_.size(); ++i) {
    if (prepared_->records_[i].data() != inserted_[i].data() ||
        prepared_->records_[i].size() != inserted_[i].size()) {
      return false;  // a record it holds was a duplicate, or one stored is not in it
    }
  }
  return true;
}

bool Store::NextInPrepared(std::string_view raw) const {
  const size_t k = inserted_.size();
  return prepared_ != nullptr && k < prepared_->records_.size() &&
         prepared_->records_[k].data() == raw.data() && prepared_->records_[k].size() == raw.size();
}

void Store::CopyRaw() {
  // The records stored so far are the prepared block's first ones, laid out alike.
  if (raw_size_ > 0) {
    raw_.assign(prepared_->data_, 0, raw_size_);
  } else {
    raw_.clear();
  }
  copying_raw_ = true;
}

void Store::ClearRaw() {
  raw_.clear();
  raw_size_ = 0;
  copying_raw_ = false;
  inserted_.clear();
  prepared_ = nullptr;
}

void Store::UsePreparedRawBlock(const PreparedRawBlock* block) {
  const bool usable = block != nullptr && options_.keep_raw_records && !sqlite3_get_autocommit(db_);
  // The block the records so far came from is being replaced.
  if (!copying_raw_ && !inserted_.empty()) CopyRaw();
  prepared_ = usable ? block : nullptr;
}

PreparedRawBlock::~PreparedRawBlock() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_)); }

void PreparedRawBlock::Clear() {
  data_.clear();
  records_.clear();
  ready_ = false;
}

void PreparedRawBlock::Add(std::string_view raw) {
  data_.append(raw);
  data_ += '\n';
  records_.push_back(raw);
  ready_ = false;
}

bool PreparedRawBlock::Compress() {
  ready_ = CompressRawBlock(&zstd_, data_, &frame_).ok();
  return ready_;
}

Result<std::string> ReadStoredRecord(sqlite3* db, int64_t event_id) {
  Statement st(db,
               "SELECT e.record, e.raw_offset, e.raw_size, b.data, b.bytes FROM events e "
               "LEFT JOIN raw_blocks b ON b.block_id = e.raw_block WHERE e.event_id = ?1");
  if (!st.ok()) return Status::IOError(sqlite3_errmsg(db));
  st.Bind(1, event_id);
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("no event " + std::to_string(event_id));
  if (rc != SQLITE_ROW) return Status::IOError(sqlite3_errmsg(db));
  if (sqlite3_column_type(st.get(), 0) != SQLITE_NULL) return std::string(st.ColumnText(0));
  if (sqlite3_column_type(st.get(), 3) == SQLITE_NULL) {
    return Status::NotFound("event " + std::to_string(event_id) + ": its record was not kept");
  }
  const int64_t offset = st.ColumnInt(1), size = st.ColumnInt(2), bytes = st.ColumnInt(4);
  const std::string_view frame = st.ColumnBlob(3);
  if (bytes < 0 || offset < 0 || size < 0 || offset + size > bytes) {
    return Status::Corruption("event " + std::to_string(event_id) +
                              ": its record lies outside its block");
  }
  std::string block(static_cast<size_t>(bytes), '\0');
  const size_t n = ZSTD_decompress(block.data(), block.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != block.size()) {
    return Status::Corruption("event " + std::to_string(event_id) +
                              ": the block holding its record does not decompress");
  }
  return block.substr(static_cast<size_t>(offset), static_cast<size_t>(size));
}

}  // namespace edi
