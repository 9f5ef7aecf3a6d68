"""The generator's own reading of the rules of shared/DETECTIONS.md, which writes the ground
truth of injected incidents.

judge() is a plain reading of the rules, evaluated on the state before the call. It runs for
injected calls only: benign traffic is built to raise nothing (posture findings of API v2
clients with herid claim "0" aside), and tools/gen/check_truth.py verifies that against the
files. Every injected call checks that its intended rule is among the findings.

RuleModel is a mixin of Generator (edi_gen.py), through Incidents."""

import heapq
import json

from model import (EV_CALL, LOCK_BLOCKED, MALFORMED, MS_D, MS_H, MS_S,
                   OWNER_ACTIONS, QUARANTINE, REPEAT_WINDOW, RULES, SHARED_WINDOW, STALE_AFTER,
                   SWEEP_THRESHOLD, SWEEP_WINDOW, UNKNOWN_PATHS, Lock, fmt_time)


class RuleModel:
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

    def answers_for(self, F, her):
        """Whether F answers for her: its herid claim list names her, else it is her owner."""
        if F.claim is not None and F.claim != "0":
            return str(her) in F.claim.split("-")
        return self.owner(her) is F

    def download_parties(self, F, top, hers):
        """The receivers (all known) a download by F under the token of `top` acts for: those
        the token's organisation covers, all of them when it covers none; of several covered
        ones, those F answers for when it answers for some but not all."""
        covered = [h for h in hers if h in self.parties and self.parties[h].top == top]
        if not covered:
            return list(hers)
        own = [h for h in covered if self.answers_for(F, h)]
        return own if own and len(covered) > 1 else covered

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
                         lock_write=False, claim=None, created=None):
        """Judges the call and writes its findings to the ground truth. `msg`: the message the
        call acts on; `created`: the one a send created (the findings name it)."""
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
            if rule == "edi.herid-claim-whole-org" and rule != intended and F.claim == "0":
                continue  # a posture finding, as every call of such a client raises: not listed
            key = (rule, F.idx, her, msg if rule != "edi.party-sweep" else None)
            prev = self.gt_keys.get(key)
            if prev is not None and self.t - prev < 2 * REPEAT_WINDOW:
                raise AssertionError("ground truth key %r repeats within two hours" % (key,))
            self.gt_keys[key] = self.t
            kind = "incident" if rule == intended and not done else "side-effect"
            if kind == "incident":
                done = True
            self.gt(rule, sev, kind, inc, rid, F, her, msg or created)
        return inc
