"""Incidents about the call itself rather than a message's custody: a v2 call with a herid
claim for the whole organisation, a HER-Id the Address Registry does not know, and a path no
route takes.

PostureIncidents is a mixin of Generator (edi_gen.py), beside Incidents."""

from model import MS_H, REPEAT_WINDOW, UNKNOWN_PATHS


class PostureIncidents:
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
        uuid = self.uuid()
        mid = uuid if "{id}" in path else None  # a path under a message names it
        path = path.replace("{id}", uuid)
        rid = self.record("2" if F.v2 else "3", method, path, 404 if rng.random() < 0.8 else 405,
                          ch.block)
        self.incident += 1
        self.gt("edi.unknown-route", "low", "incident", self.incident, rid, F, None, mid)
        return True
