// AuditState: the reconstruction stage. From access-log records alone (plus the reference
// snapshots) it rebuilds who acted for whom: locks, message custody, ownership statistics —
// and hands the rules one PartyFacts per (event, party) as things stood just before the event.
//
// Event time only: every window and TTL uses record timestamps, so a replay gives the same
// facts. Records are taken in the order they arrive: windows and statistics are measured
// against the newest time seen, so a record a few minutes late counts in them as on time, but
// custody is judged as it stood on arrival (a mark arriving before its message's download is
// judged without that download). Inputs are expected in time order (replay warns otherwise).
//
// Persistence: every change is tracked per batch and written by SaveBatch into the batch's
// SQLite transaction; Load restores it, so a restart yields the same facts as one run.
// Not thread-safe: one pipeline thread owns it.
#pragma once

#include <array>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "registry/registry.h"
#include "state/custody.h"
#include "state/facts.h"
#include "state/interner.h"
#include "state/locks.h"
#include "state/ownership.h"
#include "state/state_options.h"

struct sqlite3;

namespace edi {

// Is HER-Id p in a hyphen-separated herid claim ("8142520-8142521")?
bool ClaimCovers(std::string_view claim, HerId p);

// A jump in event time this long while still learning restarts the learning period.
inline constexpr EventTime kLearningRestartGap = 365 * kMillisPerDay;

// How long after a reservations.jsonl lock's `since` its holder's own lock call is judged
// against the locks before the reservation (AuditState).
inline constexpr EventTime kReservationGrace = kMillisPerMinute;

struct StateCounters {
  uint64_t events = 0;
  uint64_t custody_unknown = 0;  // calls whose parties or facts needed unknown custody
  // `message` blocks naming another message than the call's (not learned from)
  uint64_t message_blocks_ignored = 0;
  uint64_t no_party = 0;  // calls of a route that names its parties that named none
  uint64_t no_owner = 0;  // party evaluations with no owner (owner rules silent)
  uint64_t locks_taken = 0;
  uint64_t locks_released = 0;
  uint64_t stale_locks = 0;
  uint64_t expired_messages = 0;
  uint64_t expired_parties = 0;
};

// Fills e->lookups for e's parties from `registry`: registry lookups that need no state, so
// the decode step does them, off the pipeline thread. AuditState uses them when its registry
// is `registry`, and else (or for parties without) looks the same things up itself.
void LookUpParties(const Registry& registry, AccessEvent* e);

class AuditState : public ClientNames {
 public:
  AuditState(const StateOptions& options, std::shared_ptr<const Registry> registry);
  // Not copied or moved: org_covers_ refers to this state.
  AuditState(const AuditState&) = delete;
  AuditState& operator=(const AuditState&) = delete;

  // Fills the parties a route leaves "from custody", appends one PartyFacts per party (one
  // without a party when the call names none) and one per lock that turned stale at this
  // event's time, then applies the event to the state. The facts stay valid until the next call.
  void Observe(AccessEvent* e, std::vector<PartyFacts>* facts);

  // Writes what changed since the last SaveBatch into `db` (inside the caller's transaction).
  Status SaveBatch(sqlite3* db);
  // Forgets unsaved changes tracking (after a rolled-back batch the caller must Load again).
  Status Load(sqlite3* db);

  // A reloaded snapshot: its reservations whose `since` event time has not reached yet wait
  // for it, as after a restart (those of a state that saw no event yet: all of them).
  void set_registry(std::shared_ptr<const Registry> r);
  const StateCounters& counters() const { return counters_; }
  const StateOptions& options() const { return options_; }
  const CustodyTable& custody() const { return custody_; }
  const LockTable& locks() const { return locks_; }
  const OwnershipStats& ownership() const { return ownership_; }
  const ClientInterner& clients() const { return clients_; }
  EventTime first_time() const { return first_time_; }
  // The newest event time seen, leaving out records dated after the clock limit.
  EventTime max_time() const { return max_time_; }
  // Records dated after `limit` (a gateway's clock fault, most likely: the caller passes the
  // wall clock plus a day) are judged with their own time but do not move event time on, so
  // one such record does not make every lock look stale or custody be forgotten.
  void set_clock_limit(EventTime limit) { clock_limit_ = limit; }
  // The time a record changes the state at: its own, or for one dated after the clock limit
  // the newest event time (a lock's activity, custody, ownership do not move years ahead).
  EventTime StateTime(const AccessEvent& e) const {
    return e.time <= clock_limit_ ? e.time : max_time_;
  }
  // clients.jsonl's name for the client, else the one its tokens gave; "" when neither.
  std::string_view NameOf(std::string_view client_id) const override;

