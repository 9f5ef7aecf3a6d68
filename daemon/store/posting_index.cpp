#include "store/posting_index.h"

#include <algorithm>
#include <charconv>

namespace edi {

const PostingTable kPartyPostings = {
    "party_events", "her_id", "party_index_upto",
    "SELECT e.event_id, e.time, j.value FROM events e, json_each(e.parties) o, "
    "json_each(o.value) j WHERE e.event_id > ?1 ORDER BY e.event_id"};
const PostingTable kClientPostings = {
    "client_events", "client_key", "client_index_upto",
    "SELECT event_id, time, client_key FROM events WHERE event_id > ?1 ORDER BY event_id"};

Status PostingIndex::Prepare(sqlite3* db, const std::string& path) {
  db_ = db;
  path_ = path;
  // REPLACE: a generation read back after a restart or rollback rewrites the rows of its
  // slices already written (same key, the same or more events).
  insert_ = Statement(db, std::string("INSERT OR REPLACE INTO ") + table_.table + " (" +
                              table_.key_column +
                              ", hour, first_event, time_from, time_to, events) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  set_upto_ =
      Statement(db, std::string("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('") +
                        table_.upto_key + "', ?1)");
  if (!insert_.ok() || !set_upto_.ok()) return Error();
  return Status::OK();
}

void PostingIndex::Close() {
  insert_ = {};
  set_upto_ = {};
}

Status PostingIndex::Error() const { return Status::IOError(path_ + ": " + sqlite3_errmsg(db_)); }

void PostingIndex::Forget() {
  postings_.clear();
  events_ = 0;
  frozen_.clear();
  next_row_ = 0;
  needs_load_ = true;
}

Status PostingIndex::Load() {
  Forget();
  Statement upto(db_,
                 std::string("SELECT value FROM store_meta WHERE key = '") + table_.upto_key + "'");
  if (!upto.ok() || upto.Step() != SQLITE_ROW)
    return Status::Corruption(path_ + ": " + sqlite3_errmsg(db_));
  last_event_ = upto.ColumnInt(0);
  Statement tail(db_, table_.unindexed_sql);
  if (!tail.ok()) return Status::Corruption(path_ + ": " + sqlite3_errmsg(db_));
  tail.Bind(1, last_event_);
  int64_t previous = 0;
  int rc;
  while ((rc = tail.Step()) == SQLITE_ROW) {
    const int64_t id = tail.ColumnInt(0);
    AddOne(id, tail.ColumnInt(1), tail.ColumnInt(2));
    if (id != previous) ++events_;
    previous = id;
  }
  if (rc != SQLITE_DONE) return Error();
  // Events without keys (calls for no party) count as indexed too once a generation covers
  // them.
  Statement newest(db_, "SELECT coalesce(max(event_id), 0) FROM events");
  if (newest.ok() && newest.Step() == SQLITE_ROW) {
    last_event_ = std::max(last_event_, newest.ColumnInt(0));
  }
  needs_load_ = false;
  return Status::OK();
}

void PostingIndex::Add(int64_t event_id, EventTime time, const std::vector<PartyRef>& parties) {
  for (const PartyRef& p : parties) AddOne(event_id, time, p.her_id);
  ++events_;
  last_event_ = event_id;
}

void PostingIndex::Add(int64_t event_id, EventTime time, int64_t key) {
  AddOne(event_id, time, key);
  ++events_;
  last_event_ = event_id;
}

void PostingIndex::AddOne(int64_t event_id, EventTime time, int64_t key) {
  // Rounded toward zero, as the views and queries divide (times before 1970 are possible).
  const int64_t hour = time / kMillisPerHour;
  std::vector<Posting>& list = postings_[key];
  auto at = list.end();
  while (at != list.begin() && (at - 1)->hour > hour) --at;
  if (at == list.begin() || (at - 1)->hour != hour) {
    at = list.insert(at, Posting{});
    at->hour = hour;
  } else {
    --at;
  }
  Posting& post = *at;
  if (post.events.empty()) {
    post.first_event = event_id;
    post.time_from = post.time_to = time;
  } else if (post.last_event == event_id) {
    return;  // the same party twice in one call
  } else {
    post.events += ',';
    post.time_from = std::min(post.time_from, time);
    post.time_to = std::max(post.time_to, time);
  }
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, event_id).ptr;
  post.events.append(digits, end);
  post.last_event = event_id;
}

void PostingIndex::Freeze() {
  frozen_.clear();
  next_row_ = 0;
  for (auto& [key, list] : postings_) {
    for (Posting& post : list) frozen_.push_back({key, std::move(post)});
    list.clear();  // kept: the same parties come again
  }
  // In the order of the table's key (key, hour, first_event; one row per key and hour): the
  // rows go into the B-tree one after another rather than all over it.
  std::sort(frozen_.begin(), frozen_.end(), [](const Row& a, const Row& b) {
    return a.key != b.key ? a.key < b.key : a.posting.hour < b.posting.hour;
  });
  slice_rows_ =
      std::max(min_slice_rows_, (frozen_.size() + slices_ - 1) / std::max<size_t>(slices_, 1));
  frozen_upto_ = last_event_;
  events_ = 0;
}

Status PostingIndex::WriteRows(size_t count) {
  std::string json;
  const size_t end = std::min(frozen_.size(), next_row_ + count);
  for (size_t i = next_row_; i < end; ++i) {
    const Row& row = frozen_[i];
    json.assign("[").append(row.posting.events).append("]");
    if (insert_.Bind(1, row.key)
            .Bind(2, row.posting.hour)
            .Bind(3, row.posting.first_event)
            .Bind(4, row.posting.time_from)
            .Bind(5, row.posting.time_to)
            .BindRef(6, json)
            .RunRebindingAll() != SQLITE_DONE) {
      return Error();
    }
  }
  next_row_ = end;
  return Status::OK();
}

Status PostingIndex::WriteFrozen() {
  if (frozen_.empty()) return Status::OK();
  slice_rows_ = frozen_.size();
  return WriteDue();
}

Status PostingIndex::WriteDue() {
  if (frozen_.empty()) {
    if (events_ < flush_events_) return Status::OK();
    Freeze();  // rows or not: events without parties are covered too
  }
  if (Status s = WriteRows(slice_rows_); !s.ok()) return s;
  if (next_row_ < frozen_.size()) return Status::OK();
  // The generation is complete: it covers every event up to its newest, with or without
  // keys.
  if (set_upto_.Bind(1, frozen_upto_).Run() != SQLITE_DONE) return Error();
  frozen_.clear();
  next_row_ = 0;
  return Status::OK();
}

}  // namespace edi
