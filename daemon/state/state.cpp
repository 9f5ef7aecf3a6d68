#include "state/state.h"

#include <algorithm>

namespace edi {

bool ClaimCovers(std::string_view claim, HerId p) {
  size_t i = 0;
  while (i <= claim.size()) {
    size_t dash = claim.find('-', i);
    if (dash == std::string_view::npos) dash = claim.size();
    HerId v = 0;
    for (size_t k = i; k < dash; ++k) v = v * 10 + (claim[k] - '0');
    if (v == p) return true;
    i = dash + 1;
  }
  return false;
}

namespace {

void LookUpParty(const Registry& registry, const AccessEvent& e, HerId p, PartyLookup* out) {
  out->party = registry.FindParty(p);
  out->org_covered.reset();
  if (out->party != nullptr) {
    // A party whose organisation the snapshot cannot tell (a Service without a parent, a
    // parent missing) is covered by no delegation: acting for it stays visible.
    out->org_covered = registry.Covers(e.client.orgnr_parent, out->party->orgnr);
  }
  out->in_herid_claim.reset();
  if (e.client.her_id_claim && *e.client.her_id_claim != "0") {
    out->in_herid_claim = ClaimCovers(*e.client.her_id_claim, p);
  }
  out->declared_owner = registry.DeclaredOwner(p);
}

}  // namespace

void LookUpParties(const Registry& registry, AccessEvent* e) {
  e->lookups.resize(e->parties.size());
  for (size_t i = 0; i < e->parties.size(); ++i) {
    LookUpParty(registry, *e, e->parties[i].her_id, &e->lookups[i]);
  }
  e->lookups_in = &registry;
}

AuditState::AuditState(const StateOptions& options, std::shared_ptr<const Registry> registry)
    : options_(options),
      registry_(std::move(registry)),
      locks_(options.stale_lock_after),
      ownership_(options_),
      // Only acts seen before a message's receivers were known ask this.
      org_covers_([this](OrgNumber org, HerId party) {
        const CommunicationParty* cp = registry_->FindParty(party);
        if (cp == nullptr) return false;
        char digits[9];
        for (int i = 8; i >= 0; --i, org /= 10) digits[i] = static_cast<char>('0' + org % 10);
        return registry_->Covers(std::string_view(digits, sizeof digits), cp->orgnr);
      }) {
  ApplyReservations();
}

namespace {

// The actions whose route names the parties it acts for (not from custody, not none): a
// poll and the actions a lock blocks.
bool ActsForParties(Action a) { return a == Action::kPoll || IsLockBlockedAction(a); }

}  // namespace

void AuditState::ResolveCustodyParties(AccessEvent* e, ClientIdx client, const MessageCustody* m) {
  if (!e->parties_from_custody) return;
  if (m == nullptr || !m->known()) {
    ++counters_.custody_unknown;
    return;
  }
  auto add = [e](HerId p) {
    for (const PartyRef& r : e->parties) {
      if (r.her_id == p) return;
    }
    e->parties.push_back({p, PartySource::kCustody});
  };
  auto covers = [&](HerId p) {
    const CommunicationParty* cp = registry_->FindParty(p);
    return cp != nullptr && registry_->Covers(e->client.orgnr_parent, cp->orgnr);
  };
  // The parties the client's organisation covers; when it covers none of them, all of them,
  // so that acting outside the organisation stays visible. But while the receivers are not
  // all known, one of the others may be the organisation's: then the party is unknown.
  auto add_covered_or_all = [&](const std::vector<HerId>& candidates) {
    for (HerId p : candidates) {
      if (covers(p)) add(p);
    }
    if (e->parties.empty() && m->receivers_complete()) {
      for (HerId p : candidates) add(p);
    }
  };
  // Of several receivers the organisation covers (one municipality, several applications), a
  // download or read is for those the client answers for (AnswersFor). A client that answers
  // for none of them acts for all of them, and that stays visible. Not so a mark or apprec
  // whose body named no party: which receiver's copy it changed the record cannot tell, so it
  // counts for every one (a client owning one receiver must not mark another's unseen).
  auto keep_own = [&] {
    if (e->parties.size() < 2) return;
    const auto own = [&](const PartyRef& r) { return AnswersFor(r.her_id, client, *e); };
    const auto n = std::count_if(e->parties.begin(), e->parties.end(), own);
    if (n == 0 || n == static_cast<std::ptrdiff_t>(e->parties.size())) return;
    std::erase_if(e->parties, [&](const PartyRef& r) { return !own(r); });
  };
  const HerId sender = m->sender();
  switch (e->action) {
    case Action::kDownload:
      add_covered_or_all(m->receivers());
      keep_own();
      break;
    case Action::kMarkDownloaded:  // without the body's receiverHerId (MatchRoute)
    case Action::kApprecSend:      // without the body's appRecSenderHerId
      add_covered_or_all(m->receivers());
      break;
    case Action::kReadMetadata: {
      // The sender's client reads metadata for the sender (custody names it, and the call's
      // delegation covers it: a multi-tenant client acts for several organisations); a
      // receiver's client for its receivers; any other client for the sender when it covers
      // no receiver. Custody from a `message` block names no sending client: the client that
      // answers for the sender is taken for it.
      std::vector<HerId> all = m->receivers();
      const bool covers_a_receiver = std::any_of(all.begin(), all.end(), covers);
      const ClientIdx sender_client = m->sender_client();
      const bool sent_it = sender_client != kNoClient
                               ? client != kNoClient && sender_client == client
                               : sender > 0 && AnswersFor(sender, client, *e);
      if (sender > 0 && (sent_it || !covers_a_receiver) && covers(sender)) {
        add(sender);
      } else {
        if (!covers_a_receiver && sender > 0) all.insert(all.begin(), sender);
        add_covered_or_all(all);
        keep_own();
      }
      break;
    }
    case Action::kReadStatus:
    case Action::kReadApprec:
      if (sender > 0) add(sender);
      break;
    default:
      break;
  }
  if (e->parties.empty()) ++counters_.custody_unknown;
}

void AuditState::FillPartyFacts(const AccessEvent& e, ClientIdx client, const PartyLookup* lookup,
                                PartyFacts* f) {
  const HerId p = f->her_id;
  PartyLookup found;
  if (lookup == nullptr) {
    LookUpParty(*registry_, e, p, &found);
    lookup = &found;
  }
  f->party = lookup->party;
  f->org_covered = lookup->org_covered;
  f->in_herid_claim = lookup->in_herid_claim;
  if (const Lock* l = locks_.Find(p)) {
    f->lock_holder = clients_.Name(l->holder);
    f->lock_since = l->since;
    f->lock_holder_last_activity = l->holder_last_activity;
    f->lock_denied_others = l->denied_others;
    f->owner = f->lock_holder;
    f->owner_source = "lock";
  }
  if (const std::string* declared = lookup->declared_owner) {
    f->declared_owner = *declared;
    if (f->owner.empty()) {
      f->owner = f->declared_owner;
      f->owner_source = "declared";
    }
  }
  const PartyStats* stats = ownership_.Find(p);  // not changed while the facts are filled
  if (const ClientIdx learned = ownership_.LearnedOwner(stats, e.time); learned != kNoClient) {
    f->learned_owner = clients_.Name(learned);
    if (f->owner.empty()) {
      f->owner = f->learned_owner;
      f->owner_source = "learned";
    }
  }
  if (f->owner.empty()) ++counters_.no_owner;
  if (e.action == Action::kConfigDelete) {
    f->lock_op = false;
  } else if (e.action == Action::kConfigWrite) {
    for (const MshConfiguration& c : e.configurations) {
      if (c.her_id == p && c.client_locked) f->lock_op = *c.client_locked;
    }
  }
  // Windowed statistics as they will be once this call is counted.
  const bool success = e.Succeeded();
  f->pair_new = success && !ownership_.PairSeen(client, p);
  // Parties earlier in the same call count too: a poll for 20 new parties is a sweep.
  if (f->pair_new) ++new_pairs_in_call_;
  f->client_new_parties = ownership_.NewPartiesInWindow(client, e.time) + new_pairs_in_call_;
  // An owner action counts for sharing when the party was unlocked ("an unlocked party gets
  // owner actions from 2 or more clients") or made by its lock holder, the party's rightful
  // user: another client's action on a party locked to someone else does not (the lock rules
  // see to it), so it neither hides that client as new once the lock is gone, nor makes the
  // holder look new then.
  const bool counts = success && IsOwnerAction(e.action) &&
                      (f->lock_holder.empty() || f->lock_holder == e.client.client_id);
  const bool active = ownership_.ActiveInWindow(stats, client, e.time);
  f->client_new_on_party = counts && !active;
  f->party_clients = ownership_.ClientsInWindow(stats, e.time) + (f->client_new_on_party ? 1 : 0);
}

void AuditState::FillMessageFacts(const MessageCustody* m, ClientIdx client, PartyFacts* f) {
  f->has_message = true;
  if (m == nullptr) return;
  f->custody_known = m->known();
  f->is_apprec = m->is_apprec();
  f->receiver_count = static_cast<uint32_t>(m->receiver_count());
  if (const ClientIdx sc = m->sender_client(); sc != kNoClient)
    f->sender_client = clients_.Name(sc);
  f->sender_her_id = m->sender();
  if (!f->has_party) return;
  const HerId p = f->her_id;
  f->is_receiver = m->IsReceiver(p);
  f->receivers_complete = m->receivers_complete();
  const OrgCovers& covers = org_covers_;
  const EventTime t = f->event->time;
  const edi::OwnerOf owner_of = [this, t](ClientIdx c, HerId q, EventTime act_time) {
    return OwnerOf(q, c, act_time, t);
  };
  f->downloaded_by_client = m->Did(CustodyActKind::kDownload, p, client, covers, owner_of);
  ClientIdx other = kNoClient;
  f->downloaded_by_other =
      m->DidOther(CustodyActKind::kDownload, p, client, &other, covers, owner_of);
  if (f->downloaded_by_other) f->other_downloader = clients_.Name(other);
  f->marked_by_other = m->DidOther(CustodyActKind::kMarkDownloaded, p, client, nullptr, covers);
  f->apprec_by_other = m->DidOther(CustodyActKind::kApprec, p, client, nullptr, covers);
}

std::string_view AuditState::NameOf(std::string_view client_id) const {
  if (const ClientInfo* ci = registry_->FindClient(client_id); ci && !ci->client_name.empty()) {
    return ci->client_name;
  }
  const ClientIdx idx = clients_.Find(client_id);
  return idx != kNoClient && idx < token_names_.size() ? std::string_view(token_names_[idx])
                                                       : std::string_view();
}

void AuditState::Observe(AccessEvent* e, std::vector<PartyFacts>* facts) {
  ++counters_.events;
  if (e->time <= clock_limit_) {
    // The learning period starts with the first record; one from earlier moves it back (files
    // merged late), but not by over a day at once (one dated years back is a clock fault).
    if (first_time_ == 0 || (e->time < first_time_ && first_time_ - e->time <= kMillisPerDay)) {
      first_time_ = e->time;
    } else if (e->time > max_time_ + kLearningRestartGap &&
               max_time_ - first_time_ < options_.learning_period) {
      // A jump of over a year while still learning: what came before was a clock fault or a
      // stray record (one dated 2000 before the log's own first), not traffic to learn from;
      // learning starts again here. (A quiet log, a test's sparse records, jump less.)
      first_before_restart_ = first_time_;
      first_time_ = e->time;
    } else if (first_before_restart_ != 0 && e->time < first_time_ - kMillisPerDay &&
               e->time >= first_before_restart_) {
      // Records go on from before the jump: the jump was the stray record, not the start.
      first_time_ = first_before_restart_;
      first_before_restart_ = 0;
    }
    max_time_ = std::max(max_time_, e->time);
  }
  // As of the call's own event time: a call from inside the learning period that arrives after
  // later ones (partitions merged late, files out of order) is still inside it.
  const bool learning_complete = e->time - first_time_ >= options_.learning_period;
  // Stale locks are found as of the newest event time.
  const bool learning_complete_now = max_time_ - first_time_ >= options_.learning_period;
  ActivateReservations(max_time_);

  // Locks whose holder went quiet for too long, as of the newest event time.
  std::vector<HerId> stale;
  locks_.CollectStale(max_time_, &stale);
  for (HerId p : stale) {
    const Lock* l = locks_.Find(p);
    PartyFacts& f = facts->emplace_back();  // filled in place
    f.trigger = Trigger::kLockInactive;
    f.names = this;
    f.event = e;
    f.client_id = clients_.Name(l->holder);
    f.client_name = NameOf(f.client_id);
    f.learning_complete = learning_complete_now;
    f.has_party = true;
    f.her_id = p;
    FillPartyFacts(*e, l->holder, nullptr, &f);
    dirty_locks_.insert(p);
    ++counters_.stale_locks;
  }

  const ClientIdx client = clients_.Intern(e->client.client_id);
  if (!fresh_reservations_.empty()) UndoFreshReservations(*e, client);
  NoteTokenName(client, e->client.client_name);
  if (e->client.her_id_claim && *e->client.her_id_claim != "0") {
    NoteClaim(client, *e->client.her_id_claim, e->time);
  } else if (client < claim_history_.size() && !claim_history_[client].empty()) {
    NoteClaim(client, std::string(), e->time);  // a call without a list: judged by the rest
  }
  MessageKey key;
  const bool has_key = !e->message_id.empty() && MessageKey::Parse(e->message_id, &key);
  MessageCustody* m = nullptr;
  if (has_key) {
    m = custody_.Find(key);
    // The gateway's own metadata: custody is known from here on. A block naming another
    // message than the call's says nothing of this one's.
    MessageKey block_key;
    if (e->message && MessageKey::Parse(e->message->id, &block_key) && block_key == key) {
      m = &custody_.Touch(key, StateTime(*e));
      custody_.Learn(*m, kNoClient, e->message->sender_her_id, e->message->receiver_her_ids,
                     e->message->receivers_listed, e->message->is_apprec);
    } else if (e->message) {
      ++counters_.message_blocks_ignored;
    }
  }
  ResolveCustodyParties(e, client, m);
  if (e->parties.empty() && !e->parties_from_custody && ActsForParties(e->action)) {
    ++counters_.no_party;  // a poll without HerIds, a send without its sender...
  }
  new_pairs_in_call_ = 0;

  const size_t n = std::max<size_t>(e->parties.size(), 1);
  // The lookups the decode step did, when from this registry (custody's parties have none).
  const size_t looked_up = e->lookups_in == registry_.get() ? e->lookups.size() : 0;
  for (size_t i = 0; i < n; ++i) {
    PartyFacts& f = facts->emplace_back();  // filled in place
    f.names = this;
    f.event = e;
    f.client_id = e->client.client_id;
    f.client_name = e->client.client_name;
    f.learning_complete = learning_complete;
    if (i < e->parties.size()) {
      f.has_party = true;
      f.her_id = e->parties[i].her_id;
      f.source = e->parties[i].source;
      FillPartyFacts(*e, client, i < looked_up ? &e->lookups[i] : nullptr, &f);
    }
    if (has_key) FillMessageFacts(m, client, &f);
  }
  Apply(*e, client, has_key ? &key : nullptr);
  MaybeExpire();
}

void AuditState::NoteTokenName(ClientIdx client, std::string_view name) {
  if (client >= token_names_.size()) token_names_.resize(client + 1);
  if (token_names_[client].empty() && !name.empty()) token_names_[client] = name;
}

void AuditState::ApplyConfiguration(const AccessEvent& e, ClientIdx client) {
  if (e.action == Action::kConfigDelete) {
    for (const PartyRef& p : e.parties) {
      if (locks_.Release(p.her_id)) ++counters_.locks_released;
      dirty_locks_.insert(p.her_id);
    }
    return;
  }
  for (const MshConfiguration& c : e.configurations) {
    if (!c.client_locked) continue;
    if (*c.client_locked) {
      locks_.Acquire(c.her_id, client, StateTime(e));
      ++counters_.locks_taken;
    } else if (locks_.Release(c.her_id)) {
      ++counters_.locks_released;
    }
    dirty_locks_.insert(c.her_id);
  }
}

void AuditState::Apply(const AccessEvent& e, ClientIdx client, const MessageKey* key) {
  const bool success = e.Succeeded();
  const EventTime t = StateTime(e);
  // Which parties were locked to another client when the call came (the call may lock or
  // unlock them).
  locked_to_other_.assign(e.parties.size(), false);
  for (size_t i = 0; i < e.parties.size(); ++i) {
    const HerId p = e.parties[i].her_id;
    if (const Lock* l = locks_.Find(p)) {
      locked_to_other_[i] = l->holder != client;
      locks_.OnCall(p, client, e.Denied(), t);
      dirty_locks_.insert(p);
    }
  }
  if (!success) return;
  if (e.action == Action::kConfigWrite || e.action == Action::kConfigDelete) {
    ApplyConfiguration(e, client);
  }
  const bool owner_action = IsOwnerAction(e.action);
  for (size_t i = 0; i < e.parties.size(); ++i) {
    const PartyRef& p = e.parties[i];
    if (ownership_.RecordSuccess(client, p.her_id, owner_action, t, !locked_to_other_[i])) {
      new_pairs_.emplace_back(client, p.her_id);
      dirty_sweeps_.insert(client);
    }
    dirty_parties_.insert(p.her_id);
  }
  // Custody.
  for (const MessageInfo& polled : e.polled) {
    MessageKey pk;
    if (!MessageKey::Parse(polled.id, &pk)) continue;
    MessageCustody& pm = custody_.Touch(pk, t);
    custody_.Learn(pm, kNoClient, polled.sender_her_id, polled.receiver_her_ids,
                   polled.receivers_listed, polled.is_apprec);
  }
  if (key == nullptr) return;
  CustodyActKind kind;
  switch (e.action) {
    case Action::kSend: {
      MessageCustody& sm = custody_.Touch(*key, t);
      // A v2 send may name only its sender (the gateway reads the rest from the document).
      custody_.Learn(sm, client, e.sender_her_id, e.receiver_her_ids, !e.receiver_her_ids.empty(),
                     false);
      return;
    }
    case Action::kDownload:
      kind = CustodyActKind::kDownload;
      break;
    case Action::kMarkDownloaded:
      kind = CustodyActKind::kMarkDownloaded;
      break;
    case Action::kApprecSend:
      kind = CustodyActKind::kApprec;
      break;
    default:
      custody_.Refresh(*key, t);
      return;
  }
  MessageCustody& mm = custody_.Touch(*key, t);
  // A download acts for the receivers its organisation covers: while they are not all known,
  // it is kept with the organisation too, to count for those that become known. When the
  // client answered for a receiver known then, it downloaded its own copy: that act does not
  // count for a receiver named later that is another client's (one municipality, several
  // applications, each told of its own receiver by its own poll).
  if (e.parties.empty() || (kind == CustodyActKind::kDownload && !mm.receivers_complete())) {
    // Receiver unknown: the organisation tells later which receivers the call was for.
    const bool own_only = kind == CustodyActKind::kDownload &&
                          std::any_of(e.parties.begin(), e.parties.end(), [&](const PartyRef& r) {
                            return AnswersFor(r.her_id, client, e);
                          });
    custody_.AddAct(mm, {client, kind, 0, t, ParseOrgNumber(e.client.orgnr_parent), own_only});
  }
  for (const PartyRef& p : e.parties) custody_.AddAct(mm, {client, kind, p.her_id, t});
}

void AuditState::MaybeExpire() {
  // Once per hour of event time is plenty for a TTL measured in days.
  if (max_time_ - last_expiry_ < kMillisPerHour) return;
  last_expiry_ = max_time_;
  const EventTime cutoff = max_time_ - options_.ttl;
  counters_.expired_messages += custody_.Expire(cutoff);
  std::vector<HerId> parties;
  ownership_.Expire(cutoff, &parties);
  counters_.expired_parties += parties.size();
  for (HerId p : parties) dirty_parties_.insert(p);
}

}  // namespace edi
