"""Incidents on messages to several parties of one top-level unit, and on messages sent before
the log whose custody only a record's `message` block tells.

A download of a message whose receivers its organisation covers acts, of those, for the ones
the client answers for (its herid claim list, else the parties it holds the lock of or is the
declared or learned owner of) when it answers for some but not all; a client that answers for
none acts for all of them (README.md of the checkout, "Input"). So a third application of the
municipality downloading such a message is a foreign download for each receiver, and one owner
marking the other owner's copy is a foreign acknowledgement of that party.

SharedIncidents is a mixin of Generator (edi_gen.py), through Incidents."""

from model import P_MSG_BLOCK


class SharedIncidents:
    def certain_owner(self, p):
        """p's client is its owner whatever the daemon has counted: it holds p's lock, or is
        p's declared owner and used p lately (so shared-party is certain too)."""
        lk = self.locks.get(p.her)
        if lk is not None:
            return lk.holder is p.client and not lk.watched and p.intro and not p.orphan
        return self.declared_unlocked(p)

    def plan_group(self, msg, sender, recv):
        """Turns a message to several parties of one top-level unit into the incident at the
        head of self.want_shared when it fits; the incident's call comes once every receiver's
        own client has downloaded it. Returns the plan, or None."""
        rng = self.rng
        rule = self.want_shared[0]
        top = recv[0].top
        rs = [p for p in recv if p.top == top]
        if rule == "edi.foreign-download":
            # a third application of the unit, owning none of the receivers
            if not all(self.certain_owner(p) for p in rs):
                return None
            owners = {p.client for p in rs}
            cands = []
            for c, block in self.tenants_by_top.get(top, ()):
                if c in owners or c.v2 or c.sweeping or not self.sweep_room(c, 5):
                    continue
                if any((c.idx, p.her) in self.seen_pairs for p in rs):
                    continue
                cands.append((c, block))
            if not cands:
                return None
            actor = cands[rng.randrange(len(cands))]
            targets = rs
        else:
            # one receiver's client marks another client's receiver downloaded: that one must be
            # unlocked (a lock would refuse the mark) with a declared owner
            pairs = [(a, b) for a in rs for b in rs
                     if a.client is not b.client and self.declared_unlocked(b)
                     and (a.client.idx, b.her) not in self.seen_pairs
                     and not a.client.sweeping and self.sweep_room(a.client, 5)]
            if not pairs:
                return None
            a, b = pairs[rng.randrange(len(pairs))]
            actor = (a.client, a.chunk.block)
            targets = [b]
        self.want_shared.popleft()
        F = actor[0]
        F.busy += 1
        for p in targets:
            self.seen_pairs.add((F.idx, p.her))
        self.custody[msg] = {"recv": [p.her for p in recv], "dl": {}}
        return {"rule": rule, "actor": actor, "targets": targets, "top": top, "msg": msg,
                "sender": sender.her, "left": len(rs), "dead": False,
                "block": self.message_block(msg, sender.her, [p.her for p in recv], False)}

    def drop_group(self, g):
        g["dead"] = True
        g["actor"][0].busy -= 1
        self.custody.pop(g["msg"], None)

    def group_foreign(self, g):
        """The incident's call, after every receiver's own download."""
        if g["dead"]:
            return
        if any(p.orphan for p in g["targets"]):
            self.drop_group(g)
            return
        F, block = g["actor"]
        msg, top, targets = g["msg"], g["top"], g["targets"]
        mb = g["block"] if self.rng.random() < P_MSG_BLOCK else ""
        if g["rule"] == "edi.foreign-download":
            rid = self.record("3", "GET", self.disguised(F, msg, "/business-document"), 200, block,
                              body=mb, dur=self.dur(30, 900))
            hers = self.download_parties(F, top, self.custody[msg]["recv"])
            self.judge_and_record(rid, F, top, "3", "download", hers, 200, g["rule"], msg=msg)
        else:
            b = targets[0]
            if F.v2:
                rid = self.record("2", "PUT", self.disguised(F, msg, "/read/%d" % b.her), 204,
                                  block, body=mb)
            else:
                rid = self.record("3", "PUT", self.disguised(F, msg, "/downloaded"), 204, block,
                                  body=',"request":{"receiverHerId":%d}%s' % (b.her, mb))
            self.judge_and_record(rid, F, top, "2" if F.v2 else "3", "mark_downloaded", [b.her],
                                  204, g["rule"], msg=msg)
        g["dead"] = True
        F.busy -= 1
        self.custody.pop(msg, None)

    def inc_old_download(self):
        """A client downloads a message sent before the log to a party it does not own (now and
        then to two parties of the unit): the log has neither its send nor a poll listing it, so
        only the record's `message` block tells the daemon whose message it is."""
        rng = self.rng
        found = self.pick_acted(self.certain_owner)
        if found is None:
            return False
        p, F, block = found
        recv = [p]
        if rng.random() < 0.4:
            more = [q for q in self.recv_by_top.get(p.top, ()) if q is not p and q.client is not F
                    and (F.idx, q.her) not in self.seen_pairs and self.certain_owner(q)]
            if more:
                recv.append(more[rng.randrange(len(more))])
        if rng.random() < 0.3 and self.external:
            sender = self.external[rng.randrange(len(self.external))]
        else:
            sender = self.pick(lambda q: q.top != p.top)
            if sender is None:
                return False
        m = self.uuid()
        hers = [q.her for q in recv]
        self.custody[m] = {"recv": hers, "dl": {}}
        rid = self.record("3", "GET", self.disguised(F, m, "/business-document"), 200, block,
                          body=self.message_block(m, sender.her, hers, False),
                          dur=self.dur(30, 900))
        self.judge_and_record(rid, F, p.top, "3", "download",
                              self.download_parties(F, p.top, hers), 200, "edi.foreign-download",
                              msg=m)
        self.custody.pop(m, None)
        return True
