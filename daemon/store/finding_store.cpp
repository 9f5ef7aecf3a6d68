#include "store/finding_store.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdint>

namespace edi {
namespace {

// The column order ReadRows expects.
constexpr std::string_view kColumns =
    "id, rule, severity, time, request_id, client_id, client_name, her_id, message_id, "
    "orgnr_parent, party_top_orgnr, action, status, summary, tags, occurrences, last_seen, "
    "evidence, delivered, repeat_key";

std::string TagsToJson(const std::vector<std::string>& tags) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  for (const std::string& t : tags) w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  w.EndArray();
  return {sb.GetString(), sb.GetSize()};
}

bool TagsFromJson(std::string_view text, std::vector<std::string>* tags) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsArray()) return false;
  tags->clear();
  for (const auto& v : doc.GetArray()) {
    if (!v.IsString()) return false;
    tags->emplace_back(v.GetString(), v.GetStringLength());
  }
  return true;
}

// The evidence column always holds a JSON object. Evidence that is not one (a caller's bug)
// is kept, as text, under "text" — a finding is never refused, and never loses its facts,
// because of how they were written.
std::string NormalizeEvidence(std::string_view evidence) {
  if (evidence.empty()) return "{}";
  rapidjson::Document doc;
  doc.Parse(evidence.data(), evidence.size());
  if (!doc.HasParseError() && doc.IsObject()) return std::string(evidence);
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("text");
  w.String(evidence.data(), static_cast<rapidjson::SizeType>(evidence.size()));
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

Severity SeverityFromRank(int64_t rank) {
  return static_cast<Severity>(
      std::clamp<int64_t>(rank, 0, static_cast<int64_t>(Severity::kCritical)));
}

}  // namespace

Result<std::unique_ptr<FindingStore>> FindingStore::Open(sqlite3* db) {
  std::unique_ptr<FindingStore> store(new FindingStore(db));
  if (Status s = store->Prepare(); !s.ok()) return s;
  return store;
}

std::string FindingStore::LastError() const {
  const char* file = sqlite3_db_filename(db_, "main");
  std::string where = file != nullptr && *file != '\0' ? file : "findings";
  return where + ": " + sqlite3_errmsg(db_);
}

Status FindingStore::Prepare() {
  const std::string select = "SELECT " + std::string(kColumns) + " FROM findings ";
  struct {
    Statement* stmt;
    std::string sql;
  } const statements[] = {
      {&insert_, "INSERT INTO findings (" + std::string(kColumns) +
                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                     "?15, ?16, ?17, ?18, 0, ?19) ON CONFLICT (id) DO NOTHING"},
      {&update_repeat_, "UPDATE findings SET occurrences = ?2, last_seen = ?3 WHERE id = ?1"},
      {&update_escalated_,
       "UPDATE findings SET severity = ?2, occurrences = ?3, last_seen = ?4, evidence = ?5, "
       "summary = ?6, delivered = 0 WHERE id = ?1"},
      {&mark_delivered_, "UPDATE findings SET delivered = 1 WHERE id = ?1"},
      {&load_undelivered_, select + "WHERE delivered = 0 ORDER BY time, id"},
      {&load_recent_, select + "WHERE time >= ?1 AND time <= ?2 ORDER BY time, id"},
      // Read at a start and after a rollback only: a scan, which holds for any window, also
      // one configured shorter than when the findings were stored.
      {&latest_seen_, "SELECT max(last_seen) FROM findings WHERE last_seen <= ?1"},
  };
  for (const auto& s : statements) {
    *s.stmt = Statement(db_, s.sql);
    if (!s.stmt->ok()) {
      return Status::Corruption(LastError() + " (is the database at schema version 2 or later?)");
    }
  }
  return Status::OK();
}

