// AuditState persistence: changed entries are written as rows (locks readable as columns,
// custody and statistics as compact varint blobs) in the caller's batch transaction.
#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "common/sqlite_statement.h"
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
  Reader(const void* p, size_t n) : p_(static_cast<const uint8_t*>(p)), end_(p_ + n) {}
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

constexpr uint64_t kActWithOrg = 4;  // in a custody act's kind
// 2: custody flags carry "receivers complete" (4); state saved before says nothing of it.
constexpr int64_t kCustodyFormat = 2;

Reader Blob(std::string_view b) { return Reader(b.data(), b.size()); }

std::string EncodeCustody(const CustodyRecord& m) {
  Writer w;
  w.I(m.first_seen);
  w.I(m.last_seen);
  w.U((m.known ? 1 : 0) | (m.is_apprec ? 2 : 0) | (m.receivers_complete ? 4 : 0));
  w.U(m.sender_client);
  w.I(m.sender);
  w.U(m.receivers.size());
  for (HerId r : m.receivers) w.I(r);
  w.U(m.acts.size());
  for (const CustodyAct& a : m.acts) {
    w.U(a.client);
    // The kind, and 4 when the calling organisation of an unknown receiver's act follows.
    w.U(static_cast<uint64_t>(a.kind) | (a.org != 0 ? kActWithOrg : 0));
    w.I(a.receiver);
    w.I(a.time);
    if (a.org != 0) w.U(a.org);
  }
  return w.str();
}

bool DecodeCustody(Reader r, CustodyRecord* m) {
  m->first_seen = r.I();
  m->last_seen = r.I();
  const uint64_t flags = r.U();
  m->known = flags & 1;
  m->is_apprec = flags & 2;
  m->receivers_complete = flags & 4;
  m->sender_client = static_cast<ClientIdx>(r.U());
  m->sender = r.I();
  for (uint64_t n = r.U(); n > 0 && r.ok(); --n) m->receivers.push_back(r.I());
  for (uint64_t n = r.U(); n > 0 && r.ok(); --n) {
    CustodyAct a;
    a.client = static_cast<ClientIdx>(r.U());
    const uint64_t kind_flags = r.U();
    const uint64_t kind = kind_flags & ~kActWithOrg;
    if (kind > static_cast<uint64_t>(CustodyActKind::kApprec)) return false;
    a.kind = static_cast<CustodyActKind>(kind);
    a.receiver = r.I();
    a.time = r.I();
    if (kind_flags & kActWithOrg) a.org = r.U();
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
    for (const PeriodCount& pc : c.owner_actions) {
      w.I(pc.period);
      w.U(pc.count);
    }
  }
  return w.str();
}

// `unit`: the length of the periods the saved counts are per (state saved before the counts
// went by kOwnerCountPeriod has them per day, each day's count going to its first period, or
// per hour, each hour's to the period it lies in). Counts for the same period are merged.
bool DecodeParty(Reader r, EventTime unit, PartyStats* s) {
  for (uint64_t n = r.U(); n > 0 && r.ok(); --n) {
    ClientOnParty c;
    c.client = static_cast<ClientIdx>(r.U());
    c.last_owner_action = r.I();
    for (uint64_t k = r.U(); k > 0 && r.ok(); --k) {
      PeriodCount pc;
      const int64_t at = r.I();
      pc.period = static_cast<int32_t>(unit >= kOwnerCountPeriod ? at * (unit / kOwnerCountPeriod)
                                                                 : at / (kOwnerCountPeriod / unit));
      pc.count = static_cast<uint32_t>(r.U());
      if (!c.owner_actions.empty() && c.owner_actions.back().period == pc.period) {
        c.owner_actions.back().count += pc.count;
      } else {
        c.owner_actions.push_back(pc);
      }
    }
    s->clients.push_back(std::move(c));
  }
  return r.ok();
}

Status Err(sqlite3* db, const char* what) {
  return Status::IOError(std::string("saving reconstruction state (") + what +
                         "): " + sqlite3_errmsg(db));
}

}  // namespace

