#!/usr/bin/env python3
"""Replays a generated directory through a plain reading of shared/DETECTIONS.md and compares
the findings with its ground-truth.jsonl.

    python3 tools/gen/check_truth.py OUT_DIR

It reads only the files (registry/, access-log.jsonl, world.json), never the generator's state,
so it checks that the ground truth is what the log says. Findings of clients that world.json
lists with `postureFindings` (v2 clients whose herid claim is "0") are counted, not compared:
the ground truth leaves them out on purpose. Exit status 0 when the two agree.

Reading of the rules where DETECTIONS.md leaves room (the generator keeps away from the rest):
rules see the state before the call; a repeat is the same (rule, client, party, message) within
an hour of the first finding; a reservation's `since` counts as the holder's last call.
Custody, as the checkout's README.md ("Input") reads the contract: a message is known from its
send, a poll response listing it, or a record's `message` block; a download acts for the
receivers the token's organisation covers (all of them when it covers none and all are known),
and of several of them for those the client answers for (its herid claim list, else the parties
it holds the lock of or is the declared or learned owner of) when it answers for some but not
all; `read_metadata` by the message's sender client (when custody names none: by a client
that answers for the sender), or by a client covering none of the receivers, acts for the
sender if its organisation covers the sender, otherwise as a download; a download seen while
the receivers are not all known counts, for each receiver named later, when its organisation
covers it, except for a receiver that is another's as seen from the downloading client (not in
the herid claim list its calls had then; without one, owned by another client) when that
client answered for a receiver known at the time, or owned then one of the receivers its
organisation covers (by that list, a lock held since then, or a declared ownership). A
`message` block naming another message than the path's is not learned from; a send without
`response.id` is about its block's message. A
reservations.jsonl lock takes effect once event time reaches its `since`, and not over a lock
the log showed taken after that `since` (edi-audit also judges the holder's own lock call in
the minute after `since` against the locks before it; the generated reservations all lie
before the log, so that is not modelled here).
"""

import heapq
import json
import os
import sys
from collections import defaultdict, deque

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paths import her_id_text  # noqa: E402
from record_check import check_record  # noqa: E402
from truth_input import (D, H, LOCK_BLOCKED, OWNER_ACTIONS, Registry, jsonl, ms,  # noqa: E402
                         query_herids, route)