Status FindingStore::Insert(const Finding& f, std::string_view repeat_key, bool* inserted) {
  Statement& st = insert_;
  st.Bind(1, f.id).Bind(2, f.rule).Bind(3, static_cast<int64_t>(f.severity)).Bind(4, f.time);
  st.Bind(5, f.request_id).BindOpt(6, f.client_id).BindOpt(7, f.client_name);
  if (f.her_id != 0) {
    st.Bind(8, f.her_id);
  } else {
    st.BindNull(8);
  }
  st.BindOpt(9, f.message_id).BindOpt(10, f.orgnr_parent).BindOpt(11, f.party_top_orgnr);
  st.BindOpt(12, f.action).Bind(13, static_cast<int64_t>(f.status)).Bind(14, f.summary);
  st.Bind(15, TagsToJson(f.tags));
  st.Bind(16, static_cast<int64_t>(std::max<uint64_t>(f.occurrences, 1)));
  st.Bind(17, std::max(f.last_seen, f.time));
  st.Bind(18, NormalizeEvidence(f.evidence));
  st.Bind(19, repeat_key);
  if (st.Run() != SQLITE_DONE) return Status::IOError(LastError());
  if (inserted != nullptr) *inserted = sqlite3_changes(db_) > 0;
  return Status::OK();
}

Status FindingStore::UpdateRepeat(std::string_view id, uint64_t occurrences, EventTime last_seen) {
  const int rc = update_repeat_.Bind(1, id)
                     .Bind(2, static_cast<int64_t>(std::max<uint64_t>(occurrences, 1)))
                     .Bind(3, last_seen)
                     .Run();
  if (rc != SQLITE_DONE) return Status::IOError(LastError());
  if (sqlite3_changes(db_) == 0) {
    return Status::NotFound("no stored finding with id " + std::string(id));
  }
  return Status::OK();
}

Status FindingStore::UpdateEscalated(const Finding& f) {
  const int rc = update_escalated_.Bind(1, f.id)
                     .Bind(2, static_cast<int64_t>(f.severity))
                     .Bind(3, static_cast<int64_t>(std::max<uint64_t>(f.occurrences, 1)))
                     .Bind(4, std::max(f.last_seen, f.time))
                     .Bind(5, NormalizeEvidence(f.evidence))
                     .Bind(6, f.summary)
                     .Run();
  if (rc != SQLITE_DONE) return Status::IOError(LastError());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("no stored finding with id " + f.id);
  return Status::OK();
}

Status FindingStore::MarkDelivered(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (mark_delivered_.Bind(1, id).Run() != SQLITE_DONE) return Status::IOError(LastError());
  }
  return Status::OK();
}

Status FindingStore::ReadRows(Statement& st,
                              const std::function<bool(Finding&&, std::string&&)>& visit) {
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    Finding f;
    f.id = st.ColumnText(0);
    f.rule = st.ColumnText(1);
    f.severity = SeverityFromRank(st.ColumnInt(2));
    f.time = st.ColumnInt(3);
    f.request_id = st.ColumnText(4);
    f.client_id = st.ColumnText(5);
    f.client_name = st.ColumnText(6);
    f.her_id = st.ColumnIsNull(7) ? 0 : st.ColumnInt(7);
    f.message_id = st.ColumnText(8);
    f.orgnr_parent = st.ColumnText(9);
    f.party_top_orgnr = st.ColumnText(10);
    f.action = st.ColumnText(11);
    f.status = static_cast<int>(st.ColumnInt(12));
    f.summary = st.ColumnText(13);
    if (!TagsFromJson(st.ColumnText(14), &f.tags)) {
      st.Reset();
      return Status::Corruption(LastError() + ": finding " + f.id + ": tags are not a JSON array");
    }
    f.occurrences = static_cast<uint64_t>(std::max<int64_t>(st.ColumnInt(15), 1));
    f.last_seen = st.ColumnInt(16);
    f.evidence = st.ColumnText(17);
    f.delivered = st.ColumnInt(18) != 0;
    std::string key(st.ColumnText(19));
    if (!visit(std::move(f), std::move(key))) {
      rc = SQLITE_DONE;
      break;
    }
  }
  st.Reset();
  return rc == SQLITE_DONE ? Status::OK() : Status::IOError(LastError());
}

