"""Sends of benign traffic: whom a message goes to, and the send with what follows it (the
deliveries to its receivers' clients, the sender's status and metadata reads).

Sends is a mixin of Generator (edi_gen.py), beside Traffic."""

from model import (EV_CALL, EV_STATUS, MS_H, MS_MIN, MS_S, P_CASE, P_FAIL, P_SAME_ORG,
                   P_SENDER_META, P_STATUS)


class Sends:
    def pick_receivers(self, sender):
        rng = self.rng
        recv = self.recv
        x = rng.random()
        if x < P_SAME_ORG:
            out = self.same_org_receivers(sender)
            if out:
                return out
        n = 1 if x < 0.91 else 2 if x < 0.985 else 3
        out = []
        tops = {sender.top} if n > 1 else set()
        for _ in range(n * 4):
            if len(out) == n:
                break
            p = recv[int(rng.random() * len(recv))]
            if p is sender or p.orphan or p in out:
                continue
            # several receivers in different top-level units: a download then acts for
            # exactly the receiver its token's organisation covers
            if n > 1 and p.top in tops:
                continue
            tops.add(p.top)
            out.append(p)
        return out

    def answers(self, p):
        """Whether the daemon takes p's own client to answer for p whatever the call: its herid
        claim list names p, or it holds p's lock, or it is p's declared owner. Learned owners are
        left out: the generator does not count what the daemon learns."""
        c = p.client
        if c.claim is not None and c.claim != "0":
            return True
        return self.owns(p)

    def owns(self, p):
        """Whether p's own client is p's owner to the daemon whatever it has counted: it holds
        p's lock or is p's declared owner (a herid claim list says whom a call answers for, not
        whose the party is)."""
        lk = self.locks.get(p.her)
        if lk is not None:
            return lk.holder is p.client and not lk.watched
        return self.declared.get(p.her) is p.client

    def same_org_receivers(self, sender, known=None):
        """2 or 3 receivers in one top-level unit other than the sender's (a discharge letter to
        a nursing home and a GP office of one municipality, or to several wards), each with an
        owner the daemon knows (`known`, default answers): a download by one of their clients
        acts for its own receivers only, so no client's download is foreign to the others. None
        when none are found."""
        rng = self.rng
        recv = self.recv
        known = known or self.answers
        for _ in range(4):
            p = recv[int(rng.random() * len(recv))]
            if p.top == sender.top or not known(p):
                continue
            group = self.recv_by_top[p.top]
            n = 2 if rng.random() < 0.8 else 3
            out = [p]
            for _ in range(4 * n):
                q = group[int(rng.random() * len(group))]
                if q not in out and known(q):
                    out.append(q)
                    if len(out) == n:
                        break
            if len(out) > 1:
                return out
        return None

    def send_random(self, chunk=None, sender=None):
        rng = self.rng
        ac = self.active_chunks
        if not ac or not self.recv:
            return
        if chunk is None:
            chunk = ac[int(rng.random() * len(ac))]
            ps = chunk.parties
            sender = ps[int(rng.random() * len(ps))]
            if sender.orphan:
                return
        c = chunk.client
        recv = self.pick_receivers(sender)
        if rng.random() < 0.03 and self.external:
            recv.append(self.external[int(rng.random() * len(self.external))])
        if not recv:
            return
        api = "2" if c.v2 else "3"
        path = "/Messages" if c.v2 else "/messages"
        if rng.random() < P_CASE:
            path = "/messages" if c.v2 else "/Messages"
        req = '"request":{"senderHerId":%d,"receiverHerIds":[%s]}' % (
            sender.her, ",".join(str(p.her) for p in recv))
        if rng.random() < P_FAIL:
            self.record(api, "POST", path, 503, chunk.block, body="," + req, dur=self.dur(1000, 30000))
            self.push(self.t + self.dur(MS_S, 5 * MS_S), EV_CALL,
                      (self.send_now, (chunk, sender, recv, api, path, req)))
            return None
        return self.send_now((chunk, sender, recv, api, path, req))

    def send_now(self, arg):
        chunk, sender, recv, api, path, req = arg
        rng = self.rng
        if sender.orphan:
            return None
        m = self.uuid()
        self.record(api, "POST", path, 201, chunk.block,
                    body=',%s,"response":{"id":"%s"}' % (req, m), dur=self.dur(60, 1500))
        sender.last_act = self.t
        block = self.message_block(m, sender.her, [p.her for p in recv], False)
        # several receivers in one top-level unit (an external one may be added to them)
        shared = len(recv) > 1 and recv[0].top == recv[1].top
        group = self.plan_group(m, sender, recv) if shared and self.want_shared else None
        for p in recv:
            if p.client is not None and p.chunk.active and not p.orphan:
                it = self.deliver(p, m, sender.her, False, len(recv) == 1, block)
                if shared:
                    it.shared = True
                    it.group = group
                    p.shared += 1
        if rng.random() < P_STATUS:
            self.push(self.t + self.dur(10 * MS_MIN, 4 * MS_H), EV_STATUS, (m, sender, block))
        elif rng.random() < P_SENDER_META:
            self.push(self.t + self.dur(2 * MS_S, 30 * MS_MIN), EV_CALL,
                      (self.sender_meta, (m, sender, block)))
        return m