 private:
  friend class StatePersistence;
  // The snapshot's reservations as locks: the state of a new database. Each takes effect
  // once event time reaches its `since` (a log older than the snapshot's locks was made
  // without them); until then it waits in pending_reservations_.
  void ApplyReservations();
  // Reservations still pending after a restart: those whose `since` lies beyond the newest
  // event time stored (a run that had gone on would still be waiting for them).
  void PendReservationsAfter(EventTime t);
  // A reservation takes effect once event time reaches its `since`, unless the log showed the
  // party locked after `since`. The call that took the lock is in the log too when it covers
  // that time, at `since` or a moment after (a snapshot's time rounded down): when the holder's
  // own successful lock call comes within kReservationGrace of `since`, the reservation is
  // undone first (UndoFreshReservations), so that the call is judged against the locks before
  // it: a takeover stays a takeover. (Not kept over a restart: a minute's worth.)
  void ActivateReservations(EventTime now);
  void UndoFreshReservations(const AccessEvent& e, ClientIdx client);
  void ResolveCustodyParties(AccessEvent* e, ClientIdx client, const MessageCustody* m);
  // Whether the client of `e` answers for party p: p is in its herid claim list, or (no list)
  // it is p's owner at e's time (the lock holder, else the declared, else the learned).
  bool AnswersFor(HerId p, ClientIdx client, const AccessEvent& e) const;
  // Whose party p is, as seen from `client` for its act at `act_time` (custody.h OwnerOf), the
  // learned owner as of `now`.
  PartyOwner OwnerOf(HerId p, ClientIdx client, EventTime act_time, EventTime now) const;
  // The client's herid claim list in effect at t (its latest call with one before), or null.
  const std::string* ClaimAt(ClientIdx client, EventTime t) const;
  void NoteClaim(ClientIdx client, const std::string& claim, EventTime t);
  // `lookup`: the party's, when e.lookups has it from this state's registry.
  void FillPartyFacts(const AccessEvent& e, ClientIdx client, const PartyLookup* lookup,
                      PartyFacts* f);
  void FillMessageFacts(const MessageCustody* m, ClientIdx client, PartyFacts* f);
  void Apply(const AccessEvent& e, ClientIdx client, const MessageKey* key);
  void ApplyConfiguration(const AccessEvent& e, ClientIdx client);
  void MaybeExpire();

  StateOptions options_;
  std::shared_ptr<const Registry> registry_;
  ClientInterner clients_;
  CustodyTable custody_;
  LockTable locks_;
  OwnershipStats ownership_;
  // Whether an organisation covers a party in the current registry (custody's OrgCovers).
  const OrgCovers org_covers_;
  StateCounters counters_;
  EventTime first_time_ = 0;
  EventTime first_before_restart_ = 0;  // the learning start a jump replaced (0: none)
  EventTime max_time_ = 0;
  EventTime clock_limit_ = std::numeric_limits<EventTime>::max();
  std::vector<Reservation> pending_reservations_;  // latest `since` first
  // Reservations that took effect within the last kReservationGrace, with the lock before.
  struct FreshReservation {
    ClientIdx holder = kNoClient;
    std::optional<Lock> before;
    EventTime until = 0;
  };
  std::unordered_map<HerId, FreshReservation> fresh_reservations_;
  EventTime last_expiry_ = 0;
  uint32_t new_pairs_in_call_ = 0;
  // Apply's, per party of the call (reused): locked to another client when the call came.
  std::vector<bool> locked_to_other_;
  // Per client, the name its tokens gave (the first one seen; from the store's clients table
  // after a restart): a stale lock's holder is named even when clients.jsonl does not list it.
  // A deque: facts point into it while it grows.
  std::deque<std::string> token_names_;
  // Per client, the herid claim lists its calls had (not "0"), each from the event time it
  // came at, oldest first, at most kClaimHistory: OwnerOf reads the one of an earlier call.
  // "" in it: a call without a list; kUnsureClaim: which list is unsure (two at one time, or
  // older ones merged at the cap), so a call then proves nothing by it.
  static constexpr size_t kClaimHistory = 16;
  static constexpr std::string_view kUnsureClaim = "?";
  std::vector<std::vector<std::pair<EventTime, std::string>>> claim_history_;
  std::unordered_set<ClientIdx> dirty_claims_;
  void NoteTokenName(ClientIdx client, std::string_view name);

  // A set of HER-Ids behind a small filter of the ids added last: a batch adds the same
  // parties over and over, and the filter answers most of those adds without hashing into the
  // set. Iterates like the set.
  class HerIdSet {
   public:
    HerIdSet() { recent_.fill(kEmpty); }
    void insert(HerId p) {
      HerId& slot = recent_[(static_cast<uint64_t>(p) * 0x9E3779B97F4A7C15ull) >> 55];
      if (slot == p && p != kEmpty) return;
      set_.insert(p);
      slot = p;
    }
    void clear() {
      set_.clear();
      recent_.fill(kEmpty);
    }
    auto begin() const { return set_.begin(); }
    auto end() const { return set_.end(); }

   private:
    static constexpr HerId kEmpty = std::numeric_limits<HerId>::min();
    std::unordered_set<HerId> set_;
    std::array<HerId, 512> recent_;  // ids in the set, or kEmpty; by the top 9 bits of a hash
  };

  // Changes since the last SaveBatch (custody_ keeps its own).
  HerIdSet dirty_parties_, dirty_locks_;
  std::unordered_set<ClientIdx> dirty_sweeps_;
  std::vector<std::pair<ClientIdx, HerId>> new_pairs_;
  size_t saved_clients_ = 0;
};

}  // namespace edi
