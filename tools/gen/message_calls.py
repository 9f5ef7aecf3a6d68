"""The calls of a message's lifecycle after its delivery: metadata reads, downloads, marks,
apprecs and status reads, each with its failures and retries and the incidents planted on it.

MessageCalls is a mixin of Traffic (traffic.py), which schedules these steps."""

from model import (EV_APPREC, EV_CALL, EV_DOWNLOAD, EV_MARK, MS_MIN, MS_S, P_APPREC, P_CASE, P_FAIL,
                   P_UPPER_ID)


class MessageCalls:
    def msg_path(self, client, msg, tail):
        v2 = client.v2
        if self.rng.random() < P_UPPER_ID:
            msg = msg.upper()
        if self.rng.random() < P_CASE:
            v2 = not v2
        return ("/Messages/" if v2 else "/messages/") + msg + tail

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
                    dur=self.dur(8, 120))

    def on_download(self, it, att):
        p = self.parties[it.her]
        if p.orphan:
            return
        c = it.chunk.client
        api = "2" if c.v2 else "3"
        path = self.msg_path(c, it.msg, "/business-document")
        if att == 0 and self.rng.random() < P_FAIL:
            self.failed(api, "GET", path, it.chunk.block, EV_DOWNLOAD, it)
            return
        self.record(api, "GET", path, 200, it.chunk.block, dur=self.dur(30, 900))
        p.last_act = self.t
        cu = self.custody.get(it.msg)
        if cu is not None:
            cu["dl"].setdefault(it.her, set()).add(c.idx)
        plan = it.plan
        t = self.t
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
            return
        c = it.chunk.client
        if c.v2:
            api, path, body = "2", self.msg_path(c, it.msg, "/read/%d" % it.her), ""
        else:
            api, path = "3", self.msg_path(c, it.msg, "/downloaded")
            body = ',"request":{"receiverHerId":%d}' % it.her
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
            body = ',"request":{"appRecStatus":"Ok"},"response":{"id":"%s"}' % ap
        else:
            api, path = "3", self.msg_path(c, it.msg, "/apprec")
            r = self.rng.random()  # most receipts are Ok; some report an error, a few reject
            st = "Ok" if r < 0.93 else "OkErrorInMessagePart" if r < 0.98 else "Rejected"
            body = ',"request":{"appRecSenderHerId":%d,"appRecStatus":"%s"},"response":{"id":"%s"}' % (
                her, st, ap)
        if att == 0 and it.plan is None and self.rng.random() < P_FAIL:
            self.failed(api, "POST", path, it.chunk.block, EV_APPREC, it,
                        body.split(',"response"')[0])
            return
        if it.plan == "edi.apprec-sender-not-receiver" and self.rng.random() < 0.25:
            # refused by the API: the rule's lower severity
            rid = self.record(api, "POST", path, 403, it.chunk.block, body=body.split(',"response"')[0])
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
            self.deliver(sp, ap, from_her, True)

    def on_status(self, obj, att):
        msg, sp = obj
        if sp.orphan:
            return
        c = sp.chunk.client
        if c.v2:
            tail = "/apprec" if self.rng.random() < 0.5 else "/status"
            self.record("2", "GET", self.msg_path(c, msg, tail), 200, sp.chunk.block)
        else:
            self.record("3", "GET", self.msg_path(c, msg, "/status"), 200, sp.chunk.block,
                        dur=self.dur(8, 90))
