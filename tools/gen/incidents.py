"""Incidents of every rule id of shared/DETECTIONS.md, injected into the traffic, and the rule
model that writes their ground truth.

judge() is a plain reading of the rules, evaluated on the state before the call. It runs for
injected calls only: benign traffic is built to raise nothing (posture findings of API v2
clients with herid claim "0" aside), and tools/gen/check_truth.py verifies that against the
files. Every injected call checks that its intended rule is among the findings.

Incidents is a mixin of Generator (edi_gen.py)."""

import heapq
import json

from model import (EV_CALL, LOCK_BLOCKED, MALFORMED, MS_D, MS_H, MS_S,
                   OWNER_ACTIONS, QUARANTINE, REPEAT_WINDOW, RULES, SHARED_WINDOW, STALE_AFTER,
                   SWEEP_THRESHOLD, SWEEP_WINDOW, UNKNOWN_PATHS, Lock, fmt_time)


class Incidents:
    # ------------------------------------------------------------------ the rule model
    def owner(self, her):
        lk = self.locks.get(her)
        if lk is not None:
            return lk.holder
        d = self.declared.get(her)
        if d is not None:
            return d
        p = self.parties.get(her)
        if p is not None and p.client is not None and p.intro and not p.orphan:
            return p.client  # learned; incidents that depend on it pick certain owners only
        return None

    def owner_last(self, p):
        if p.client is None or not p.intro or p.orphan:
            return -1
        return max(p.last_act, p.chunk.last)

    def judge(self, F, top, api, action, her, status, msg=None, lock_write=False, claim=None):
        """The findings the rules of shared/DETECTIONS.md raise for one (call, party), evaluated
        against the state before the call; then applies the call to that state."""
        ok = 200 <= status < 300
        denied = status in (401, 403, 423)
        p = self.parties.get(her)
        lk = self.locks.get(her)
        cu = self.custody.get(msg) if msg else None
        claim = claim if claim is not None else F.claim
        out, takeover = self.authorisation(F, top, api, action, her, p, lk, cu, ok, denied,
                                           lock_write, claim)
        if ok:
            out += self.interference(F, action, her, cu, takeover)
            if p is not None:
                out += self.ownership(F, action, her, p, lk)
            if cu is not None and action == "download":
                cu["dl"].setdefault(her, set()).add(F.idx)
            if action == "config_delete" and lk is not None:
                del self.locks[her]
            elif action == "config_write" and lock_write and (lk is None or lk.holder is not F):
                self.locks[her] = Lock(F, self.t)
        self.seen_pairs.add((F.idx, her))
        return out

    def authorisation(self, F, top, api, action, her, p, lk, cu, ok, denied, lock_write, claim):
        """The rules of "Authorisation that EDI 2.0 itself should enforce", the posture rules
        that look at one call, and the takeover; also for denied calls."""
        out = []
        if p is None:
            out.append(("edi.unknown-party", "medium"))
        elif p.top != top and (ok or denied):
            out.append(("edi.org-membership", "critical" if ok else "medium"))
        foreign_lock = lk is not None and lk.holder is not F
        if foreign_lock:
            if ok:
                out.append(("edi.reserved-party-foreign-client",
                            "critical" if action in LOCK_BLOCKED else "high"))
            elif denied:
                out.append(("edi.reserved-party-foreign-client", "low"))
                lk.denied = True
        if claim is not None and claim != "0" and (ok or denied):
            if str(her) not in claim.split("-"):
                out.append(("edi.herid-claim-scope", "critical" if ok else "low"))
        if api == "2" and claim == "0":
            out.append(("edi.herid-claim-whole-org", "info"))
        if action == "apprec_send" and cu is not None and her not in cu["recv"] and (ok or denied):
            out.append(("edi.apprec-sender-not-receiver", "high" if ok else "low"))
        takeover = action in ("config_write", "config_delete") and foreign_lock and \
            (lock_write or action == "config_delete")
        if takeover and (ok or denied):
            out.append(("edi.reservation-takeover", "critical" if ok else "medium"))
        return out, takeover

    def interference(self, F, action, her, cu, takeover):
        """The rules of "Interference between clients of the same organisation" but
        shared-party, for a call that succeeded."""
        out = []
        own = self.owner(her)
        foreign_owner = own is not None and own is not F
        dl = cu["dl"].get(her, set()) if cu is not None else set()
        if action == "send" and foreign_owner:
            out.append(("edi.foreign-send", "high"))
        elif action == "download" and (foreign_owner or (dl - {F.idx})):
            out.append(("edi.foreign-download", "high"))
        elif action == "mark_downloaded":
            if (dl and F.idx not in dl) or foreign_owner:
                out.append(("edi.foreign-acknowledgement", "high"))
            if cu is not None and not dl:
                out.append(("edi.acknowledged-without-download", "critical"))
        elif action == "apprec_send" and ((dl and F.idx not in dl) or foreign_owner):
            out.append(("edi.foreign-apprec", "high"))
        elif action in ("config_write", "config_delete") and foreign_owner and not takeover:
            out.append(("edi.foreign-msh-change", "high"))
        return out

    def ownership(self, F, action, her, p, lk):
        """shared-party, new-client-for-party and party-sweep for a call that succeeded, and
        the bookkeeping they need (who acted when, which parties are known to a client)."""
        out = []
        t = self.t
        benign = p.client is F and p.intro
        key = (F.idx, her)
        if action in OWNER_ACTIONS:
            if lk is None:
                window = t - SHARED_WINDOW
                others = set()
                if p.client is not None and p.client is not F and self.owner_last(p) >= window:
                    others.add(p.client.idx)
                fd = self.foreign.get(her, {})
                for ci, tc in fd.items():
                    if ci != F.idx and tc >= window:
                        others.add(ci)
                f_in = (benign and self.owner_last(p) >= window) or fd.get(F.idx, -1) >= window
                if not f_in and others:
                    out.append(("edi.shared-party", "medium"))
            if t >= self.learn_end and not benign and key not in self.own_pairs:
                out.append(("edi.new-client-for-party", "low"))
            if not benign:
                self.own_pairs.add(key)
                self.foreign.setdefault(her, {})[F.idx] = t
        if not benign and key not in self.ok_pairs:
            self.ok_pairs.add(key)
            news = F.news
            news.append(t)
            while news and news[0] <= t - SWEEP_WINDOW:
                news.popleft()
            if len(news) == SWEEP_THRESHOLD:
                out.append(("edi.party-sweep", "high"))
            elif len(news) > SWEEP_THRESHOLD:
                raise AssertionError("party-sweep threshold crossed twice")
        return out

    def judge_and_record(self, rid, F, top, api, action, hers, status, intended, msg=None,
                         lock_write=False, claim=None):
        self.incident += 1
        inc = self.incident
        found = []
        for her in hers:
            for rule, sev in self.judge(F, top, api, action, her, status, msg, lock_write, claim):
                found.append((rule, sev, her))
        if intended not in [f[0] for f in found]:
            raise AssertionError("incident %d (%s) raises %s only" % (inc, intended, found))
        done = False
        for rule, sev, her in found:
            key = (rule, F.idx, her, msg if rule != "edi.party-sweep" else None)
            prev = self.gt_keys.get(key)
            if prev is not None and self.t - prev < 2 * REPEAT_WINDOW:
                raise AssertionError("ground truth key %r repeats within two hours" % (key,))
            self.gt_keys[key] = self.t
            kind = "incident" if rule == intended and not done else "side-effect"
            if kind == "incident":
                done = True
            self.gt(rule, sev, kind, inc, rid, F, her, msg)
        return inc

    # ------------------------------------------------------------------ incidents
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
            acts = self.actors(p)
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
        if it.plan == "edi.foreign-download":
            rid = self.record("3", "GET", "/messages/%s/business-document" % msg, 200, block,
                              dur=self.dur(30, 900))
            self.judge_and_record(rid, F, top, "3", "download", [p.her], 200, it.plan, msg=msg)
        elif it.plan == "edi.foreign-acknowledgement":
            rid = self.record("3", "PUT", "/messages/%s/downloaded" % msg, 204, block,
                              body=',"request":{"receiverHerId":%d}' % p.her)
            self.judge_and_record(rid, F, top, "3", "mark_downloaded", [p.her], 204, it.plan, msg=msg)
        elif it.plan == "edi.foreign-apprec":
            ap = self.uuid()
            rid = self.record("3", "POST", "/messages/%s/apprec" % msg, 201, block,
                              body=',"request":{"appRecSenderHerId":%d,"appRecStatus":"Ok"},"response":{"id":"%s"}' % (
                                  p.her, ap))
            self.judge_and_record(rid, F, top, "3", "apprec_send", [p.her], 201, it.plan, msg=msg)
            self.apprec_back(ap, it.sender, p.her)
        F.busy -= 1
        self.custody.pop(msg, None)

    def on_call(self, obj, att):
        fn, arg = obj
        fn(arg)

    def poll_as(self, F, block, hers, status=200, api="3"):
        if api == "3":
            q = "&".join("HerIds=%d" % h for h in hers)
            body = ',"response":{"messages":[]}' if 200 <= status < 300 else ""
            return self.record("3", "GET", "/notifications", status, block, query=q, body=body,
                               dur=self.dur(10, 200))
        q = "&".join("ReceiverHerIds=%d" % h for h in hers)
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
            rid = self.record("3", "POST", "/messages", 403 if not ok else 201, F.tenants[top][0],
                              body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]}%s' % (
                                  p.her, self.recv[0].her,
                                  ',"response":{"id":"%s"}' % self.uuid() if ok else ""))
            self.judge_and_record(rid, F, top, "3", "send", [p.her], 201 if ok else 403,
                                  "edi.org-membership")
        return True

    def inc_reserved(self):
        rng = self.rng
        locked = sorted(h for h, lk in self.locks.items() if not lk.watched and
                        (self.parties[h].intro or self.parties[h].client is None))
        if not locked:
            return False
        for _ in range(20):
            p = self.parties[locked[rng.randrange(len(locked))]]
            acts = self.actors(p)
            if acts:
                break
        else:
            return False
        F, block = acts[0]
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
                                  "edi.reserved-party-foreign-client")
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
        p = self.pick(lambda q: self.declared_unlocked(q) and self.actors(q))
        if p is None:
            return False
        acts = self.actors(p)
        if not acts:
            return False
        F, block = acts[0]
        r = self.pick(lambda q: q is not p and q.top != p.top)
        if r is None:
            return False
        m = self.uuid()
        rid = self.record("3", "POST", "/messages", 201, block,
                          body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]},"response":{"id":"%s"}' % (
                              p.her, r.her, m))
        self.judge_and_record(rid, F, p.top, "3", "send", [p.her], 201, "edi.foreign-send")
        if r.client is not None and r.chunk.active and not r.orphan:
            self.deliver(r, m, p.her, False)
        return True

    def inc_msh_change(self):
        p = self.pick(lambda q: self.declared_unlocked(q) and self.actors(q))
        if p is None:
            return False
        acts = self.actors(p)
        if not acts:
            return False
        F, block = acts[0]
        if self.rng.random() < 0.7:
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
                        self.parties[h].client is lk.holder and self.parties[h].intro)
        if not locked:
            return False
        for _ in range(20):
            p = self.parties[locked[rng.randrange(len(locked))]]
            acts = self.actors(p)
            if acts:
                break
        else:
            return False
        F, block = acts[0]
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

    def inc_shared(self):
        p = self.pick(lambda q: q.her not in self.locks and q.cat != "stale" and
                      self.owner_last(q) >= self.t - SHARED_WINDOW + MS_D and self.actors(q))
        if p is None:
            return False
        acts = self.actors(p)
        if not acts:
            return False
        F, block = acts[0]
        rid = self.poll_as(F, block, [p.her])
        self.judge_and_record(rid, F, p.top, "3", "poll", [p.her], 200, "edi.shared-party")
        return True

    def inc_whole_org(self):
        rng = self.rng
        av = [ch for ch in self.active_v3 if not ch.client.sweeping]
        if not av:
            return False
        ch = av[rng.randrange(len(av))]
        F = ch.client
        ps = [p for p in ch.parties if not p.orphan]
        if not ps:  # a client whose parties are all orphans: try another incident
            return False
        p = ps[rng.randrange(len(ps))]
        key = ("edi.herid-claim-whole-org", F.idx, p.her, None)
        if key in self.gt_keys and self.t - self.gt_keys[key] < 3 * REPEAT_WINDOW:
            return False
        # a legacy component of a v3 application still calls API v2 with a whole-org claim
        block = ch.block.replace('"tenancy"', '"herIdClaim":"0","tenancy"', 1)
        rid = self.poll_as(F, block, [p.her], api="2")
        self.judge_and_record(rid, F, ch.top, "2", "poll", [p.her], 200,
                              "edi.herid-claim-whole-org", claim="0")
        return True

    def inc_unknown_party(self):
        rng = self.rng
        av = self.active_v3
        if not av:
            return False
        ch = av[rng.randrange(len(av))]
        F = ch.client
        self.unknown_next += 1 + rng.randrange(50)
        her = self.unknown_next
        # EDI 2.0 rejects a HER-Id it does not know: no success, so no ownership side effects
        if rng.random() < 0.5:
            rid = self.poll_as(F, ch.block, [her], status=400)
            self.judge_and_record(rid, F, ch.top, "3", "poll", [her], 400, "edi.unknown-party")
        else:
            r = self.pick(lambda q: True)
            rid = self.record("3", "POST", "/messages", 400, ch.block,
                              body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]}' % (her, r.her))
            self.judge_and_record(rid, F, ch.top, "3", "send", [her], 400, "edi.unknown-party")
        return True

    def inc_unknown_route(self):
        rng = self.rng
        ac = self.active_chunks
        if not ac:
            return False
        ch = ac[rng.randrange(len(ac))]
        F = ch.client
        if self.t - self.last_route.get(F.idx, -10 * MS_H) < 3 * REPEAT_WINDOW:
            return False
        self.last_route[F.idx] = self.t
        method, path = UNKNOWN_PATHS[rng.randrange(len(UNKNOWN_PATHS))]
        path = path.replace("{id}", self.uuid())
        rid = self.record("2" if F.v2 else "3", method, path, 404 if rng.random() < 0.8 else 405,
                          ch.block)
        self.incident += 1
        self.gt("edi.unknown-route", "low", "incident", self.incident, rid, F, None, None)
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

    def inc_sweep(self):
        """One client polls exactly SWEEP_THRESHOLD parties new to it within a few minutes."""
        rng = self.rng
        cands = [c for c in self.clients if not c.v2 and not c.sweeping and c.intro_left == 0
                 and c.busy == 0 and self.sweep_room(c, 0)]
        rng.shuffle(cands)
        for F in cands:
            for top in sorted(F.tenants):
                # parties whose own client has not started yet are left alone: its first poll
                # would make them shared
                pool = [p for p in self.by_top.get(top, ()) if p.client is not F
                        and p.cat not in ("stale", "external") and not p.orphan
                        and (p.client is None or p.intro)
                        and (F.idx, p.her) not in self.seen_pairs]
                if len(pool) < SWEEP_THRESHOLD:
                    continue
                # parties nobody uses first, so the pairs other incidents need last longer
                rng.shuffle(pool)
                pool.sort(key=lambda p: p.cat != "dormant")
                targets = pool[:SWEEP_THRESHOLD]
                F.sweeping = True
                for p in targets:
                    self.seen_pairs.add((F.idx, p.her))
                groups = []
                i = 0
                while i < SWEEP_THRESHOLD - 1:
                    n = min(1 + rng.randrange(4), SWEEP_THRESHOLD - 1 - i)
                    groups.append(targets[i:i + n])
                    i += n
                groups.append(targets[SWEEP_THRESHOLD - 1:])
                t = self.t
                self.incident += 1
                for gi, g in enumerate(groups):
                    t += self.dur(5 * MS_S, 25 * MS_S)
                    self.push(t, EV_CALL, (self.sweep_step, (F, top, g, gi == len(groups) - 1,
                                                             self.incident)))
                return True
        return False

    def sweep_step(self, arg):
        F, top, g, last, inc = arg
        rid = self.poll_as(F, F.tenants[top][0], [p.her for p in g])
        for p in g:
            for rule, sev in self.judge(F, top, "3", "poll", p.her, 200):
                kind = "incident" if rule == "edi.party-sweep" else "side-effect"
                self.gt(rule, sev, kind, inc, rid, F, p.her, None)
        if last:
            F.sweeping = False

    def stale_lock(self, arg):
        her, holder = arg
        p = self.parties[her]
        block = holder.tenants[p.top][0]
        rid = self.record("3", "PUT", "/mshconfigurations", 204, block,
                          body=',"request":{"configurations":[{"herId":%d,"clientLocked":true}]}' % her)
        self.incident += 1
        for rule, sev in self.judge(holder, p.top, "3", "config_write", her, 204, lock_write=True):
            self.gt(rule, sev, "side-effect", self.incident, rid, holder, her, None)
        self.watch(her, holder, self.t)

    def stale_denied(self, arg):
        her, holder = arg
        p = self.parties[her]
        lk = self.locks.get(her)
        if lk is None or lk.holder is not holder:
            return
        for c, block in self.tenants_by_top.get(p.top, ()):
            if c is holder or c.v2:
                continue
            r = self.recv[self.rng.randrange(len(self.recv))] if self.recv else p
            rid = self.record("3", "POST", "/messages", 423, block,
                              body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]}' % (her, r.her))
            self.incident += 1
            for rule, sev in self.judge(c, p.top, "3", "send", her, 423):
                self.gt(rule, sev, "side-effect", self.incident, rid, c, her, None)
            return

    def watch(self, her, holder, since):
        lk = self.locks.get(her)
        if lk is not None:
            lk.watched = True
        heapq.heappush(self.watches, (since + STALE_AFTER, her, holder.idx, since))
        if self.first_t is not None:
            self.stale_next = self.watches[0][0]

    def fire_stale(self, rid):
        while self.watches and self.watches[0][0] <= self.t:
            deadline, her, hidx, since = heapq.heappop(self.watches)
            lk = self.locks.get(her)
            if lk is not None and lk.holder.idx == hidx:
                self.incident += 1
                extra = {"deadline": fmt_time(deadline), "since": fmt_time(since)}
                if since < self.start:
                    extra["assumes"] = "the reservations.jsonl 'since' counts as the holder's last call"
                self.gt("edi.stale-reservation", "medium" if lk.denied else "low", "incident",
                        self.incident, rid, lk.holder, her, None, extra)
        self.stale_next = self.watches[0][0] if self.watches else 1 << 62

    def inc_quarantine(self):
        """A record the daemon must quarantine; each breaks exactly one thing."""
        rng = self.rng
        ac = self.active_v3
        if not ac or self.count == 0:
            return False
        ch = ac[rng.randrange(len(ac))]
        ps = [q for q in ch.parties if not q.orphan]
        if not ps:
            return False
        her = ps[0].her
        rid = self.rid()
        rec = {"schemaVersion": 1, "timestamp": self.ts(), "requestId": rid, "apiVersion": "3",
               "method": "PUT", "path": "/messages/%s/downloaded" % self.uuid(), "status": 204,
               "durationMs": self.dur(10, 200)}
        rec["client"] = json.loads("{" + ch.block + "}")["client"]
        rec["request"] = {"receiverHerId": her}
        what = MALFORMED[rng.randrange(len(MALFORMED))]
        reason, detail = what, what
        if what == "invalid-json":
            reason = "invalid_json"
        elif what == "missing-field":
            f = rng.choice(["schemaVersion", "timestamp", "requestId", "apiVersion", "method",
                            "path", "status", "client"])
            del rec[f]
            reason, detail = "schema", "missing " + f
        elif what == "schemaVersion":
            rec["schemaVersion"] = 2
            reason = "schema"
        elif what == "timestamp-format":
            rec["timestamp"] = rec["timestamp"].replace("T", " ")[:19]
            reason = "schema"
        elif what == "timestamp-value":
            rec["timestamp"] = rec["timestamp"][:11] + "25:61" + rec["timestamp"][16:]
            reason = "bad_timestamp"
        elif what == "requestId":
            rec["requestId"] = "" if rng.random() < 0.5 else "r" * 129
            reason = "schema"
        elif what == "apiVersion":
            rec["apiVersion"] = "4"
            reason = "schema"
        elif what == "method":
            rec["method"] = "FOO"
            reason = "schema"
        elif what == "status":
            rec["status"] = rng.choice([99, 600])
            reason = "schema"
        elif what == "path-length":
            rec.update(method="GET", path="/messages/" + "x" * 2100)
            del rec["request"]
            reason = "schema"
        elif what == "orgnrParent":
            rec["client"]["orgnrParent"] = rec["client"]["orgnrParent"][:8]
            reason = "malformed_orgnr"
        elif what == "herId-body":
            rec["request"]["receiverHerId"] = rng.choice(["abc", 0, -her])
            reason = "malformed_her_id"
        elif what == "herId-query":
            rec.update(method="GET", path="/notifications", status=200,
                       query="HerIds=%d&HerIds=12a" % her)
            del rec["request"]
            reason = "malformed_her_id"
        elif what == "herId-path":
            rec.update(apiVersion="2", path="/Messages/%s/read/abc" % self.uuid())
            del rec["request"]
            reason = "malformed_her_id"
        elif what == "message-id":
            rec["path"] = "/messages/not-a-uuid/downloaded"
            reason = "malformed_message_id"
        elif what == "herIdClaim":
            rec.update(apiVersion="2", path="/Messages/%s/read/%d" % (self.uuid(), her))
            del rec["request"]
            rec["client"]["herIdClaim"] = rng.choice(["12--3", "abc", "-1"])
            reason = "malformed_herid_claim"
        elif what == "configurations":
            rec.update(path="/mshconfigurations",
                       request={"configurations": [{"clientLocked": True}]})
            reason = "schema"
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
        if what == "invalid-json":
            line = line[:len(line) // 2 + rng.randrange(len(line) // 3)]
        self.buf.append(line + "\n")  # not emit(): a quarantined record moves no event time
        self.count += 1
        self.incident += 1
        shown = rec.get("requestId") if what != "invalid-json" else None
        self.gt(QUARANTINE, None, "incident", self.incident, shown or None, None, None, None,
                {"reason": reason, "detail": detail})
        return True
