// AuditState persistence: changed entries are written as rows (locks readable as columns,
// custody and statistics as compact varint blobs) in the caller's batch transaction.
#include <sqlite3.h>

#include <string>

#include "state/state.h"

namespace edi {
namespace {

class Writer {
 public:
  void U(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void I(int64_t v) { U((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(const void* p, int n) : p_(static_cast<const uint8_t*>(p)), end_(p_ + n) {}
  uint64_t U() {
    uint64_t v = 0;
    for (int shift = 0; p_ < end_ && shift < 64; shift += 7) {
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  int64_t I() {
    const uint64_t u = U();
    return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  }
  bool ok() const { return ok_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

std::string EncodeCustody(const MessageCustody& m) {
  Writer w;
  w.I(m.first_seen);
  w.I(m.last_seen);
  w.U((m.known ? 1 : 0) | (m.is_apprec ? 2 : 0));
  w.U(m.sender_client);
  w.I(m.sender);
  w.U(m.receivers.size());
  for (HerId r : m.receivers) w.I(r);
  w.U(m.acts.size());
  for (const CustodyAct& a : m.acts) {
    w.U(a.client);
    w.U(static_cast<uint64_t>(a.kind));
    w.I(a.receiver);
    w.I(a.time);
  }
  return w.str();
}

bool DecodeCustody(Reader r, MessageCustody* m) {
  m->first_seen = r.I();
  m->last_seen = r.I();
  const uint64_t flags = r.U();
  m->known = flags & 1;
  m->is_apprec = flags & 2;
  m->sender_client = static_cast<ClientIdx>(r.U());
  m->sender = r.I();
  for (uint64_t n = r.U(); n > 0 && r.ok(); --n) m->receivers.push_back(r.I());
  for (uint64_t n = r.U(); n > 0 && r.ok(); --n) {
    CustodyAct a;
    a.client = static_cast<ClientIdx>(r.U());
    a.kind = static_cast<CustodyActKind>(r.U());
    a.receiver = r.I();
    a.time = r.I();
    m->acts.push_back(a);
  }
  return r.ok();
}

std::string EncodeParty(const PartyStats& s) {
  Writer w;
  w.U(s.clients.size());
  for (const ClientOnParty& c : s.clients) {
    w.U(c.client);
    w.I(c.last_owner_action);
    w.U(c.owner_actions.size());
    for (const DayCount& d : c.owner_actions) {
      w.I(d.day);
      w.U(d.count);
    }
  }
  return w.str();
}

bool DecodeParty(Reader r, PartyStats* s) {
  for (uint64_t n = r.U(); n > 0 && r.ok(); --n) {
    ClientOnParty c;
    c.client = static_cast<ClientIdx>(r.U());
    c.last_owner_action = r.I();
    for (uint64_t k = r.U(); k > 0 && r.ok(); --k) {
      DayCount d;
      d.day = static_cast<int32_t>(r.I());
      d.count = static_cast<uint32_t>(r.U());
      c.owner_actions.push_back(d);
    }
    s->clients.push_back(std::move(c));
  }
  return r.ok();
}

// A small RAII statement for the save/load paths (not on the per-event path).
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return s_ != nullptr; }
  Stmt& I(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& T(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& B(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  bool Run() {
    const int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    return rc == SQLITE_DONE;
  }
  bool Row() { return sqlite3_step(s_) == SQLITE_ROW; }
  int64_t ColI(int i) { return sqlite3_column_int64(s_, i); }
  std::string ColT(int i) {
    const auto* p = sqlite3_column_text(s_, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  Reader ColB(int i) { return Reader(sqlite3_column_blob(s_, i), sqlite3_column_bytes(s_, i)); }

 private:
  sqlite3_stmt* s_ = nullptr;
};

Status Err(sqlite3* db, const char* what) {
  return Status::IOError(std::string("saving reconstruction state (") + what +
                         "): " + sqlite3_errmsg(db));
}

}  // namespace

Status AuditState::SaveBatch(sqlite3* db) {
  Stmt client(db, "INSERT OR REPLACE INTO state_clients (client_idx, client_id) VALUES (?, ?)");
  for (size_t i = saved_clients_ + 1; i <= clients_.size(); ++i) {
    if (!client.I(1, static_cast<int64_t>(i)).T(2, clients_.Name(static_cast<ClientIdx>(i))).Run())
      return Err(db, "clients");
  }
  saved_clients_ = clients_.size();

  Stmt put_lock(db,
                "INSERT OR REPLACE INTO state_locks (her_id, holder, since, holder_last_activity, "
                "denied_others, stale_reported) VALUES (?, ?, ?, ?, ?, ?)");
  Stmt del_lock(db, "DELETE FROM state_locks WHERE her_id = ?");
  for (HerId p : dirty_locks_) {
    if (const Lock* l = locks_.Find(p)) {
      if (!put_lock.I(1, p)
               .T(2, clients_.Name(l->holder))
               .I(3, l->since)
               .I(4, l->holder_last_activity)
               .I(5, l->denied_others)
               .I(6, l->stale_reported ? 1 : 0)
               .Run())
        return Err(db, "locks");
    } else if (!del_lock.I(1, p).Run()) {
      return Err(db, "locks");
    }
  }
  dirty_locks_.clear();

  Stmt put_msg(
      db,
      "INSERT OR REPLACE INTO state_messages (message_id, last_seen, custody) VALUES (?, ?, ?)");
  Stmt del_msg(db, "DELETE FROM state_messages WHERE message_id = ?");
  for (const MessageKey& k : dirty_messages_) {
    if (const MessageCustody* m = custody_.Find(k)) {
      if (!put_msg.T(1, k.ToString()).I(2, m->last_seen).B(3, EncodeCustody(*m)).Run())
        return Err(db, "custody");
    } else if (!del_msg.T(1, k.ToString()).Run()) {
      return Err(db, "custody");
    }
  }
  dirty_messages_.clear();

  Stmt put_party(
      db, "INSERT OR REPLACE INTO state_parties (her_id, last_touch, stats) VALUES (?, ?, ?)");
  Stmt del_party(db, "DELETE FROM state_parties WHERE her_id = ?");
  for (HerId p : dirty_parties_) {
    if (const PartyStats* s = ownership_.Find(p)) {
      if (!put_party.I(1, p).I(2, s->last_touch).B(3, EncodeParty(*s)).Run())
        return Err(db, "parties");
    } else if (!del_party.I(1, p).Run()) {
      return Err(db, "parties");
    }
  }
  dirty_parties_.clear();

  Stmt put_pair(db, "INSERT OR IGNORE INTO state_pairs (client_idx, her_id) VALUES (?, ?)");
  for (const auto& [c, p] : new_pairs_) {
    if (!put_pair.I(1, c).I(2, p).Run()) return Err(db, "pairs");
  }
  new_pairs_.clear();

  Stmt put_sweep(db, "INSERT OR REPLACE INTO state_sweeps (client_idx, first_seen) VALUES (?, ?)");
  Stmt del_sweep(db, "DELETE FROM state_sweeps WHERE client_idx = ?");
  for (ClientIdx c : dirty_sweeps_) {
    auto it = ownership_.sweeps().find(c);
    if (it == ownership_.sweeps().end()) {
      if (!del_sweep.I(1, c).Run()) return Err(db, "sweeps");
      continue;
    }
    Writer w;
    w.U(it->second.size());
    for (EventTime t : it->second) w.I(t);
    if (!put_sweep.I(1, c).B(2, w.str()).Run()) return Err(db, "sweeps");
  }
  dirty_sweeps_.clear();

  Stmt meta(db, "INSERT OR REPLACE INTO state_meta (key, value) VALUES (?, ?)");
  if (!meta.T(1, "first_time").I(2, first_time_).Run() ||
      !meta.T(1, "max_time").I(2, max_time_).Run() ||
      !meta.T(1, "last_expiry").I(2, last_expiry_).Run()) {
    return Err(db, "meta");
  }
  return Status::OK();
}

Status AuditState::Load(sqlite3* db) {
  Stmt meta(db, "SELECT key, value FROM state_meta");
  if (!meta.ok()) return Status::Corruption(std::string("loading state: ") + sqlite3_errmsg(db));
  bool any = false;
  EventTime first = 0, max = 0, expiry = 0;
  while (meta.Row()) {
    any = true;
    const std::string k = meta.ColT(0);
    if (k == "first_time") first = meta.ColI(1);
    if (k == "max_time") max = meta.ColI(1);
    if (k == "last_expiry") expiry = meta.ColI(1);
  }
  if (!any) return Status::OK();  // a new database: the initial state (reservations) stands

  // Start from nothing: the database holds everything, the snapshot's reservations included.
  clients_ = ClientInterner();
  custody_ = CustodyTable();
  locks_ = LockTable(options_.stale_lock_after);
  ownership_ = OwnershipStats(options_);
  dirty_messages_.clear();
  dirty_parties_.clear();
  dirty_locks_.clear();
  dirty_sweeps_.clear();
  new_pairs_.clear();
  first_time_ = first;
  max_time_ = max;
  last_expiry_ = expiry;

  Stmt clients(db, "SELECT client_idx, client_id FROM state_clients ORDER BY client_idx");
  while (clients.Row()) {
    if (clients_.Intern(clients.ColT(1)) != static_cast<ClientIdx>(clients.ColI(0))) {
      return Status::Corruption("loading state: client index table is not contiguous");
    }
  }
  saved_clients_ = clients_.size();

  Stmt locks(db,
             "SELECT her_id, holder, since, holder_last_activity, denied_others, stale_reported "
             "FROM state_locks");
  while (locks.Row()) {
    Lock l{clients_.Intern(locks.ColT(1)), locks.ColI(2), locks.ColI(3),
           static_cast<uint32_t>(locks.ColI(4)), locks.ColI(5) != 0};
    locks_.Put(locks.ColI(0), l);
  }

  Stmt msgs(db, "SELECT message_id, custody FROM state_messages");
  while (msgs.Row()) {
    MessageKey k;
    MessageCustody m;
    if (!MessageKey::Parse(msgs.ColT(0), &k) || !DecodeCustody(msgs.ColB(1), &m)) {
      return Status::Corruption("loading state: bad custody row for message " + msgs.ColT(0));
    }
    custody_.Put(k, std::move(m));
  }
  Stmt parties(db, "SELECT her_id, last_touch, stats FROM state_parties");
  while (parties.Row()) {
    PartyStats s;
    s.last_touch = parties.ColI(1);
    if (!DecodeParty(parties.ColB(2), &s)) {
      return Status::Corruption("loading state: bad statistics row for party " +
                                std::to_string(parties.ColI(0)));
    }
    ownership_.PutParty(parties.ColI(0), std::move(s));
  }
  Stmt pairs(db, "SELECT client_idx, her_id FROM state_pairs");
  while (pairs.Row()) ownership_.PutPair(static_cast<ClientIdx>(pairs.ColI(0)), pairs.ColI(1));
  Stmt sweeps(db, "SELECT client_idx, first_seen FROM state_sweeps");
  while (sweeps.Row()) {
    Reader r = sweeps.ColB(1);
    std::deque<EventTime> times;
    for (uint64_t n = r.U(); n > 0 && r.ok(); --n) times.push_back(r.I());
    ownership_.PutSweep(static_cast<ClientIdx>(sweeps.ColI(0)), std::move(times));
  }
  return Status::OK();
}

}  // namespace edi
