"""Benign EDI 2.0 traffic and the writer of the access log and the ground truth.

Every benign client acts only for its own parties, each of which it started polling during the
learning period at most CHUNK parties per INTRO_STEP; receivers of one message lie in different
top-level units, or in one unit when each of them has an owner the daemon knows (a lock, a
declaration, a herid claim list), so that each download acts for its client's own receivers.
That is what keeps the benign model clear of the high and critical rules.

Traffic is a mixin of Generator (edi_gen.py); the run loop interleaves spontaneous calls (a
Poisson process shaped by the hour of day) with the scheduled steps of message lifecycles."""

import heapq
import json
import math
import os
import time
from collections import deque

from message_calls import MessageCalls
from model import (EV_CALL, EV_DELIVER, EV_DOWNLOAD, EV_INTRO, EV_LOCK, EV_MARK, EV_META,
                   EV_POLL, HOURLY, INTRO_STEP, LEARNING, MS_H, MS_MIN, MS_S, P_CONFIG,
                   P_EXPIRED, P_FAIL, P_FORBIDDEN, P_META, P_OLD, P_PING, P_POLL, P_RELOCK,
                   P_SEND, REPEAT_WINDOW, Item, Lock, fmt_time)
from sends import Sends


class Traffic(MessageCalls, Sends):
    # ------------------------------------------------------------------ output
    def open_outputs(self):
        self.log = open(os.path.join(self.out, "access-log.jsonl"), "w", encoding="utf-8",
                        newline="\n")
        self.gtf = open(os.path.join(self.out, "ground-truth.jsonl"), "w", encoding="utf-8",
                        newline="\n")
        self.buf = []
        self.count = 0
        self.rid_n = 0
        self.rid_prefix = ""
        self._sec = -1
        self._min = -1
        self._minpfx = ""
        self._secpfx = ""

    def ts(self):
        t = self.t
        sec = t // 1000
        if sec != self._sec:
            self._sec = sec
            mn = sec // 60
            if mn != self._min:
                self._min = mn
                self._minpfx = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(mn * 60))
            self._secpfx = "%s%02d." % (self._minpfx, sec % 60)
        return "%s%03dZ" % (self._secpfx, t % 1000)

    def new_prefix(self):
        # a gateway connection id that changes now and then, like Kestrel's
        self.rid_prefix = "0HN%010X:" % self.rng.getrandbits(40)

    def rid(self):
        n = self.rid_n = self.rid_n + 1
        if n & 0xFFF == 1:
            self.new_prefix()
        return "%s%08X" % (self.rid_prefix, n)

    def emit(self, line, rid):
        self.buf.append(line)
        self.count += 1
        if self.count & 4095 == 0:
            self.log.write("".join(self.buf))
            self.buf.clear()
        if self.t >= self.stale_next:
            if self.first_t is None:
                self.first_t = self.t
                self.learn_end = self.t + LEARNING
            self.fire_stale(rid)

    def gt(self, rule, severity, kind, incident, rid, client, her, msg, extra=None):
        r = {"rule": rule, "severity": severity, "kind": kind, "incident": incident,
             "requestId": rid, "clientId": client.cid if client else None, "herId": her,
             "messageId": msg, "time": fmt_time(self.t), "line": self.count}
        if extra:
            r.update(extra)
        self.gtf.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.stats[rule] = self.stats.get(rule, 0) + 1
        if kind == "incident":
            self.inc_stats[rule] = self.inc_stats.get(rule, 0) + 1

    # ------------------------------------------------------------------ schedule
    def push(self, t, kind, obj, attempt=0):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, obj, attempt))

    def run(self):
        rng = self.rng
        self.t = self.start
        self.first_t = None
        self.learn_end = self.start + LEARNING
        self.heap = []
        self.seq = 0
        self.spont = 0
        self.active_chunks = []
        self.active_v3 = []
        self.recv = []
        self.recv_by_top = {}    # top orgnr -> the parties of self.recv in it
        self.stats = {}
        self.inc_stats = {}
        self.incident = 0
        self.seen_pairs = set()  # (client idx, her): any call a foreign client made
        self.ok_pairs = set()    # ... that succeeded
        self.own_pairs = set()   # ... that was a successful owner action
        self.foreign = {}        # her -> {client idx: last successful owner action}
        self.custody = {}        # message id -> {"recv": [...], "dl": {her: set(client idx)}}
        self.gt_keys = {}        # (rule, client idx, her, msg) -> last time in ground truth
        self.pruned_at = 0
        self.last_route = {}     # client idx -> last injected unknown route
        self.watches = []        # heap of (deadline, her, holder idx, since)
        self.stale_next = -1  # the first record passes it: see emit
        self.want = deque()      # chain incidents waiting for a suitable delivery
        self.want_shared = deque()  # ... for a message to several parties of one unit
        self.cycle = []
        self.retry = []          # (rule, chances left)
        self.next_incident = int(self.every * (0.5 + rng.random()))
        self.r_est = 1.45
        span = self.end - self.start
        self.base_gap = span / float(self.N)
        handlers = [self.on_intro, self.on_deliver, self.on_meta, self.on_download, self.on_mark,
                    self.on_apprec, self.on_status, self.on_lock, self.on_poll, self.on_call]
        for c in self.clients:
            if c.chunks:
                self.push(self.start + rng.randrange(2 * MS_MIN), EV_INTRO, c.chunks[0])
        for her, holder, since, in_log, denied_at in self.stale_plan:
            if in_log:
                self.push(since, EV_CALL, (self.stale_lock, (her, holder)))
            else:
                self.watch(her, holder, since)
            if denied_at is not None:
                self.push(denied_at, EV_CALL, (self.stale_denied, (her, holder)))
        self.stale_next = -1  # the first record passes it: see emit
        self.open_outputs()
        heap = self.heap
        N = self.N
        next_spont = self.start + MS_S
        hourly = HOURLY
        log = math.log
        rand = rng.random
        hour = -1
        gap = 0.0
        while self.count < N:
            if heap and heap[0][0] <= next_spont:
                t, _, kind, obj, att = heapq.heappop(heap)
                self.t = t
                handlers[kind](obj, att)
                continue
            self.t = next_spont
            self.spont += 1
            if self.count >= self.next_incident:
                self.next_incident = self.count + int(self.every * (0.5 + rand()))
                self.start_incident()
            else:
                x = rand()
                if x < P_POLL:
                    ac = self.active_chunks
                    if ac:
                        self.poll(ac[int(rand() * len(ac))], 0)
                elif x < P_SEND:
                    self.send_random()
                elif x < P_PING:
                    self.ping()
                elif x < P_CONFIG:
                    self.config_random()
                elif x < P_RELOCK:
                    self.relock_random()
                elif x < P_EXPIRED:
                    ac = self.active_chunks
                    if ac:
                        self.poll(ac[int(rand() * len(ac))], 0, status=401)
                elif x < P_FORBIDDEN:
                    ac = self.active_chunks
                    if ac:
                        self.poll(ac[int(rand() * len(ac))], 0, status=403)
                elif x < P_OLD:
                    self.old_message()
            if self.spont & 1023 == 0:
                self.r_est = 0.7 * self.r_est + 0.3 * max(1.0, self.count / float(self.spont))
                hour = -1
            t = self.t
            if t - self.pruned_at > MS_H:
                self.prune(t)
            if t // MS_H != hour:
                hour = t // MS_H
                # Steered towards the end of the span: the records left over the time left,
                # within half and twice the planned pace (no rush at the end).
                left = (self.end - t) / float(max(1, N - self.count))
                pace = min(2.0 * self.base_gap, max(0.5 * self.base_gap, left))
                gap = pace * self.r_est / hourly[hour % 24]
            next_spont = t + int(-log(1.0 - rand()) * gap)
        self.log.write("".join(self.buf))
        self.buf.clear()
        self.log.close()
        self.gtf.close()

    def prune(self, t):
        """Forgets what no later decision looks at, so that memory does not grow with the
        records: ground-truth keys are compared over at most three repeat windows (those of
        edi.org-membership are never reused, and kept)."""
        self.pruned_at = t
        horizon = t - 3 * REPEAT_WINDOW
        self.gt_keys = {k: v for k, v in self.gt_keys.items()
                        if v >= horizon or k[0] == "edi.org-membership"}

    # ------------------------------------------------------------------ benign traffic
    def dur(self, lo, hi):
        return lo + int(self.rng.random() * (hi - lo))

    def record(self, api, method, path, status, block, query=None, body="", dur=None):
        """One access-log line; body is the ',"request":...' etc. tail."""
        rid = self.rid()
        q = ',"query":"%s"' % query if query is not None else ""
        if dur is None:
            dur = self.dur(20, 400)
        line = ('{"schemaVersion":1,"timestamp":"%s","requestId":"%s","apiVersion":"%s",'
                '"method":"%s","path":"%s"%s,"status":%d,"durationMs":%d,%s%s}\n') % (
            self.ts(), rid, api, method, path, q, status, dur, block, body)
        self.emit(line, rid)
        return rid

    def poll(self, chunk, att, status=200):
        rng = self.rng
        if att == 0 and status == 200 and rng.random() < P_FAIL:
            status = 503 if rng.random() < 0.7 else 504
        if status != 200:
            rid = self.rid()
            line = '{"schemaVersion":1,"timestamp":"%s","requestId":"%s",%s,"status":%d,"durationMs":%d,%s}\n' % (
                self.ts(), rid, chunk.mid, status, self.dur(5, 30000), chunk.block)
            self.emit(line, rid)
            self.push(self.t + self.dur(500, 8000), EV_POLL, chunk, 1)
            return
        items = ""
        pend = chunk.pending
        if pend:
            chunk.pending = []
            live = [it for it in pend if not self.parties[it.her].orphan]
            if len(live) != len(pend):
                for it in pend:
                    if self.parties[it.her].orphan:
                        self.give_up(it)
            items = ",".join('{"id":"%s","senderHerId":%d,"receiverHerId":%d,"isAppRec":%s}' % (
                it.msg, it.sender, it.her, "true" if it.apprec else "false") for it in live)
            t = self.t
            for it in live:
                self.start_item(it, t)
        t = chunk.last = self.t
        n = self.rid_n = self.rid_n + 1
        if n & 0xFFF == 1:
            self.new_prefix()
        rid = "%s%08X" % (self.rid_prefix, n)
        if t // 1000 != self._sec:
            self.ts()
        dur = (800 + int(rng.random() * 29200)) if chunk.client.stream else \
            (12 + int(rng.random() * 238))
        # emit(), inlined: polls are most of the records
        self.buf.append(('{"schemaVersion":1,"timestamp":"%s%03dZ","requestId":"%s",%s,"status":200,'
                         '"durationMs":%d,%s,"response":{"messages":[%s]}}\n') % (
            self._secpfx, t % 1000, rid, chunk.mid, dur, chunk.block, items))
        n = self.count = self.count + 1
        if n & 4095 == 0:
            self.log.write("".join(self.buf))
            self.buf.clear()
        if t >= self.stale_next:
            if self.first_t is None:
                self.first_t = t
                self.learn_end = t + LEARNING
            self.fire_stale(rid)

    def on_poll(self, chunk, att):
        self.poll(chunk, att)

    def on_intro(self, chunk, att):
        """A client starts polling one more chunk of its parties (at most CHUNK new parties)."""
        c = chunk.client
        chunk.active = True
        self.active_chunks.append(chunk)
        if not c.v2:
            self.active_v3.append(chunk)
        t = self.t
        locks = []
        by_top = self.recv_by_top.setdefault(chunk.top, [])
        for p in chunk.parties:
            p.intro = True
            self.recv.append(p)
            by_top.append(p)
            c.news.append(t)
            if p.cat == "log":
                locks.append(p)
        self.poll(chunk, 1)
        c.intro_left -= 1
        i = c.chunks.index(chunk)
        if i + 1 < len(c.chunks):
            self.push(t + INTRO_STEP + self.rng.randrange(MS_MIN), EV_INTRO, c.chunks[i + 1])
        if locks:
            self.push(t + self.dur(MS_MIN, 9 * MS_MIN), EV_LOCK, (chunk, locks))
        if c.claim is not None and c.claim != "0":
            self.push(t + self.dur(5 * MS_MIN, 30 * MS_MIN), EV_CALL, (self.claim_copy, chunk))

    def on_lock(self, obj, att):
        chunk, ps = obj
        c = chunk.client
        ps = [p for p in ps if not p.orphan and (p.her not in self.locks or
                                                  self.locks[p.her].holder is c)]
        if not ps:
            return
        confs = ",".join('{"herId":%d,"clientLocked":true,"receiveNotificationChannel":"%s",'
                         '"receiveRefusedMessageNotices":true}' % (
                             p.her, "Stream" if c.stream else "Poll") for p in ps)
        method = "POST" if self.rng.random() < 0.3 else "PUT"
        self.record("3", method, "/mshconfigurations", 200 if method == "POST" else 204,
                    chunk.block, body=',"request":{"configurations":[%s]}' % confs)
        for p in ps:
            if p.her not in self.locks:
                self.locks[p.her] = Lock(c, self.t)
            p.last_act = self.t

    def on_deliver(self, chunk, att):
        chunk.sched = False
        if chunk.pending:
            self.poll(chunk, 0)

    def deliver(self, p, msg, sender, apprec, single=True, block=""):
        ch = p.chunk
        it = Item(msg, p.her, sender, apprec, ch, single, block)
        ch.pending.append(it)
        if not ch.sched:
            ch.sched = True
            self.push(self.t + self.dur(2 * MS_S, 120 * MS_S), EV_DELIVER, ch)
        return it

    def start_item(self, it, t):
        rng = self.rng
        if it.plan is None and self.want and not it.apprec and it.single and not it.old:
            self.plan_chain(it)
        if it.plan == "edi.acknowledged-without-download":
            self.push(t + self.dur(400, 3000), EV_MARK, it)
            return
        if rng.random() < P_META:
            # only where the sender is outside the receiver's top-level unit: then every reading
            # of "from custody" (receivers covered, or sender and receivers covered) is the receiver
            sp = self.parties.get(it.sender)
            if sp is None or sp.top != it.chunk.top:
                self.push(t + self.dur(150, 900), EV_META, it)
        self.push(t + self.dur(300, 2500), EV_DOWNLOAD, it)

    def ping(self):
        av = self.active_v3
        if av:
            ch = av[int(self.rng.random() * len(av))]
            self.record("3", "GET", "/ping", 200, ch.block, dur=self.dur(1, 15))

    def config_random(self):
        """An owner changes its own parties' notification settings."""
        rng = self.rng
        ac = self.active_chunks
        if not ac:
            return
        ch = ac[int(rng.random() * len(ac))]
        c = ch.client
        if c.claim == "0":
            return  # API v2 has no configuration route
        ps = [p for p in rng.sample(ch.parties, min(len(ch.parties), 1 + rng.randrange(3)))
              if not p.orphan]
        if not ps:
            return
        items = []
        for p in ps:
            lk = self.locks.get(p.her)
            locked = ',"clientLocked":true' if lk is not None and lk.holder is c else ""
            items.append('{"herId":%d%s,"receiveNotificationChannel":"%s","receiveRefusedMessageNotices":%s}' % (
                p.her, locked, rng.choice(["Poll", "Stream", "Webhook"]),
                "true" if rng.random() < 0.8 else "false"))
            p.last_act = self.t
        if c.v2:
            self.record("2-vNext", "POST", "/MshConfiguration", 200, ch.block,
                        body=',"request":{"mshConfigurations":[%s]}' % ",".join(items))
        else:
            self.record("3", "PUT", "/mshconfigurations", 204, ch.block,
                        body=',"request":{"configurations":[%s]}' % ",".join(items))

    def relock_random(self):
        """An owner releases its own lock and sets it again a little later."""
        rng = self.rng
        av = self.active_v3
        if not av:
            return
        ch = av[int(rng.random() * len(av))]
        c = ch.client
        # not while a message to several parties of its unit waits: the lock tells the daemon
        # which of them the client's download is for
        mine = [p for p in ch.parties if not p.orphan and p.her in self.locks and
                self.locks[p.her].holder is c and not self.locks[p.her].watched and not p.shared]
        if not mine:
            return
        p = mine[int(rng.random() * len(mine))]
        self.record("3", "DELETE", "/mshconfigurations", 204, ch.block, query="HerIds=%d" % p.her)
        del self.locks[p.her]
        p.last_act = self.t
        self.push(self.t + self.dur(MS_MIN, 5 * MS_MIN), EV_LOCK, (ch, [p]))
