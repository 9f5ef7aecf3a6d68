"""The calls of a message's lifecycle after its delivery: metadata reads, downloads, marks,
apprecs and status reads, each with its failures and retries and the incidents planted on it.
A share of them (P_MSG_BLOCK) carries the gateway's `message` block; calls on messages sent
before the log started have only that block to tell whose message it is.

MessageCalls is a mixin of Traffic (traffic.py), which schedules these steps."""

from model import (EV_APPREC, EV_CALL, EV_DOWNLOAD, EV_MARK, MS_MIN, MS_S, P_APPREC, P_CASE, P_FAIL,
                   P_MSG_BLOCK, P_OLD_UNIT, P_UPPER_ID, Item)


class MessageCalls:
    def msg_path(self, client, msg, tail):
        v2 = client.v2
        if self.rng.random() < P_UPPER_ID:
            msg = msg.upper()
        if self.rng.random() < P_CASE:
            v2 = not v2
        return ("/Messages/" if v2 else "/messages/") + msg + tail

    def message_block(self, msg, sender, hers, apprec):
        """The `message` block a gateway that knows the message adds to a call on it."""
        return (',"message":{"id":"%s","senderHerId":%d,"receiverHerIds":[%s],'
                '"businessDocumentId":"%s","isAppRec":%s}') % (
            msg, sender, ",".join(str(h) for h in hers), self.uuid(), "true" if apprec else "false")

    def mblock(self, block):
        """The message block for one call: the gateway knows the message now and then."""
        return block if self.rng.random() < P_MSG_BLOCK else ""

    def release(self, it):
        """The delivery of a one-organisation message is marked (or given up): its party's lock
        may change again."""
        if it.shared:
            it.shared = False
            self.parties[it.her].shared -= 1

    def give_up(self, it):
        """The receiver's client stopped acting for the party before the delivery's end."""
        self.release(it)
        g = it.group
        if g is not None and not g["dead"]:
            self.drop_group(g)

    def failed(self, api, method, path, block, kind, obj, body=""):
        rng = self.rng
        self.record(api, method, path, 503 if rng.random() < 0.6 else 500, block, body=body,
                    dur=self.dur(1000, 30000))
        self.push(self.t + self.dur(MS_S, 10 * MS_S), kind, obj, 1)

    def on_meta(self, it, att):
        p = self.parties[it.her]
        if p.orphan:
            return
        c = it.chunk.client
        self.record("2" if c.v2 else "3", "GET", self.msg_path(c, it.msg, ""), 200, it.chunk.block,
                    body=self.mblock(it.block), dur=self.dur(8, 120))

    def on_download(self, it, att):
        p = self.parties[it.her]
        if p.orphan:
            self.give_up(it)
            return
        c = it.chunk.client
        api = "2" if c.v2 else "3"
        path = self.msg_path(c, it.msg, "/business-document")
        if att == 0 and self.rng.random() < P_FAIL:
            self.failed(api, "GET", path, it.chunk.block, EV_DOWNLOAD, it, self.mblock(it.block))
            return
        self.record(api, "GET", path, 200, it.chunk.block, body=self.mblock(it.block),
                    dur=self.dur(30, 900))
        p.last_act = self.t
        cu = self.custody.get(it.msg)
        if cu is not None:
            cu["dl"].setdefault(it.her, set()).add(c.idx)
        plan = it.plan
        t = self.t
        g = it.group
        if g is not None and not g["dead"]:
            g["left"] -= 1
            if g["left"] == 0:  # every receiver's own client has downloaded it
                self.push(t + self.dur(10 * MS_S, 10 * MS_MIN), EV_CALL, (self.group_foreign, g))
        if plan == "edi.foreign-acknowledgement":
            self.push(t + self.dur(10 * MS_S, 10 * MS_MIN), EV_CALL, (self.chain_foreign, it))
            if not it.apprec and self.rng.random() < P_APPREC:
                self.push(t + self.dur(11 * MS_MIN, 40 * MS_MIN), EV_APPREC, it)
            return
        if plan == "edi.foreign-download":
            self.push(t + self.dur(MS_MIN, 30 * MS_MIN), EV_CALL, (self.chain_foreign, it))
        self.push(t + self.dur(200, 1500), EV_MARK, it)

    def on_mark(self, it, att):
        p = self.parties[it.her]
        if p.orphan:
            self.give_up(it)
            return
        c = it.chunk.client
        if c.v2:
            api, path, body = "2", self.msg_path(c, it.msg, "/read/%d" % it.her), ""
        else:
            api, path = "3", self.msg_path(c, it.msg, "/downloaded")
            body = ',"request":{"receiverHerId":%d}' % it.her
        body += self.mblock(it.block)
        if att == 0 and it.plan is None and self.rng.random() < P_FAIL:
            self.failed(api, "PUT", path, it.chunk.block, EV_MARK, it, body)
            return
        if it.plan == "edi.acknowledged-without-download":
            rid = self.record(api, "PUT", path, 204, it.chunk.block, body=body)
            self.judge_and_record(rid, c, it.chunk.top, api, "mark_downloaded", [it.her], 204,
                                  it.plan, msg=it.msg)
            self.custody.pop(it.msg, None)  # the incident's last call on the message
            return
        self.record(api, "PUT", path, 204, it.chunk.block, body=body, dur=self.dur(10, 200))
        p.last_act = self.t
        self.release(it)
        if it.apprec:
            return
        if it.plan == "edi.foreign-apprec":
            self.push(self.t + self.dur(MS_S, 10 * MS_MIN), EV_CALL, (self.chain_foreign, it))
        elif it.plan == "edi.apprec-sender-not-receiver" or self.rng.random() < P_APPREC:
            self.push(self.t + self.dur(MS_S, 90 * MS_S), EV_APPREC, it)

    def on_apprec(self, it, att):
        p = self.parties[it.her]
        if p.orphan:
            return
        c = it.chunk.client
        her = it.her
        if it.plan == "edi.apprec-sender-not-receiver":
            her = it.actor.her
        ap = self.uuid()
        if c.v2:
            api, path = "2", self.msg_path(c, it.msg, "/apprec/%d" % her)
            req = ',"request":{"appRecStatus":"Ok"}'
        else:
            api, path = "3", self.msg_path(c, it.msg, "/apprec")
            r = self.rng.random()  # most receipts are Ok; some report an error, a few reject
            st = "Ok" if r < 0.93 else "OkErrorInMessagePart" if r < 0.98 else "Rejected"
            req = ',"request":{"appRecSenderHerId":%d,"appRecStatus":"%s"}' % (her, st)
        req += self.mblock(it.block)
        body = req + ',"response":{"id":"%s"}' % ap
        if att == 0 and it.plan is None and self.rng.random() < P_FAIL:
            self.failed(api, "POST", path, it.chunk.block, EV_APPREC, it, req)
            return
        if it.plan == "edi.apprec-sender-not-receiver" and self.rng.random() < 0.25:
            # refused by the API: the rule's lower severity
            rid = self.record(api, "POST", path, 403, it.chunk.block, body=req)
            self.judge_and_record(rid, c, it.chunk.top, api, "apprec_send", [her], 403, it.plan,
                                  msg=it.msg)
            self.custody.pop(it.msg, None)
            return
        rid = self.record(api, "POST", path, 201, it.chunk.block, body=body, dur=self.dur(40, 600))
        self.parties[her].last_act = self.t
        if it.plan == "edi.apprec-sender-not-receiver":
            self.judge_and_record(rid, c, it.chunk.top, api, "apprec_send", [her], 201, it.plan,
                                  msg=it.msg)
            self.custody.pop(it.msg, None)  # the incident's last call on the message
        self.apprec_back(ap, it.sender, her)

    def apprec_back(self, ap, to_her, from_her):
        sp = self.parties.get(to_her)
        if sp is not None and sp.client is not None and sp.chunk.active and not sp.orphan:
            self.deliver(sp, ap, from_her, True,
                         block=self.message_block(ap, from_her, [to_her], True))

    def sender_meta(self, arg):
        """The sender's client reads the metadata of a message it sent."""
        msg, sp, block = arg
        if sp.orphan:
            return
        c = sp.chunk.client
        self.record("2" if c.v2 else "3", "GET", self.msg_path(c, msg, ""), 200, sp.chunk.block,
                    body=self.mblock(block), dur=self.dur(8, 120))

    def old_message(self):
        """A call on a message sent before the log started, whose send and poll the log does not
        have: only a `message` block tells its custody. Its sender's client reads its status or
        metadata, or the receiver's client fetches it late (metadata, download, mark, apprec);
        or, within one top-level unit, see old_message_unit."""
        rng = self.rng
        ac = self.active_chunks
        if not ac or not self.recv:
            return
        ch = ac[int(rng.random() * len(ac))]
        p = ch.parties[int(rng.random() * len(ch.parties))]
        if p.orphan:
            return
        if rng.random() < 0.2 and self.external:
            other = self.external[int(rng.random() * len(self.external))]
        else:
            other = self.recv[int(rng.random() * len(self.recv))]
        if rng.random() < P_OLD_UNIT:
            self.old_message_unit(p, other)
            return
        if other.top == p.top:
            return
        m = self.uuid()
        x = rng.random()
        if x < 0.5:
            block = self.message_block(m, p.her, [other.her], False)
            if x < 0.1:
                self.sender_meta((m, p, block))
            else:
                self.on_status((m, p, block), 0)
            return
        it = Item(m, p.her, other.her, False, ch, True,
                  self.message_block(m, other.her, [p.her], False))
        it.old = True
        self.start_item(it, self.t)

    def old_message_unit(self, p, other):
        """Messages sent before the log within one top-level unit: the clients of 2 or 3
        receivers in one unit fetch their copies, each call with the message block now and then
        (so a download may come before the receivers are known); each receiver's client owns it
        by a lock or a declaration, so such a download is known to be of its own copy once the
        receivers are. Or the sender's client reads the metadata of a message to a party of its
        own unit, with the block; it answers for the sender (README.md, "Why benign traffic
        raises no high or critical finding"). Or, for a ward of a client with a herid claim
        list, see claim_copy."""
        rng = self.rng
        c = p.chunk.client
        if c.claim is not None and c.claim != "0" and rng.random() < 0.5:
            self.claim_copy(p.chunk, p)
            return
        m = self.uuid()
        if rng.random() < 0.5:
            recv = self.same_org_receivers(other, self.owns)
            if recv:
                block = self.message_block(m, other.her, [q.her for q in recv], False)
                for q in recv:
                    it = Item(m, q.her, other.her, False, q.chunk, False, block)
                    it.old = it.shared = True
                    q.shared += 1
                    self.start_item(it, self.t + self.dur(0, 20 * MS_MIN))
            return
        near = [q for q in self.recv_by_top[p.top] if q is not p]
        if near and not p.orphan and self.answers(p):
            q = near[int(rng.random() * len(near))]
            self.record("2" if c.v2 else "3", "GET", self.msg_path(c, m, ""), 200, p.chunk.block,
                        body=self.message_block(m, p.her, [q.her], False), dur=self.dur(8, 120))

    def claim_copy(self, chunk, p=None):
        """A client with a herid claim list fetches its copy of a message sent before the log to
        one of its wards (p, or, soon after it started polling, a ward whose owner is only
        learnable and not learned yet) and to a party of the unit another client owns, before
        any call has named the receivers; that client then downloads its own copy, with the
        message block. The daemon reads whose a party is, as seen from the earlier downloader,
        from its herid claim list: the other party is another's and the ward its own, so the
        early download was of its own copy (README.md, "Why benign traffic raises no high or
        critical finding")."""
        rng = self.rng
        c = chunk.client
        if p is None:
            mine = [q for q in chunk.parties if q.cat == "learn" and not q.orphan]
            if not mine:
                return
            p = mine[rng.randrange(len(mine))]
        others = [q for q in self.recv_by_top.get(chunk.top, ())
                  if q.client is not c and not q.shared and self.owns(q)]
        senders = [s for s in self.recv if s.top != chunk.top]
        if p.orphan or not others or not senders:
            return
        q = others[rng.randrange(len(others))]
        sender = senders[rng.randrange(len(senders))]
        m = self.uuid()
        self.record("2", "GET", self.msg_path(c, m, "/business-document"), 200, chunk.block,
                    dur=self.dur(30, 900))
        block = self.message_block(m, sender.her, [p.her, q.her], False)
        self.push(self.t + self.dur(MS_MIN, 10 * MS_MIN), EV_CALL,
                  (self.claim_copy_other, (m, q, block)))

    def claim_copy_other(self, arg):
        m, q, block = arg
        if q.orphan or q.shared or not self.owns(q):
            return
        qc = q.chunk.client
        self.record("2" if qc.v2 else "3", "GET", self.msg_path(qc, m, "/business-document"), 200,
                    q.chunk.block, body=block, dur=self.dur(30, 900))

    def on_status(self, obj, att):
        msg, sp, block = obj
        if sp.orphan:
            return
        c = sp.chunk.client
        if c.v2:
            tail = "/apprec" if self.rng.random() < 0.5 else "/status"
            self.record("2", "GET", self.msg_path(c, msg, tail), 200, sp.chunk.block,
                        body=self.mblock(block))
        else:
            self.record("3", "GET", self.msg_path(c, msg, "/status"), 200, sp.chunk.block,
                        body=self.mblock(block), dur=self.dur(8, 90))
