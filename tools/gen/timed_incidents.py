"""Incidents that play out over time — a party sweep spread over minutes, reservations that turn
stale after 30 days of event time — and malformed records.

TimedIncidents is a mixin of Generator (edi_gen.py), through Incidents."""

import heapq
import json

from model import (EV_CALL, LOCK_BLOCKED, MALFORMED, MS_D, MS_H, MS_S,
                   OWNER_ACTIONS, QUARANTINE, REPEAT_WINDOW, RULES, SHARED_WINDOW, STALE_AFTER,
                   SWEEP_THRESHOLD, SWEEP_WINDOW, UNKNOWN_PATHS, Lock, fmt_time)


class TimedIncidents:
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
            # A send whose created message id is no UUID (a path with one is an unknown route).
            rec.update(method="POST", path="/messages", status=201, response={"id": "not-a-uuid"})
            rec["request"] = {"senderHerId": her}
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