Status AuditState::SaveBatch(sqlite3* db) {
  Statement client(db,
                   "INSERT OR REPLACE INTO state_clients (client_idx, client_id) VALUES (?, ?)");
  for (size_t i = saved_clients_ + 1; i <= clients_.size(); ++i) {
    if (client.Bind(1, static_cast<int64_t>(i))
            .Bind(2, clients_.Name(static_cast<ClientIdx>(i)))
            .Run() != SQLITE_DONE)
      return Err(db, "clients");
  }
  saved_clients_ = clients_.size();

  Statement put_lock(
      db,
      "INSERT OR REPLACE INTO state_locks (her_id, holder, since, holder_last_activity, "
      "denied_others, stale_reported) VALUES (?, ?, ?, ?, ?, ?)");
  Statement del_lock(db, "DELETE FROM state_locks WHERE her_id = ?");
  for (HerId p : dirty_locks_) {
    if (const Lock* l = locks_.Find(p)) {
      if (put_lock.Bind(1, p)
              .Bind(2, clients_.Name(l->holder))
              .Bind(3, l->since)
              .Bind(4, l->holder_last_activity)
              .Bind(5, l->denied_others)
              .Bind(6, l->stale_reported ? 1 : 0)
              .Run() != SQLITE_DONE)
        return Err(db, "locks");
    } else if (del_lock.Bind(1, p).Run() != SQLITE_DONE) {
      return Err(db, "locks");
    }
  }
  dirty_locks_.clear();

  // Rows of forgotten entries go first: an entry created again in the same batch may be
  // written to the same row.
  const CustodyTable::Changes changes = custody_.TakeChanges();
  Statement del_msg(db, "DELETE FROM state_messages WHERE bucket = ? AND message_id = ?");
  for (const CustodyRow& r : changes.dropped) {
    if (del_msg.Bind(1, static_cast<int64_t>(r.bucket)).Bind(2, r.key.ToString()).Run() !=
        SQLITE_DONE)
      return Err(db, "custody");
  }
  Statement put_msg(
      db,
      "INSERT OR REPLACE INTO state_messages (bucket, message_id, last_seen, custody) "
      "VALUES (?, ?, ?, ?)");
  for (const CustodyRow& r : changes.stored) {
    const MessageCustody* m = custody_.Find(r.key);
    if (put_msg.Bind(1, static_cast<int64_t>(r.bucket))
            .Bind(2, r.key.ToString())
            .Bind(3, m->last_seen())
            .BindBlob(4, EncodeCustody(m->Record()))
            .Run() != SQLITE_DONE)
      return Err(db, "custody");
  }

  Statement put_party(
      db, "INSERT OR REPLACE INTO state_parties (her_id, last_touch, stats) VALUES (?, ?, ?)");
  Statement del_party(db, "DELETE FROM state_parties WHERE her_id = ?");
  for (HerId p : dirty_parties_) {
    if (const PartyStats* s = ownership_.Find(p)) {
      if (put_party.Bind(1, p).Bind(2, s->last_touch).BindBlob(3, EncodeParty(*s)).Run() !=
          SQLITE_DONE)
        return Err(db, "parties");
    } else if (del_party.Bind(1, p).Run() != SQLITE_DONE) {
      return Err(db, "parties");
    }
  }
  dirty_parties_.clear();

  Statement put_pair(db, "INSERT OR IGNORE INTO state_pairs (client_idx, her_id) VALUES (?, ?)");
  for (const auto& [c, p] : new_pairs_) {
    if (put_pair.Bind(1, static_cast<int64_t>(c)).Bind(2, p).Run() != SQLITE_DONE)
      return Err(db, "pairs");
  }
  new_pairs_.clear();

  Statement put_sweep(db,
                      "INSERT OR REPLACE INTO state_sweeps (client_idx, first_seen) VALUES (?, ?)");
  Statement del_sweep(db, "DELETE FROM state_sweeps WHERE client_idx = ?");
  for (ClientIdx c : dirty_sweeps_) {
    auto it = ownership_.sweeps().find(c);
    if (it == ownership_.sweeps().end()) {
      if (del_sweep.Bind(1, c).Run() != SQLITE_DONE) return Err(db, "sweeps");
      continue;
    }
    Writer w;
    w.U(it->second.size());
    for (EventTime t : it->second) w.I(t);
    if (put_sweep.Bind(1, c).BindBlob(2, w.str()).Run() != SQLITE_DONE) return Err(db, "sweeps");
  }
  dirty_sweeps_.clear();

  Statement del_claims(db, "DELETE FROM state_claims WHERE client_idx = ?");
  Statement put_claim(db, "INSERT INTO state_claims (client_idx, since, claim) VALUES (?, ?, ?)");
  for (ClientIdx c : dirty_claims_) {
    if (del_claims.Bind(1, c).Run() != SQLITE_DONE) return Err(db, "claims");
    for (const auto& [since, claim] : claim_history_[c]) {
      if (put_claim.Bind(1, c).Bind(2, since).Bind(3, claim).Run() != SQLITE_DONE) {
        return Err(db, "claims");
      }
    }
  }
  dirty_claims_.clear();

  Statement meta(db, "INSERT OR REPLACE INTO state_meta (key, value) VALUES (?, ?)");
  if (meta.Bind(1, "first_time").Bind(2, first_time_).Run() != SQLITE_DONE ||
      meta.Bind(1, "max_time").Bind(2, max_time_).Run() != SQLITE_DONE ||
      meta.Bind(1, "last_expiry").Bind(2, last_expiry_).Run() != SQLITE_DONE ||
      meta.Bind(1, "owner_count_unit").Bind(2, kOwnerCountPeriod).Run() != SQLITE_DONE ||
      meta.Bind(1, "custody_format").Bind(2, kCustodyFormat).Run() != SQLITE_DONE) {
    return Err(db, "meta");
  }
  return Status::OK();
}