Status FindingStore::LoadUndelivered(std::vector<Finding>* out) {
  return ReadRows(load_undelivered_, [out](Finding&& f, std::string&&) {
    out->push_back(std::move(f));
    return true;
  });
}

Status FindingStore::LoadRecent(EventTime since, EventTime not_after,
                                std::vector<KeyedFinding>* out) {
  load_recent_.Bind(1, since).Bind(2, not_after);
  return ReadRows(load_recent_, [out](Finding&& f, std::string&& key) {
    out->push_back({std::move(f), std::move(key)});
    return true;
  });
}

Status FindingStore::LatestSeen(EventTime not_after, std::optional<EventTime>* out) {
  const int rc = latest_seen_.Bind(1, not_after).Step();
  if (rc != SQLITE_ROW) {
    latest_seen_.Reset();
    return Status::IOError(LastError());
  }
  *out = latest_seen_.ColumnIsNull(0) ? std::nullopt
                                      : std::optional<EventTime>(latest_seen_.ColumnInt(0));
  latest_seen_.Reset();
  return Status::OK();
}

Status FindingStore::Query(const FindingQuery& q,
                           const std::function<bool(const Finding&)>& visit) {
  // Only set filters become SQL terms, so each can use its index.
  std::string where;
  auto term = [&where](std::string_view t) {
    where += where.empty() ? " WHERE " : " AND ";
    where += t;
  };
  if (q.since) term("last_seen >= :since");
  if (q.until) term("time < :until");
  if (!q.rule.empty()) term("rule = :rule");
  if (q.min_severity) term("severity >= :severity");
  if (q.her_id) term("her_id = :her_id");
  if (!q.client_ids.empty()) {
    std::string in = "client_id IN (";
    for (size_t i = 0; i < q.client_ids.size(); ++i) {
      in += (i == 0 ? ":client" : ", :client") + std::to_string(i);
    }
    term(in + ")");
  }
  if (!q.message_id.empty()) term("message_id = :message");

  const std::string columns(kColumns);
  std::string sql = "SELECT " + columns + " FROM findings" + where;
  if (q.limit > 0) {
    sql = "SELECT " + columns + " FROM (" + sql +
          " ORDER BY time DESC, id DESC LIMIT :limit) ORDER BY time, id";
  } else {
    sql += " ORDER BY time, id";
  }
  Statement st(db_, sql);
  if (!st.ok()) return Status::IOError(LastError());
  auto bind = [&st](const char* name) { return sqlite3_bind_parameter_index(st.get(), name); };
  if (q.since) st.Bind(bind(":since"), *q.since);
  if (q.until) st.Bind(bind(":until"), *q.until);
  if (!q.rule.empty()) st.Bind(bind(":rule"), q.rule);
  if (q.min_severity) st.Bind(bind(":severity"), static_cast<int64_t>(*q.min_severity));
  if (q.her_id) st.Bind(bind(":her_id"), *q.her_id);
  for (size_t i = 0; i < q.client_ids.size(); ++i) {
    st.Bind(bind((":client" + std::to_string(i)).c_str()), q.client_ids[i]);
  }
  if (!q.message_id.empty()) st.Bind(bind(":message"), q.message_id);
  if (q.limit > 0) {
    st.Bind(bind(":limit"), static_cast<int64_t>(std::min<size_t>(q.limit, INT64_MAX)));
  }
  return ReadRows(st, [&visit](Finding&& f, std::string&&) { return visit(f); });
}

Status FindingStore::Query(const FindingQuery& q, std::vector<Finding>* out) {
  return Query(q, [out](const Finding& f) {
    out->push_back(f);
    return true;
  });
}

}  // namespace edi