class Replay:
    def __init__(self, reg, posture):
        self.reg = reg
        self.posture = posture
        self.custody = {}
        self.locks = {}  # her -> [holder, last holder call, denied meanwhile, fired, since]
        self.stale_heap = []
        # reservations.jsonl, latest `since` first: they take effect from the end of the list
        self.pending = sorted(((ms(r["since"]), r["herId"], r["clientId"])
                               for r in reg.reservations), reverse=True)
        self.now = None  # the newest event time
        self.shared = defaultdict(dict)   # her -> client -> last successful owner action
        self.owned = set()                # (client, her) with a successful owner action
        self.called = set()               # (client, her) with a successful call
        self.news = defaultdict(deque)
        self.stats = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))  # her>client>day
        self.first = None
        self.keys = {}
        self.claim_lists = {}  # client -> [(time, herid claim list)] of its calls with one
        self.findings = []
        self.ambiguous = 0

    def activate(self):
        """The reservations whose `since` the newest event time has reached, except over a lock
        the log showed taken after that `since`."""
        pend = self.pending
        while pend and pend[-1][0] <= self.now:
            since, her, holder = pend.pop()
            lk = self.locks.get(her)
            if lk is None or (lk[0] != holder and lk[4] <= since):
                self.locks[her] = [holder, since, False, False, since]
                heapq.heappush(self.stale_heap, (since + 30 * D, her, holder, since))
            elif lk[0] == holder and since > lk[1]:
                self.holder_call(lk, her, since)

    def holder_call(self, lk, her, t):
        lk[1] = t
        lk[2] = False
        lk[3] = False
        heapq.heappush(self.stale_heap, (t + 30 * D, her, lk[0], t))

    def owner(self, her, t):
        lk = self.locks.get(her)
        if lk:
            return lk[0]
        if her in self.reg.owners:
            return self.reg.owners[her]
        days = self.stats.get(her)
        if not days:
            return None
        today = t // D
        tot = {c: sum(n for d, n in dd.items() if today - 14 < d <= today) for c, dd in days.items()}
        allc = sum(tot.values())
        for c, n in tot.items():
            if n >= 20 and n >= 0.8 * allc:
                return c
        return None

    def find(self, rec, rule, sev, her, msg, line, t):
        cid = rec["client"]["clientId"] if rec else None
        key = (rule, cid, her, msg)
        first = self.keys.get(key)
        if first is not None and t - first < H:
            return
        self.keys[key] = t
        self.findings.append({"rule": rule, "severity": sev, "requestId": rec["requestId"],
                              "clientId": cid, "herId": her, "messageId": msg, "line": line,
                              "posture": cid in self.posture and rule == "edi.herid-claim-whole-org"})

    def stale(self, t, rec, line):
        while self.stale_heap and self.stale_heap[0][0] <= t:
            deadline, her, holder, last = heapq.heappop(self.stale_heap)
            lk = self.locks.get(her)
            if lk and lk[0] == holder and lk[1] == last and not lk[3]:
                lk[3] = True
                self.findings.append({"rule": "edi.stale-reservation",
                                      "severity": "medium" if lk[2] else "low",
                                      "requestId": rec["requestId"], "clientId": holder,
                                      "herId": her, "messageId": None, "line": line,
                                      "posture": False})

    def answers_for(self, cid, claim, her, t):
        if claim is not None and claim != "0":
            return str(her) in claim.split("-")
        return self.owner(her, t) == cid

    def keep_own(self, hers, cid, claim, t):
        """Of several parties, those the client answers for, when it answers for some."""
        if len(hers) < 2:
            return hers
        own = [h for h in hers if self.answers_for(cid, claim, h, t)]
        return own if own else hers

    def covered_or_all(self, cu, top, candidates):
        out = [h for h in candidates if self.reg.covers(top, h)]
        if not out and cu["complete"]:
            out = list(candidates)
        return out

    def parties(self, rec, action, mid, path_her, t):
        req = rec.get("request") or {}
        cu = self.custody.get(mid) if mid else None
        cl = rec["client"]
        top, cid, claim = cl["orgnrParent"], cl["clientId"], cl.get("herIdClaim")
        if action == "send":
            return [req["senderHerId"]] if "senderHerId" in req else []
        if action == "poll":
            return query_herids(rec.get("query"))
        if action == "config_delete":
            return query_herids(rec.get("query"))
        if action == "config_write":
            return [c["herId"] for c in req.get("configurations", req.get("mshConfigurations", []))]
        if action == "mark_downloaded":
            return [her_id_text(path_her)] if path_her else [req["receiverHerId"]]
        if action == "apprec_send":
            return [her_id_text(path_her)] if path_her else [req["appRecSenderHerId"]]
        if cu is None or not cu["known"]:
            return []
        if action == "download":
            return self.keep_own(self.covered_or_all(cu, top, cu["recv"]), cid, claim, t)
        if action in ("read_status", "read_apprec"):
            return [cu["sender"]] if cu["sender"] else []
        if action == "read_metadata":
            sender = cu["sender"]
            covers_receiver = any(self.reg.covers(top, h) for h in cu["recv"])
            if cu["sender_client"]:
                sent_it = cu["sender_client"] == cid
            else:  # custody from a message block or a poll: the client answering for the sender
                sent_it = bool(sender) and self.answers_for(cid, claim, sender, t)
            if sender and (sent_it or not covers_receiver) and self.reg.covers(top, sender):
                return [sender]
            cands = ([sender] if sender and not covers_receiver else []) + cu["recv"]
            return self.keep_own(self.covered_or_all(cu, top, cands), cid, claim, t)
        return []

    def entry(self, mid):
        cu = self.custody.get(mid)
        if cu is None:
            cu = self.custody[mid] = {"known": False, "complete": False, "sender": None,
                                      "sender_client": None, "recv": [], "dl": defaultdict(set),
                                      "dl_org": []}
        return cu

    def learn_message(self, mid, sender, recv, complete, sender_client=None):
        cu = self.entry(mid)
        cu["known"] = True
        cu["complete"] = cu["complete"] or complete
        if sender:
            cu["sender"] = sender
        if sender_client:
            cu["sender_client"] = sender_client
        for h in recv:
            if h not in cu["recv"]:
                cu["recv"].append(h)

    def downloaders(self, cu, her, t):
        """The clients that downloaded the message for her: for her by name, or, seen while the
        receivers were not all known, from an organisation that covers her (or that covers none
        of them, once all are known) unless it was the client's own copy (own_copy)."""
        out = set(cu["dl"].get(her, ()))
        if cu["dl_org"]:
            receiver = her in cu["recv"]
            for cid, org, own_only, at in cu["dl_org"]:
                if not receiver and cu["complete"]:
                    continue
                if self.reg.covers(org, her):
                    pass
                elif not (receiver and cu["complete"] and
                          not any(self.reg.covers(org, h) for h in cu["recv"])):
                    continue
                if not self.own_copy(cu, cid, org, own_only, at, her, t):
                    out.add(cid)
        return out

    def own_copy(self, cu, cid, org, own_only, at, her, t):
        """Whether a download by cid (for organisation org, at time at) seen while the receivers
        were not all known was of its own copy, not her's: her is another's as seen from cid,
        and cid answered then for a receiver known then (own_only), or owned then one of the
        receivers org covers."""
        if self.owner_as_seen(cid, her, at, t) is not False:
            return False
        return own_only or any(self.reg.covers(org, h) and self.owner_as_seen(cid, h, at, t)
                               for h in cu["recv"])

    def owner_as_seen(self, cid, her, at, t):
        """Whose her is as seen from cid for its call at `at`: True its own, False another's,
        None not known. The herid claim list cid's calls had at `at` says (her in it or not);
        without one, a lock (cid's own only if held since `at`), else the declared owner, else
        the learned one as of t (never cid's own: learned later proves nothing of `at`)."""
        lists = [c for when, c in self.claim_lists.get(cid, ()) if when <= at]
        if lists:
            return str(her) in lists[-1].split("-")
        lk = self.locks.get(her)
        if lk:
            return (True if lk[4] <= at else None) if lk[0] == cid else False
        if her in self.reg.owners:
            return self.reg.owners[her] == cid
        o = self.owner(her, t)
        return None if o is None or o == cid else False

    def feed(self, rec, line):
        t = ms(rec["timestamp"])
        if self.first is None:
            self.first = t
        if self.now is None or t > self.now:
            self.now = t
            if self.pending:
                self.activate()
        self.stale(t, rec, line)
        cl = rec["client"]
        cid, top, claim = cl["clientId"], cl["orgnrParent"], cl.get("herIdClaim")
        if claim is not None and claim != "0":
            lists = self.claim_lists.setdefault(cid, [])
            earlier = [c for when, c in lists if when <= t]
            if not earlier or earlier[-1] != claim:
                lists.append((t, claim))
                lists.sort(key=lambda x: x[0])
        status = rec["status"]
        ok, denied = 200 <= status < 300, status in (401, 403, 423)
        action, mid, path_her = route(rec)
        if action == "unknown":
            self.find(rec, "edi.unknown-route", "low", None, mid, line, t)
            return
        m = rec.get("message")
        if action == "send":  # about the message it created (else the block's)
            mid = (rec.get("response") or {}).get("id") or (m or {}).get("id")
            mid = mid.lower() if isinstance(mid, str) else None
        if m and mid and str(m.get("id", "")).lower() == mid:  # another message's: ignored
            self.learn_message(mid, m.get("senderHerId"), m.get("receiverHerIds", []),
                               bool(m.get("receiverHerIds")))
        req = rec.get("request") or {}
        hers = self.parties(rec, action, mid, path_her, t)
        cu = self.custody.get(mid) if mid else None
        confs = {c["herId"]: c for c in req.get("configurations", req.get("mshConfigurations", []))}
        for her in hers:
            self.judge(rec, line, t, cid, top, claim, status, ok, denied, action, mid, cu, her,
                       confs.get(her))
        # apply the call
        if ok and action == "send" and mid:
            self.learn_message(mid, req.get("senderHerId"),
                               req.get("receiverHerIds", []), bool(req.get("receiverHerIds")),
                               cid)
        if ok and action == "poll":
            for m in (rec.get("response") or {}).get("messages", []):
                recv = m.get("receiverHerIds") or ([m["receiverHerId"]] if "receiverHerId" in m else [])
                self.learn_message(m["id"].lower(), m.get("senderHerId"), recv,
                                   bool(m.get("receiverHerIds")))
        if ok and action == "download" and mid:
            cu = self.entry(mid)
            if not hers or not cu["complete"]:
                # the receivers it was for: told later; own copy only when it answered for one
                own_only = any(self.answers_for(cid, claim, h, t) for h in hers)
                cu["dl_org"].append((cid, top, own_only, t))
            for her in hers:
                cu["dl"][her].add(cid)

    def judge(self, rec, line, t, cid, top, claim, status, ok, denied, action, mid, cu, her, conf):
        reg = self.reg
        f = lambda rule, sev, msg=mid: self.find(rec, rule, sev, her, msg, line, t)
        known = her in reg.parties
        if not known:
            f("edi.unknown-party", "medium", None)
        elif not reg.covers(top, her) and (ok or denied):
            f("edi.org-membership", "critical" if ok else "medium")
        lk = self.locks.get(her)
        foreign_lock = lk is not None and lk[0] != cid
        if lk is not None and lk[0] == cid:
            self.holder_call(lk, her, t)
        if foreign_lock:
            if ok:
                f("edi.reserved-party-foreign-client", "critical" if action in LOCK_BLOCKED else "high")
            elif denied:
                f("edi.reserved-party-foreign-client", "low")
                lk[2] = True
        if claim is not None and claim != "0" and (ok or denied) and str(her) not in claim.split("-"):
            f("edi.herid-claim-scope", "critical" if ok else "low")
        if rec["apiVersion"] == "2" and claim == "0":
            f("edi.herid-claim-whole-org", "info")
        ck = cu is not None and cu["known"]
        if action == "apprec_send" and ck and cu["recv"] and her not in cu["recv"] and \
                cu["complete"] and (ok or denied):
            f("edi.apprec-sender-not-receiver", "high" if ok else "low")
        lock_write = action == "config_delete" or (conf is not None and "clientLocked" in conf)
        takeover = foreign_lock and action in ("config_write", "config_delete") and lock_write
        if takeover and (ok or denied):
            f("edi.reservation-takeover", "critical" if ok else "medium")
        if not ok:
            return
        own = self.owner(her, t)
        fo = own is not None and own != cid
        dl = self.downloaders(cu, her, t) if cu is not None else set()
        if action == "send" and fo:
            f("edi.foreign-send", "high")
        if action == "download" and (fo or (dl - {cid})):
            f("edi.foreign-download", "high")
        if action == "mark_downloaded":
            if (dl and cid not in dl) or fo:
                f("edi.foreign-acknowledgement", "high")
            if ck and not dl:
                f("edi.acknowledged-without-download", "critical")
        if action == "apprec_send" and ((dl and cid not in dl) or fo):
            f("edi.foreign-apprec", "high")
        if action in ("config_write", "config_delete") and fo and not takeover:
            f("edi.foreign-msh-change", "high")
        if known and action in OWNER_ACTIONS:
            sh = self.shared[her]
            if lk is None:
                others = [c for c, tc in sh.items() if c != cid and tc >= t - 7 * D]
                if sh.get(cid, -1) < t - 7 * D and others:
                    f("edi.shared-party", "medium", None)
            if t >= self.first + 7 * D and (cid, her) not in self.owned:
                f("edi.new-client-for-party", "low", None)
            sh[cid] = t
            self.owned.add((cid, her))
            self.stats[her][cid][t // D] += 1
        if known and (cid, her) not in self.called:
            self.called.add((cid, her))
            q = self.news[cid]
            q.append(t)
            while q and q[0] <= t - 10 * 60 * 1000:
                q.popleft()
            if len(q) == 20:
                f("edi.party-sweep", "high", None)
            elif len(q) > 20:
                self.ambiguous += 1
        if action == "config_delete" and lk is not None:
            del self.locks[her]
        elif action == "config_write" and conf is not None and "clientLocked" in conf:
            if conf["clientLocked"]:
                if lk is None or foreign_lock:
                    self.locks[her] = [cid, t, False, False, t]
                    heapq.heappush(self.stale_heap, (t + 30 * D, her, cid, t))
            elif lk is not None:
                del self.locks[her]


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    d = argv[1]
    missing = [n for n in ("registry", "access-log.jsonl", "ground-truth.jsonl", "world.json")
               if not os.path.exists(os.path.join(d, n))]
    if missing:
        print("check_truth.py: %s is not what tools/gen/edi_gen.py writes (no %s)"
              % (d, ", ".join(missing)), file=sys.stderr)
        return 2
    reg = Registry(os.path.join(d, "registry"))
    world = json.load(open(os.path.join(d, "world.json"), encoding="utf-8"))
    posture = {c["clientId"] for c in world["clients"] if c.get("postureFindings")}
    rp = Replay(reg, posture)
    quarantined = set()
    with open(os.path.join(d, "access-log.jsonl"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if check_record(line):
                quarantined.add(n)
                continue
            rp.feed(json.loads(line), n)
    truth = jsonl(os.path.join(d, "ground-truth.jsonl"))
    gq = {g["line"] for g in truth if g["rule"] == "quarantine"}
    want = {(g["rule"], g["requestId"], g["herId"], g["severity"]) for g in truth
            if g["rule"] != "quarantine"}
    got_all = rp.findings
    got = {(x["rule"], x["requestId"], x["herId"], x["severity"]) for x in got_all if not x["posture"]}
    posture_n = sum(1 for x in got_all if x["posture"])
    bad = 0
    if gq != quarantined:
        bad += 1
        print("quarantine differs: only in truth %s, only in replay %s" % (
            sorted(gq - quarantined)[:10], sorted(quarantined - gq)[:10]))
    missing, extra = sorted(want - got, key=str), sorted(got - want, key=str)
    by = defaultdict(lambda: [0, 0, 0])
    for k in want & got:
        by[k[0]][0] += 1
    for k in missing:
        by[k[0]][1] += 1
    for k in extra:
        by[k[0]][2] += 1
    print("%-40s %8s %8s %8s" % ("rule", "agree", "missing", "extra"))
    for rule in sorted(by):
        print("%-40s %8d %8d %8d" % (rule, *by[rule]))
    print("posture findings not compared: %d; quarantined: %d; sweeps past the threshold: %d"
          % (posture_n, len(quarantined), rp.ambiguous))
    for k in missing[:15]:
        print("missing:", k)
    for k in extra[:15]:
        print("extra:  ", k)
    if missing or extra:
        bad += 1
    high = [k for k in extra if k[3] in ("high", "critical")]
    if high:
        print("%d high/critical findings the ground truth does not expect" % len(high))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
