"""What check_truth.py reads: the registry snapshot, JSON lines, record times, and the route
table and query lists of shared/EVENTS.md, read as the server routes and binds them."""

import calendar
import json
import os

from paths import canonical_uuid, her_id_text, path_segments, query_pairs

H = 3600 * 1000
D = 24 * H
LOCK_BLOCKED = {"send", "mark_downloaded", "apprec_send", "config_write", "config_delete"}
OWNER_ACTIONS = LOCK_BLOCKED | {"download", "poll"}


def ms(ts):
    return calendar.timegm((int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]),
                            int(ts[14:16]), int(ts[17:19]), 0, 0, 0)) * 1000 + int(ts[20:23])


def jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


class Registry:
    def __init__(self, d):
        self.orgs = {o["organisasjonsnummer"]: o.get("overordnetEnhet")
                     for o in jsonl(os.path.join(d, "organizations.jsonl"))}
        self.parties = {p["herId"]: p for p in jsonl(os.path.join(d, "communication-parties.jsonl"))}
        self.owners = {o["herId"]: o["clientId"] for o in jsonl(os.path.join(d, "owners.jsonl"))}
        self.reservations = jsonl(os.path.join(d, "reservations.jsonl"))

    def org(self, her):
        p = self.parties.get(her)
        if p is None:
            return None
        if p["type"] == "Organization":
            return p.get("organizationNumber")
        return p.get("parentOrganizationNumber") or self.org(p.get("parentHerId"))

    def covers(self, top, her):
        o = self.org(her)
        seen = 0
        while o is not None and seen < 20:
            if o == top:
                return True
            o = self.orgs.get(o)
            seen += 1
        return False


ROUTES = [
    ("3", "POST", ["messages"], "send"), ("3", "GET", ["messages", "{id}"], "read_metadata"),
    ("3", "GET", ["messages", "{id}", "business-document"], "download"),
    ("3", "GET", ["messages", "{id}", "status"], "read_status"),
    ("3", "POST", ["messages", "{id}", "apprec"], "apprec_send"),
    ("3", "PUT", ["messages", "{id}", "downloaded"], "mark_downloaded"),
    ("3", "GET", ["notifications"], "poll"), ("3", "GET", ["notifications", "stream"], "poll"),
    ("3", "PUT", ["mshconfigurations"], "config_write"),
    ("3", "POST", ["mshconfigurations"], "config_write"),
    ("3", "DELETE", ["mshconfigurations"], "config_delete"), ("3", "GET", ["ping"], "ping"),
    ("2", "POST", ["messages"], "send"), ("2", "GET", ["messages"], "poll"),
    ("2", "GET", ["messages", "{id}"], "read_metadata"),
    ("2", "GET", ["messages", "{id}", "business-document"], "download"),
    ("2", "GET", ["messages", "{id}", "status"], "read_status"),
    ("2", "GET", ["messages", "{id}", "apprec"], "read_apprec"),
    ("2", "POST", ["messages", "{id}", "apprec", "{herId}"], "apprec_send"),
    ("2", "PUT", ["messages", "{id}", "read", "{herId}"], "mark_downloaded"),
    ("2-vNext", "GET", ["messages", "notices"], "poll"),
    ("2-vNext", "POST", ["mshconfiguration"], "config_write"),
]


def route(rec):
    segs = path_segments(rec["path"])
    for api, method, tmpl, action in ROUTES:
        if api != rec["apiVersion"] or method != rec["method"] or len(tmpl) != len(segs):
            continue
        got = {}
        for t, s in zip(tmpl, segs):
            if t[0] == "{":
                got[t] = s
            elif t != s.lower():
                break
        else:
            if "{id}" in got:
                got["{id}"] = canonical_uuid(got["{id}"])
                if got["{id}"] is None:
                    continue  # no message id: not this route
            return action, got.get("{id}"), got.get("{herId}")
    # No route; one under /messages/{id} still concerns that message.
    if len(segs) >= 2 and segs[0].lower() == "messages":
        return "unknown", canonical_uuid(segs[1]), None
    return "unknown", None, None


def query_herids(q):
    out = []
    for k, v in query_pairs(q):
        if k in ("herids", "receiverherids"):
            out.extend(her_id_text(x) for x in v.split(","))
    return out