Status AuditState::Load(sqlite3* db) {
  Statement meta(db, "SELECT key, value FROM state_meta");
  if (!meta.ok()) return Status::Corruption(std::string("loading state: ") + sqlite3_errmsg(db));
  bool any = false;
  EventTime first = 0, max = 0, expiry = 0;
  EventTime owner_count_unit = kMillisPerDay;  // state saved before the key came counted per day
  int64_t custody_format = 1;                  // before the key: no "receivers complete" flag
  while (meta.Step() == SQLITE_ROW) {
    any = true;
    const std::string k = std::string(meta.ColumnText(0));
    if (k == "first_time") first = meta.ColumnInt(1);
    if (k == "max_time") max = meta.ColumnInt(1);
    if (k == "last_expiry") expiry = meta.ColumnInt(1);
    if (k == "owner_count_unit") owner_count_unit = meta.ColumnInt(1);
    if (k == "custody_format") custody_format = meta.ColumnInt(1);
  }
  // Counts per day or per hour (saved by earlier versions) are read into periods.
  if (owner_count_unit != kOwnerCountPeriod && owner_count_unit != kMillisPerDay &&
      owner_count_unit != kMillisPerHour) {
    return Status::Corruption("loading state: owner actions counted per " +
                              std::to_string(owner_count_unit) +
                              " ms, which this version cannot read");
  }
  // Start from nothing: the database holds everything, the snapshot's reservations included.
  clients_ = ClientInterner();
  token_names_.clear();  // by client index: the indexes are given anew below
  custody_ = CustodyTable();
  locks_ = LockTable(options_.stale_lock_after);
  ownership_ = OwnershipStats(options_);
  dirty_parties_.clear();
  dirty_locks_.clear();
  dirty_sweeps_.clear();
  dirty_claims_.clear();
  claim_history_.clear();
  new_pairs_.clear();
  saved_clients_ = 0;
  first_time_ = first;
  max_time_ = max;
  last_expiry_ = expiry;
  if (!any) {
    // A new database, or one whose first batches were rolled back (what they did to this
    // state is undone too): the initial state, the snapshot's reservations.
    ApplyReservations();
    return Status::OK();
  }
  PendReservationsAfter(max);

  Statement clients(db, "SELECT client_idx, client_id FROM state_clients ORDER BY client_idx");
  while (clients.Step() == SQLITE_ROW) {
    if (clients_.Intern(std::string(clients.ColumnText(1))) !=
        static_cast<ClientIdx>(clients.ColumnInt(0))) {
      return Status::Corruption("loading state: client index table is not contiguous");
    }
  }
  saved_clients_ = clients_.size();
  // The names their tokens gave, as the store kept them (a database without the store's
  // tables, as some tests use, has none).
  if (Statement names(db, "SELECT client_id, client_name FROM clients WHERE client_name <> ''");
      names.ok()) {
    while (names.Step() == SQLITE_ROW) {
      const ClientIdx idx = clients_.Find(names.ColumnText(0));
      if (idx != kNoClient) NoteTokenName(idx, names.ColumnText(1));
    }
  }

  Statement locks(
      db,
      "SELECT her_id, holder, since, holder_last_activity, denied_others, stale_reported "
      "FROM state_locks");
  while (locks.Step() == SQLITE_ROW) {
    Lock l{clients_.Intern(std::string(locks.ColumnText(1))), locks.ColumnInt(2),
           locks.ColumnInt(3), static_cast<uint32_t>(locks.ColumnInt(4)), locks.ColumnInt(5) != 0};
    locks_.Put(locks.ColumnInt(0), l);
  }

  Statement msgs(db, "SELECT bucket, message_id, custody FROM state_messages");
  while (msgs.Step() == SQLITE_ROW) {
    MessageKey k;
    CustodyRecord m;
    const int64_t bucket = msgs.ColumnInt(0);
    if (bucket < 0 || bucket > UINT32_MAX ||
        !MessageKey::Parse(std::string(msgs.ColumnText(1)), &k) ||
        !DecodeCustody(Blob(msgs.ColumnBlob(2)), &m)) {
      return Status::Corruption("loading state: bad custody row for message " +
                                std::string(msgs.ColumnText(1)));
    }
    if (custody_format < 2) {
      // Saved before receivers were told complete, when every known list counted as
      // complete: so it stays, and the entry is written anew with the flag.
      m.receivers_complete = m.known && !m.receivers.empty();
      custody_.Put(k, static_cast<uint32_t>(bucket), m);
      custody_.Refresh(k, m.last_seen);
      continue;
    }
    custody_.Put(k, static_cast<uint32_t>(bucket), m);
  }
  Statement parties(db, "SELECT her_id, last_touch, stats FROM state_parties");
  while (parties.Step() == SQLITE_ROW) {
    PartyStats s;
    s.last_touch = parties.ColumnInt(1);
    if (!DecodeParty(Blob(parties.ColumnBlob(2)), owner_count_unit, &s)) {
      return Status::Corruption("loading state: bad statistics row for party " +
                                std::to_string(parties.ColumnInt(0)));
    }
    ownership_.PutParty(parties.ColumnInt(0), std::move(s));
    // Counted per another unit: the next save writes the row in the current one, as it will
    // say for every row.
    if (owner_count_unit != kOwnerCountPeriod) dirty_parties_.insert(parties.ColumnInt(0));
  }
  Statement pairs(db, "SELECT client_idx, her_id FROM state_pairs");
  while (pairs.Step() == SQLITE_ROW)
    ownership_.PutPair(static_cast<ClientIdx>(pairs.ColumnInt(0)), pairs.ColumnInt(1));
  Statement sweeps(db, "SELECT client_idx, first_seen FROM state_sweeps");
  while (sweeps.Step() == SQLITE_ROW) {
    Reader r = Blob(sweeps.ColumnBlob(1));
    std::deque<EventTime> times;
    for (uint64_t n = r.U(); n > 0 && r.ok(); --n) times.push_back(r.I());
    ownership_.PutSweep(static_cast<ClientIdx>(sweeps.ColumnInt(0)), std::move(times));
  }
  Statement claims(db, "SELECT client_idx, since, claim FROM state_claims ORDER BY 1, 2");
  while (claims.Step() == SQLITE_ROW) {
    const auto c = static_cast<size_t>(claims.ColumnInt(0));
    if (c >= claim_history_.size()) claim_history_.resize(c + 1);
    claim_history_[c].emplace_back(claims.ColumnInt(1), std::string(claims.ColumnText(2)));
  }
  return Status::OK();
}

}  // namespace edi
