"""Incidents of every rule id of shared/DETECTIONS.md, injected into the traffic; their ground
truth comes from the rule model (rule_model.py).

Incidents is a mixin of Generator (edi_gen.py)."""

from model import (MS_D, MS_H, QUARANTINE, RULES, SHARED_WINDOW, SWEEP_WINDOW, P_DISGUISE)

from paths import disguise_path, disguise_query
from posture_incidents import PostureIncidents
from rule_model import RuleModel
from shared_incidents import SharedIncidents
from timed_incidents import TimedIncidents


class Incidents(TimedIncidents, SharedIncidents, PostureIncidents, RuleModel):
    def start_incident(self):
        """Round robin over the rule ids so that each gets its share; a rule that finds no
        target right now is tried again first at the next few occasions."""
        rng = self.rng
        retry = self.retry
        for i, (rule, left) in enumerate(retry):
            if self.inject(rule):
                del retry[i]
                return
            if left <= 1:
                del retry[i]
            else:
                retry[i] = (rule, left - 1)
            break
        for _ in range(len(RULES) + 1):
            if not self.cycle:
                self.cycle = [r for r in RULES if r != "edi.stale-reservation"] + [QUARANTINE]
                rng.shuffle(self.cycle)
            rule = self.cycle.pop()
            if self.inject(rule):
                return
            if all(r != rule for r, _ in retry):
                retry.append((rule, 5))
        self.send_random()

    def inject(self, rule):
        if rule in ("edi.foreign-download", "edi.foreign-acknowledgement"):
            # some on a message to several parties of one unit, some foreign downloads of a
            # message sent before the log (shared_incidents.py)
            x = self.rng.random()
            if rule == "edi.foreign-download" and x < 0.25 and self.inc_old_download():
                return True
            if x < 0.6 and len(self.want_shared) < 4:
                self.want_shared.append(rule)
                return True
        if rule in ("edi.foreign-download", "edi.foreign-acknowledgement", "edi.foreign-apprec",
                    "edi.acknowledged-without-download", "edi.apprec-sender-not-receiver"):
            if len(self.want) >= 8:
                return False
            self.want.append(rule)
            return True
        fn = {
            QUARANTINE: self.inc_quarantine,
            "edi.org-membership": self.inc_org_membership,
            "edi.reserved-party-foreign-client": self.inc_reserved,
            "edi.herid-claim-scope": self.inc_claim_scope,
            "edi.foreign-send": self.inc_foreign_send,
            "edi.foreign-msh-change": self.inc_msh_change,
            "edi.reservation-takeover": self.inc_takeover,
            "edi.shared-party": self.inc_shared,
            "edi.herid-claim-whole-org": self.inc_whole_org,
            "edi.unknown-party": self.inc_unknown_party,
            "edi.unknown-route": self.inc_unknown_route,
            "edi.new-client-for-party": self.inc_new_client,
            "edi.party-sweep": self.inc_sweep,
        }[rule]
        return fn()

    def sweep_room(self, c, limit):
        news = c.news
        while news and news[0] <= self.t - SWEEP_WINDOW:
            news.popleft()
        return len(news) <= limit

    def actors(self, p, exclude=(), v3=True, lock_ok=False):
        """Clients whose token covers p's top-level unit, other than p's own and the lock holder;
        each pair (client, party) is used by at most one incident."""
        out = []
        lk = self.locks.get(p.her)
        for c, block in self.tenants_by_top.get(p.top, ()):
            if c is p.client or c in exclude or c.sweeping:
                continue
            if v3 and c.v2:
                continue
            if lk is not None and lk.holder is c and not lock_ok:
                continue
            if (c.idx, p.her) in self.seen_pairs or not self.sweep_room(c, 5):
                continue
            out.append((c, block))
        self.rng.shuffle(out)
        return out

    def pick(self, pred, tries=60):
        rng = self.rng
        recv = self.recv
        if not recv:
            return None
        for _ in range(tries):
            p = recv[int(rng.random() * len(recv))]
            if not p.orphan and pred(p):
                return p
        return None

    def pick_acted(self, pred, v3=True):
        """A party for which pred holds and another client may act (actors), with the first such
        client and its token block; None when there is none."""
        p = self.pick(lambda q: pred(q) and self.actors(q, v3=v3))
        if p is None:
            return None
        acts = self.actors(p, v3=v3)
        if not acts:
            return None
        return (p,) + acts[0]

    def declared_unlocked(self, p):
        return p.her in self.declared and p.her not in self.locks and \
            self.owner_last(p) >= self.t - SHARED_WINDOW + MS_D

    def plan_chain(self, it):
        """Turns one delivery into the chain incident at the head of self.want."""
        rule = self.want[0]
        p = self.parties[it.her]
        c = it.chunk.client
        if c.v2 or p.cat == "stale":
            return
        if rule in ("edi.foreign-download", "edi.foreign-acknowledgement", "edi.foreign-apprec"):
            if not self.declared_unlocked(p):
                return
            # A mark or an apprec may come from a client still on API v2, which names the party
            # in the path (PUT /Messages/{id}/read/{herId}, POST /Messages/{id}/apprec/{herId});
            # a v2 download names none.
            acts = self.actors(p, v3=rule == "edi.foreign-download" or self.rng.random() >= 0.3)
            if not acts:
                return
            it.actor = acts[0]
            acts[0][0].busy += 1
            self.seen_pairs.add((acts[0][0].idx, p.her))
        elif rule == "edi.apprec-sender-not-receiver":
            qs = [q for q in c.parties if q.top == p.top and q is not p and q.intro and not q.orphan]
            if not qs:
                return
            it.actor = qs[self.rng.randrange(len(qs))]
        it.plan = rule
        self.want.popleft()
        self.custody[it.msg] = {"recv": [it.her], "dl": {}}

    def chain_foreign(self, it):
        p = self.parties[it.her]
        F, block = it.actor
        msg = it.msg
        top = it.chunk.top
        # msg_path varies the case of the path and of the id, as clients do; disguised() writes
        # some paths another way the server routes the same (paths.py).
        if it.plan == "edi.foreign-download":
            rid = self.record("3", "GET", self.disguised(F, msg, "/business-document"), 200, block,
                              body=self.mblock(it.block), dur=self.dur(30, 900))
            self.judge_and_record(rid, F, top, "3", "download", [p.her], 200, it.plan, msg=msg)
        elif it.plan == "edi.foreign-acknowledgement":
            if F.v2:
                rid = self.record("2", "PUT", self.disguised(F, msg, "/read/%d" % p.her), 204,
                                  block, body=self.mblock(it.block))
            else:
                rid = self.record("3", "PUT", self.disguised(F, msg, "/downloaded"), 204, block,
                                  body=',"request":{"receiverHerId":%d}%s' % (
                                      p.her, self.mblock(it.block)))
            self.judge_and_record(rid, F, top, "2" if F.v2 else "3", "mark_downloaded", [p.her],
                                  204, it.plan, msg=msg)
        elif it.plan == "edi.foreign-apprec":
            ap = self.uuid()
            if F.v2:
                rid = self.record("2", "POST", self.disguised(F, msg, "/apprec/%d" % p.her), 201,
                                  block, body=',"request":{"appRecStatus":"Ok"},"response":{"id":"%s"}%s' % (
                                      ap, self.mblock(it.block)))
            else:
                rid = self.record("3", "POST", self.disguised(F, msg, "/apprec"), 201, block,
                                  body=',"request":{"appRecSenderHerId":%d,"appRecStatus":"Ok"},"response":{"id":"%s"}%s' % (
                                      p.her, ap, self.mblock(it.block)))
            self.judge_and_record(rid, F, top, "2" if F.v2 else "3", "apprec_send", [p.her], 201,
                                  it.plan, msg=msg)
            self.apprec_back(ap, it.sender, p.her)
        F.busy -= 1
        self.custody.pop(msg, None)

    def on_call(self, obj, att):
        fn, arg = obj
        fn(arg)

    def disguised(self, client, msg, tail):
        path = self.msg_path(client, msg, tail)
        return disguise_path(self.rng, path) if self.rng.random() < P_DISGUISE else path

    def poll_as(self, F, block, hers, status=200, api="3"):
        if self.rng.random() < P_DISGUISE:
            q = disguise_query(self.rng, "HerIds" if api == "3" else "ReceiverHerIds", hers)
        elif api == "3":
            q = "&".join("HerIds=%d" % h for h in hers)
        else:
            q = "&".join("ReceiverHerIds=%d" % h for h in hers)
        if api == "3":
            body = ',"response":{"messages":[]}' if 200 <= status < 300 else ""
            return self.record("3", "GET", "/notifications", status, block, query=q, body=body,
                               dur=self.dur(10, 200))
        body = ',"response":{"messages":[]}' if 200 <= status < 300 else ""
        return self.record("2", "GET", "/Messages", status, block, query=q, body=body)

    def inc_org_membership(self):
        rng = self.rng
        ok = rng.random() < 0.4
        status = 200 if ok else 403
        if rng.random() < 0.3:
            # a multi-tenant client uses one tenant's token for another tenant's party
            for c in self.clients:
                if c.tenancy != "multi-tenant" or c.sweeping or len(c.tenants) < 2:
                    continue
                p = self.pick(lambda q: q.client is c and q.intro)
                if p is None:
                    continue
                tops = [tp for tp in c.tenants if tp != p.top]
                top = tops[rng.randrange(len(tops))]
                key = ("edi.org-membership", c.idx, p.her, None)
                if key in self.gt_keys:
                    continue
                rid = self.poll_as(c, c.tenants[top][0], [p.her], status)
                self.judge_and_record(rid, c, top, "3", "poll", [p.her], status,
                                      "edi.org-membership")
                return True
        p = self.pick(lambda q: q.her in self.locks or q.her in self.declared)
        if p is None:
            return False
        cands = [c for c in self.clients if not c.v2 and not c.sweeping and c is not p.client
                 and (c.idx, p.her) not in self.seen_pairs and self.sweep_room(c, 5)
                 and any(tp != p.top for tp in c.tenants)]
        if not cands:
            return False
        F = cands[rng.randrange(len(cands))]
        tops = sorted(tp for tp in F.tenants if tp != p.top)
        top = tops[rng.randrange(len(tops))]
        if rng.random() < 0.5:
            rid = self.poll_as(F, F.tenants[top][0], [p.her], status)
            self.judge_and_record(rid, F, top, "3", "poll", [p.her], status, "edi.org-membership")
        else:
            m = self.uuid() if ok else None
            rid = self.record("3", "POST", "/messages", 403 if not ok else 201, F.tenants[top][0],
                              body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]}%s' % (
                                  p.her, self.recv[0].her,
                                  ',"response":{"id":"%s"}' % m if ok else ""))
            self.judge_and_record(rid, F, top, "3", "send", [p.her], 201 if ok else 403,
                                  "edi.org-membership", created=m)
        return True

    def locked_party_with_actor(self, locked):
        """A random party of `locked` (HER-Ids) with a foreign client able to act for it, as
        (party, client, token block), or None after 20 tries."""
        if not locked:
            return None
        rng = self.rng
        for _ in range(20):
            p = self.parties[locked[rng.randrange(len(locked))]]
            acts = self.actors(p)
            if acts:
                F, block = acts[0]
                return p, F, block
        return None

    def inc_reserved(self):
        rng = self.rng
        locked = sorted(h for h, lk in self.locks.items() if not lk.watched and
                        (self.parties[h].intro or self.parties[h].client is None))
        found = self.locked_party_with_actor(locked)
        if found is None:
            return False
        p, F, block = found
        x = rng.random()
        if x < 0.45:
            rid = self.poll_as(F, block, [p.her])
            self.judge_and_record(rid, F, p.top, "3", "poll", [p.her], 200,
                                  "edi.reserved-party-foreign-client")
        elif x < 0.9:
            if rng.random() < 0.5:
                rid = self.record("3", "POST", "/messages", 423, block,
                                  body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]}' % (
                                      p.her, self.recv[rng.randrange(len(self.recv))].her))
                action = "send"
            else:
                rid = self.record("3", "PUT", "/mshconfigurations", 423, block,
                                  body=',"request":{"configurations":[{"herId":%d,"receiveNotificationChannel":"Poll"}]}' % p.her)
                action = "config_write"
            self.judge_and_record(rid, F, p.top, "3", action, [p.her], 423,
                                  "edi.reserved-party-foreign-client")
        else:
            r = self.pick(lambda q: q is not p)
            m = self.uuid()
            rid = self.record("3", "POST", "/messages", 201, block,
                              body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]},"response":{"id":"%s"}' % (
                                  p.her, r.her, m))
            self.judge_and_record(rid, F, p.top, "3", "send", [p.her], 201,
                                  "edi.reserved-party-foreign-client", created=m)
            if r.client is not None and r.chunk.active and not r.orphan:
                self.deliver(r, m, p.her, False)
        return True

    def inc_claim_scope(self):
        rng = self.rng
        lists = [c for c in self.clients if c.claim not in (None, "0") and not c.sweeping
                 and self.sweep_room(c, 5)]
        if not lists:
            return False
        L = lists[rng.randrange(len(lists))]
        top = next(iter(L.tenants))
        claimed = set(L.claim.split("-"))
        p = self.pick(lambda q: q.top == top and str(q.her) not in claimed and q.cat != "stale"
                      and q.her not in self.locks and (L.idx, q.her) not in self.seen_pairs)
        if p is None:
            return False
        status = 200 if rng.random() < 0.6 else 403
        rid = self.poll_as(L, L.tenants[top][0], [p.her], status, api="2")
        self.judge_and_record(rid, L, top, "2", "poll", [p.her], status, "edi.herid-claim-scope")
        return True

    def inc_foreign_send(self):
        found = self.pick_acted(self.declared_unlocked)
        if found is None:
            return False
        p, F, block = found
        r = self.pick(lambda q: q is not p and q.top != p.top)
        if r is None:
            return False
        m = self.uuid()
        rid = self.record("3", "POST", "/messages", 201, block,
                          body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]},"response":{"id":"%s"}' % (
                              p.her, r.her, m))
        self.judge_and_record(rid, F, p.top, "3", "send", [p.her], 201, "edi.foreign-send",
                              created=m)
        if r.client is not None and r.chunk.active and not r.orphan:
            self.deliver(r, m, p.her, False)
        return True

    def inc_msh_change(self):
        found = self.pick_acted(self.declared_unlocked, v3=self.rng.random() >= 0.25)
        if found is None:
            return False
        p, F, block = found
        x = self.rng.random()
        if F.v2:
            # API 2-vNext: the configuration under mshConfigurations
            rid = self.record("2-vNext", "POST", "/MshConfiguration", 200, block,
                              body=',"request":{"mshConfigurations":[{"herId":%d,"receiveNotificationChannel":"Poll","receiveRefusedMessageNotices":true}]}' % p.her)
            self.judge_and_record(rid, F, p.top, "2-vNext", "config_write", [p.her], 200,
                                  "edi.foreign-msh-change")
        elif x < 0.7:
            rid = self.record("3", "PUT", "/mshconfigurations", 204, block,
                              body=',"request":{"configurations":[{"herId":%d,"receiveNotificationChannel":"None","receiveRefusedMessageNotices":false}]}' % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_write", [p.her], 204,
                                  "edi.foreign-msh-change")
        else:
            rid = self.record("3", "DELETE", "/mshconfigurations", 204, block,
                              query="HerIds=%d" % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_delete", [p.her], 204,
                                  "edi.foreign-msh-change")
        return True

    def inc_takeover(self):
        rng = self.rng
        locked = sorted(h for h, lk in self.locks.items() if not lk.watched and
                        self.parties[h].client is lk.holder and self.parties[h].intro and
                        not self.parties[h].shared)
        found = self.locked_party_with_actor(locked)
        if found is None:
            return False
        p, F, block = found
        x = rng.random()
        if x < 0.45:
            rid = self.record("3", "PUT", "/mshconfigurations", 204, block,
                              body=',"request":{"configurations":[{"herId":%d,"clientLocked":true,"receiveNotificationChannel":"Poll"}]}' % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_write", [p.her], 204,
                                  "edi.reservation-takeover", lock_write=True)
            # the previous holder is locked out and stops acting for the party; the new holder
            # never calls for it again, so the lock turns stale 30 days later
            self.orphan(p)
            self.watch(p.her, F, self.t)
        elif x < 0.75:
            rid = self.record("3", "PUT", "/mshconfigurations", 423, block,
                              body=',"request":{"configurations":[{"herId":%d,"clientLocked":true}]}' % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_write", [p.her], 423,
                                  "edi.reservation-takeover", lock_write=True)
        else:
            rid = self.record("3", "DELETE", "/mshconfigurations", 204, block,
                              query="HerIds=%d" % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_delete", [p.her], 204,
                                  "edi.reservation-takeover")
        return True

    def orphan(self, p):
        p.orphan = True
        p.chunk.rebuild()
        if p in self.recv:
            self.recv.remove(p)
            self.recv_by_top[p.top].remove(p)

    def inc_shared(self):
        found = self.pick_acted(lambda q: q.her not in self.locks and q.cat != "stale" and
                                self.owner_last(q) >= self.t - SHARED_WINDOW + MS_D)
        if found is None:
            return False
        p, F, block = found
        rid = self.poll_as(F, block, [p.her])
        self.judge_and_record(rid, F, p.top, "3", "poll", [p.her], 200, "edi.shared-party")
        return True

    def inc_new_client(self):
        if self.t < self.learn_end + MS_H:
            return False
        window = self.t - SHARED_WINDOW - MS_D

        def quiet_dormant(q):
            if q.cat != "dormant" or q.her in self.locks:
                return False
            return all(tc < window for tc in self.foreign.get(q.her, {}).values())
        pool = [q for q in self.parties.values() if quiet_dormant(q)]
        rng = self.rng
        acts = None
        for _ in range(20 if pool else 0):
            p = pool[rng.randrange(len(pool))]
            acts = self.actors(p)
            if acts:
                break
        if not acts:
            # no quiet party left (small world, many incidents): a used one, with its side effects
            p = self.pick(lambda q: q.cat != "stale" and self.actors(q))
            if p is None:
                return False
            acts = self.actors(p)
        F, block = acts[0]
        rid = self.poll_as(F, block, [p.her])
        self.judge_and_record(rid, F, p.top, "3", "poll", [p.her], 200, "edi.new-client-for-party")
        return True
