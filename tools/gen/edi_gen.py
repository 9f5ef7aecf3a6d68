#!/usr/bin/env python3
"""Synthetic EDI 2.0 access-log traffic for edi-audit, with injected incidents and ground truth.

    python3 tools/gen/edi_gen.py --seed 1 --records 1000000 --days 14 --out /tmp/edi
    python3 tools/gen/edi_gen.py --selftest

Writes OUT/registry/*.jsonl (reference snapshots, shared/EVENTS.md), OUT/access-log.jsonl,
OUT/ground-truth.jsonl (every finding the injected incidents should raise) and OUT/world.json
(the clients and what the model made of them). The same arguments give byte-identical output.
The model, its guarantees and the ground-truth format are described in tools/gen/README.md.
Standard library only; the access log is written as a stream and memory stays bounded by the
world size and the number of injected incidents, not by --records.
"""

import argparse
import hashlib
import heapq
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections import deque

MS_S = 1000
MS_MIN = 60 * MS_S
MS_H = 60 * MS_MIN
MS_D = 24 * MS_H

# Rule parameters of shared/DETECTIONS.md that the model must respect.
LEARNING = 7 * MS_D
SHARED_WINDOW = 7 * MS_D
SWEEP_WINDOW = 10 * MS_MIN
SWEEP_THRESHOLD = 20
STALE_AFTER = 30 * MS_D
REPEAT_WINDOW = MS_H

# Benign clients introduce their parties in polls of at most CHUNK parties, one chunk per
# INTRO_STEP, so no benign client ever meets SWEEP_THRESHOLD new parties inside SWEEP_WINDOW.
CHUNK = 12
INTRO_STEP = 11 * MS_MIN

RULES = [
    "edi.org-membership", "edi.reserved-party-foreign-client", "edi.herid-claim-scope",
    "edi.apprec-sender-not-receiver", "edi.foreign-send", "edi.foreign-download",
    "edi.foreign-acknowledgement", "edi.acknowledged-without-download", "edi.foreign-apprec",
    "edi.foreign-msh-change", "edi.reservation-takeover", "edi.shared-party",
    "edi.stale-reservation", "edi.herid-claim-whole-org", "edi.unknown-party",
    "edi.unknown-route", "edi.new-client-for-party", "edi.party-sweep",
]
QUARANTINE = "quarantine"

OWNER_ACTIONS = {"send", "download", "mark_downloaded", "apprec_send", "config_write",
                 "config_delete", "poll"}
LOCK_BLOCKED = {"send", "mark_downloaded", "apprec_send", "config_write", "config_delete"}

# Share of spontaneous events (the rest is the message lifecycle they start).
P_POLL = 0.70
P_SEND = P_POLL + 0.085
P_PING = P_SEND + 0.012
P_CONFIG = P_PING + 0.002
P_RELOCK = P_CONFIG + 0.0004
P_EXPIRED = P_RELOCK + 0.001
P_FAIL = 0.004  # a call fails with 5xx and is retried with a new requestId
P_APPREC = 0.85
P_META = 0.10
P_STATUS = 0.30
P_CASE = 0.01  # path written with the other API's capitalisation
P_UPPER_ID = 0.005

# Event-time weight of each UTC hour (Norwegian working day ~ 06-15 UTC); normalised below.
_HOURLY = [0.15, 0.15, 0.15, 0.15, 0.2, 0.4, 1.2, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.5, 0.9,
           0.9, 0.8, 0.5, 0.5, 0.5, 0.4, 0.25, 0.2]
HOURLY = [w * 24.0 / sum(_HOURLY) for w in _HOURLY]

PLACE_A = ["Fjord", "Elve", "Furu", "Hav", "Gran", "Lyng", "Sol", "Berg", "Rogn", "Nes", "Strand",
           "Bjørke", "Hegg", "Selje", "Tind", "Myr", "Ask", "Lind", "Kvit", "Stein", "Vier", "Øy"]
PLACE_B = ["vik", "dal", "nes", "sund", "heim", "stad", "bø", "li", "vang", "by", "fjell", "mo"]
FIRST = ["Ingrid", "Ola", "Kari", "Per", "Silje", "Jonas", "Marte", "Lars", "Hanne", "Eirik",
         "Nora", "Sindre", "Tone", "Håkon", "Live", "Anders", "Maja", "Trond", "Ida", "Jens"]
LAST = ["Haugen", "Lien", "Berge", "Moen", "Dahl", "Strand", "Aasen", "Vik", "Bakke", "Holm",
        "Solberg", "Lunde", "Nygård", "Brekke", "Eide", "Rønning"]
WARDS = ["Avdeling A", "Avdeling B", "Avdeling C", "Skjermet enhet", "Korttidsavdeling",
         "Rehabilitering", "Lindrende enhet", "Langtidsavdeling"]
DEPTS = ["Medisinsk klinikk", "Kirurgisk poliklinikk", "Ortopedi", "Nevrologi", "Kardiologi",
         "Geriatri", "Barneklinikk", "Kvinneklinikk", "Psykiatrisk poliklinikk", "Onkologi",
         "Lungemedisin", "Revmatologi", "Øre-nese-hals", "Øyeavdeling", "Akuttmottak"]
DORMANT = ["Dagsenter", "Kjøkken", "Tildelingskontor", "Ergoterapi", "Fysioterapi",
           "Skolehelsetjenesten", "Jordmortjenesten", "Frisklivssentral", "Hjelpemiddellager",
           "Koordinerende enhet", "Demensteam", "Kreftkoordinator", "Innvandrerhelse",
           "Helsestasjon for ungdom", "Boligkontor", "Rustjenesten", "Avlastning", "Psykologtjeneste"]
MALFORMED = ["invalid-json", "missing-field", "schemaVersion", "timestamp-format", "timestamp-value",
             "requestId", "apiVersion", "method", "status", "path-length", "orgnrParent",
             "herId-body", "herId-query", "herId-path", "message-id", "herIdClaim",
             "configurations"]
UNKNOWN_PATHS = [("GET", "/messages/{id}/attachments"), ("GET", "/api/v1/messages"),
                 ("POST", "/messages/{id}/forward"), ("GET", "/mshconfigurations"),
                 ("PATCH", "/messages/{id}"), ("GET", "/health"), ("GET", "/Messages/{id}/receipt"),
                 ("DELETE", "/messages/{id}")]


class Org:
    __slots__ = ("orgnr", "name", "parent", "kind", "top")

    def __init__(self, orgnr, name, parent, kind):
        self.orgnr, self.name, self.parent, self.kind = orgnr, name, parent, kind
        self.top = parent.top if parent else orgnr


class Party:
    __slots__ = ("her", "name", "type", "orgnr", "parent", "org", "top", "client", "cat",
                 "chunk", "intro", "orphan", "ar_active", "last_act")

    def __init__(self, her, name, ptype, org, parent, top):
        self.her, self.name, self.type = her, name, ptype
        self.orgnr = org if ptype == "Organization" else ""
        self.parent = parent
        self.org, self.top = org, top
        self.client = None    # the benign client acting for it, or None (dormant, external)
        self.cat = "dormant"  # snap | log | decl | learn | dormant | stale | external
        self.chunk = None
        self.intro = False    # its client has polled it at least once
        self.orphan = False   # its client stopped acting for it (its lock was taken over)
        self.ar_active = True
        self.last_act = 0


class Client:
    __slots__ = ("idx", "cid", "name", "supplier", "tenancy", "kind", "api", "claim", "tenants",
                 "parties", "chunks", "stream", "src", "news", "sweeping", "v2", "vnext",
                 "intro_left", "busy")

    def __init__(self, idx, cid, name, supplier, tenancy, kind, api="3"):
        self.idx, self.cid, self.name, self.supplier = idx, cid, name, supplier
        self.tenancy, self.kind, self.api = tenancy, kind, api
        self.claim = None
        self.tenants = {}     # top orgnr -> (client block JSON fragment, orgnrChild)
        self.parties = []
        self.chunks = []
        self.stream = False
        self.src = ""
        self.news = deque()   # event times of successful first calls for a party (sweep window)
        self.sweeping = False
        self.v2 = api == "2"
        self.vnext = False
        self.intro_left = 0
        self.busy = 0         # chain incidents waiting for this client's call


class Chunk:
    """The parties one client polls together under one tenant token."""
    __slots__ = ("client", "top", "parties", "mid", "block", "pending", "sched", "active", "last",
                 "api")

    def __init__(self, client, top, parties):
        self.client, self.top, self.parties = client, top, parties
        self.block = client.tenants[top][0]
        self.pending = []
        self.sched = False
        self.active = False
        self.last = 0
        self.api = client.api
        self.rebuild()

    def rebuild(self):
        hers = [p.her for p in self.parties if not p.orphan]
        c = self.client
        if c.v2 and c.vnext:
            q = "&".join("receiverHerIds=%d" % h for h in hers)
            self.mid = '"apiVersion":"2-vNext","method":"GET","path":"/Messages/notices","query":"%s"' % q
        elif c.v2:
            q = "&".join("ReceiverHerIds=%d" % h for h in hers)
            self.mid = '"apiVersion":"2","method":"GET","path":"/Messages","query":"%s"' % q
        else:
            q = "&".join("HerIds=%d" % h for h in hers) + "&NotificationsToFetch=100"
            path = "/notifications/stream" if c.stream else "/notifications"
            self.mid = '"apiVersion":"3","method":"GET","path":"%s","query":"%s"' % (path, q)


class Item:
    """One message waiting at or handled for one receiver party."""
    __slots__ = ("msg", "her", "sender", "apprec", "chunk", "plan", "actor", "single")

    def __init__(self, msg, her, sender, apprec, chunk, single):
        self.msg, self.her, self.sender, self.apprec, self.chunk = msg, her, sender, apprec, chunk
        self.single = single  # the message has this one receiver
        self.plan = None   # the chain incident this delivery carries, if any
        self.actor = None  # (client, block) of the foreign client in a chain incident


class Lock:
    __slots__ = ("holder", "since", "denied", "watched")

    def __init__(self, holder, since):
        self.holder, self.since, self.denied, self.watched = holder, since, False, False


def fmt_time(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def parse_time(text):
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$", text)
    if not m:
        raise ValueError("expected YYYY-MM-DDTHH:MM:SS[.mmm]Z, got %r" % text)
    import calendar
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = (m.group(7) or "0").ljust(3, "0")
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000 + int(frac)


# Event kinds on the schedule heap.
EV_INTRO, EV_DELIVER, EV_META, EV_DOWNLOAD, EV_MARK, EV_APPREC, EV_STATUS, EV_LOCK, EV_POLL, \
    EV_CALL = range(10)


class Generator:
    def __init__(self, seed, records, days, out, municipalities=None, incidents_every=1000,
                 start="2026-05-04T00:00:00.000Z", quiet=False):
        self.rng = random.Random(seed)
        self.seed = seed
        self.N = records
        self.days = days
        self.out = out
        self.every = max(20, incidents_every)
        # enough parties that every incident can use a client/party pair of its own
        self.K = municipalities or max(2, int(math.log10(max(records, 10))) - 2,
                                       min(60, -(-records // (self.every * 60))))
        self.start = parse_time(start)
        self.end = self.start + int(days * MS_D)
        self.quiet = quiet
        self.used_orgnr = set()
        self.next_her = 8100000
        self.orgs = []
        self.parties = {}
        self.clients = []
        self.tenants_by_top = {}  # top orgnr -> [(client, block)]
        self.locks = {}           # her -> Lock
        self.declared = {}        # her -> client
        self.snap_reservations = []
        self.stale_plan = []      # (her, holder, since, denied_at or None)
        self.notes = []

    # ------------------------------------------------------------------ world
    def orgnr(self, first):
        rng = self.rng
        w = (3, 2, 7, 6, 5, 4, 3, 2)
        while True:
            d = [first] + [rng.randrange(10) for _ in range(7)]
            c = 11 - sum(a * b for a, b in zip(w, d)) % 11
            if c == 11:
                c = 0
            if c == 10:
                continue
            n = "".join(map(str, d)) + str(c)
            if n not in self.used_orgnr:
                self.used_orgnr.add(n)
                return n

    def uuid(self):
        h = "%032x" % self.rng.getrandbits(128)
        return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3],
                                      h[17:20], h[20:32])

    def place(self, used):
        rng = self.rng
        while True:
            p = rng.choice(PLACE_A) + rng.choice(PLACE_B)
            if p not in used:
                used.add(p)
                return p

    def add_org(self, name, kind, parent=None, first=9):
        o = Org(self.orgnr(first), name, parent, kind)
        self.orgs.append(o)
        return o

    def add_party(self, name, ptype, org_or_parent, client=None, cat=None):
        self.next_her += 1 + self.rng.randrange(3)
        her = self.next_her
        if ptype == "Organization":
            org = org_or_parent
            p = Party(her, name, ptype, org.orgnr, None, org.top)
        else:
            parent = org_or_parent
            p = Party(her, name, ptype, parent.org, parent, parent.top)
        self.parties[her] = p
        if client is not None:
            p.client = client
            client.parties.append(p)
            p.cat = cat or self.pick_cat(client)
        return p

    def pick_cat(self, client):
        x = self.rng.random()
        if client.v2:
            return "decl" if x < 0.6 else "learn"
        return "snap" if x < 0.25 else "log" if x < 0.55 else "decl" if x < 0.80 else "learn"

    def add_client(self, name, kind, tenancy, supplier, api="3"):
        c = Client(len(self.clients), self.uuid(), name, supplier, tenancy, kind, api)
        c.src = name.split(" (")[0] + " %d.%d" % (self.rng.randrange(1, 12), self.rng.randrange(10))
        self.clients.append(c)
        return c

    def tenant(self, client, top, child=None):
        if top in client.tenants:
            return
        ip = "10.%d.%d.%d" % (self.rng.randrange(1, 250), self.rng.randrange(256),
                              self.rng.randrange(1, 255))
        cl = {"clientId": client.cid, "clientName": client.name, "tenancy": client.tenancy,
              "orgnrParent": top}
        if child:
            cl["orgnrChild"] = child
        if client.supplier:
            cl["orgnrSupplier"] = client.supplier
        if client.claim is not None:
            cl["herIdClaim"] = client.claim
        block = '"sourceSystem":%s,"clientIp":"%s","client":%s' % (
            json.dumps(client.src, ensure_ascii=False), ip,
            json.dumps(cl, ensure_ascii=False, separators=(",", ":")))
        client.tenants[top] = (block, child)
        self.tenants_by_top.setdefault(top, []).append((client, block))

    def build_world(self):
        rng = self.rng
        used = set()
        K = self.K
        nh_vendor = self.add_client("Omsorgsjournal", "nursing-epj", "multi-tenant", self.orgnr(9))
        gp_a = self.add_client("Legepraksis EPJ", "gp-epj", "multi-tenant", self.orgnr(9))
        gp_b = self.add_client("Allmenn EPJ", "gp-epj", "multi-tenant", self.orgnr(9))
        self.municipalities = []
        for m in range(K):
            place = self.place(used)
            top = self.add_org("%s kommune" % place, "hovedenhet", None, 9)
            ledd = self.add_org("%s kommune Helse og omsorg" % place, "organisasjonsledd", top, 9)
            oppv = self.add_org("%s kommune Oppvekst" % place, "organisasjonsledd", top, 9)
            integ = self.add_client("%s integrasjonsplattform" % place, "integration",
                                    "single-tenant", self.orgnr(9))
            integ.stream = True
            v2all = v2list = None
            if m % 2 == 0:
                v2all = self.add_client("%s legevakt meldingsklient (v2)" % place, "v2-whole-org",
                                        "single-tenant", self.orgnr(9), api="2")
                v2all.claim = "0"
            if m % 3 == 0:
                v2list = self.add_client("%s legemiddelmodul (v2)" % place, "v2-list",
                                         "single-tenant", self.orgnr(9), api="2")
                v2list.vnext = True
            self.tenant(integ, top.orgnr)
            home = self.add_party("%s kommune" % place, "Organization", top, integ, "decl")
            dormant_hosts = [home]
            # nursing homes
            for i in range(2 + rng.randrange(3)):
                u = self.add_org("%s kommune %s sykehjem" % (place, self.place(used)),
                                 "underenhet", ledd, 9)
                self.tenant(nh_vendor, top.orgnr, u.orgnr)
                org_p = self.add_party(u.name.replace("%s kommune " % place, ""), "Organization", u,
                                       nh_vendor)
                dormant_hosts.append(org_p)
                for w in rng.sample(WARDS, 2 + rng.randrange(4)):
                    owner = v2list if (v2list and len(v2list.parties) < 3 and rng.random() < 0.5) \
                        else nh_vendor
                    self.add_party("%s %s" % (org_p.name, w), "Service", org_p, owner)
            # municipal GP offices
            for i in range(1 + rng.randrange(2)):
                u = self.add_org("%s kommune %s legekontor" % (place, self.place(used)),
                                 "underenhet", ledd, 9)
                self.tenant(gp_a, top.orgnr, u.orgnr)
                org_p = self.add_party(u.name.replace("%s kommune " % place, ""), "Organization", u,
                                       gp_a)
                self.add_party("%s Fastlegetjeneste" % org_p.name, "Service", org_p, gp_a)
                for _ in range(2 + rng.randrange(4)):
                    self.add_party("%s %s (fastlege)" % (rng.choice(FIRST), rng.choice(LAST)),
                                   "Person", org_p, gp_a)
            # home care
            hc_client = nh_vendor if m % 2 == 0 else integ
            u = self.add_org("%s kommune Hjemmetjenesten" % place, "underenhet", ledd, 9)
            org_p = self.add_party("Hjemmetjenesten %s" % place, "Organization", u, hc_client)
            for z in rng.sample(["Nord", "Sør", "Øst", "Vest", "Sentrum", "Natt"], 2 + rng.randrange(3)):
                self.add_party("Hjemmetjenesten %s sone %s" % (place, z), "Service", org_p, hc_client)
            # emergency clinic
            u = self.add_org("%s kommune Legevakt" % place, "underenhet", top, 9)
            lv = v2all or integ
            if v2all:
                self.tenant(v2all, top.orgnr, u.orgnr)
            self.add_party("%s legevakt" % place, "Organization", u, lv)
            # mental health
            u = self.add_org("%s kommune Psykisk helse og rus" % place, "underenhet", ledd, 9)
            org_p = self.add_party("Psykisk helse og rus %s" % place, "Organization", u, integ)
            dormant_hosts.append(org_p)
            self.add_party("%s Oppfølgingstjenesten" % org_p.name, "Service", org_p, integ)
            self.add_party("%s Rusteam" % org_p.name, "Service", org_p, integ)
            if v2list:
                if not v2list.parties:  # guarantee the list client has a party
                    self.add_party("%s Legemiddelrom" % org_p.name, "Service", org_p, v2list)
                v2list.claim = "-".join(str(p.her) for p in v2list.parties)
                self.tenant(v2list, top.orgnr)
            # health stations and other units not (yet) on EDI 2.0: dormant parties
            u = self.add_org("%s kommune Helsestasjon" % place, "underenhet", oppv, 9)
            hs = self.add_party("%s helsestasjon" % place, "Organization", u)
            dormant_hosts.append(hs)
            n_dormant = 30 + rng.randrange(10)
            for i in range(n_dormant):
                host = dormant_hosts[i % len(dormant_hosts)]
                self.add_party("%s %s %d" % (host.name, DORMANT[i % len(DORMANT)], i // len(DORMANT) + 1),
                               "Service", host)
            self.municipalities.append((top, integ))
        # hospitals
        self.hospitals = []
        for h in range(max(1, (K + 1) // 2)):
            place = self.place(used)
            top = self.add_org("Helse %s HF" % place, "hovedenhet", None, 9)
            hc = self.add_client("%s pasientjournal" % place, "hospital", "single-tenant",
                                 self.orgnr(9))
            lab = None
            if h % 2 == 0:
                lab = self.add_client("%s laboratoriesystem" % place, "lab", "single-tenant",
                                      self.orgnr(9))
                self.tenant(lab, top.orgnr)
            self.tenant(hc, top.orgnr)
            for s in range(1 + rng.randrange(3)):
                site = self.place(used) if s else place
                u = self.add_org("Helse %s HF %s sykehus" % (place, site), "underenhet", top, 9)
                org_p = self.add_party("%s sykehus" % site, "Organization", u, hc)
                for d in rng.sample(DEPTS, 5 + rng.randrange(6)):
                    self.add_party("%s sykehus %s" % (site, d), "Service", org_p, hc)
                if lab:
                    self.add_party("%s sykehus Laboratoriemedisin" % site, "Service", org_p, lab)
                    self.add_party("%s sykehus Mikrobiologi" % site, "Service", org_p, lab)
                for i in range(6):
                    self.add_party("%s sykehus %s" % (site, DORMANT[(i * 5 + s) % len(DORMANT)]),
                                   "Service", org_p)
            self.hospitals.append((top, hc))
        # private GP offices: their own top-level units
        for g in range(3 * K):
            place = self.place(used)
            top = self.add_org("%s legesenter AS" % place, "hovedenhet", None, 9)
            u = self.add_org("%s legesenter AS avd. %s" % (place, place), "underenhet", top, 9)
            vendor = gp_a if rng.random() < 0.7 else gp_b
            self.tenant(vendor, top.orgnr)
            org_p = self.add_party("%s legesenter" % place, "Organization", u, vendor)
            self.add_party("%s legesenter Fastlegene" % place, "Service", org_p, vendor)
            for _ in range(2 + rng.randrange(4)):
                self.add_party("%s %s (fastlege)" % (rng.choice(FIRST), rng.choice(LAST)),
                               "Person", org_p, vendor)
        # external parties: organisation not in organizations.jsonl, nobody's client in the log
        self.external = []
        for e in range(2 * K):
            place = self.place(used)
            fake = Org(self.orgnr(9), "%s fysioterapi" % place, None, "hovedenhet")
            p = self.add_party(fake.name, "Organization", fake)
            p.cat = "external"
            self.external.append(p)
        for e in range(K):
            fake = Org(self.orgnr(9), "Nedlagt tannklinikk %d" % (e + 1), None, "hovedenhet")
            p = self.add_party(fake.name, "Organization", fake)
            p.cat = "external"
            p.ar_active = False
        if not gp_b.parties:
            # every client in clients.jsonl acts somewhere
            self.clients.remove(gp_b)
            for i, c in enumerate(self.clients):
                c.idx = i
        self.unknown_next = 9900000 + self.rng.randrange(1000)
        # chunks, in a stable order: by tenant, then by HER-Id
        for c in self.clients:
            by_top = {}
            for p in c.parties:
                by_top.setdefault(p.top, []).append(p)
            size = 64 if c.v2 and c.claim != "0" else CHUNK
            for top in sorted(by_top):
                ps = by_top[top]
                for i in range(0, len(ps), size):
                    ch = Chunk(c, top, ps[i:i + size])
                    c.chunks.append(ch)
                    for p in ch.parties:
                        p.chunk = ch
            c.intro_left = len(c.chunks)
        # locks and declarations present before the log starts
        for p in self.parties.values():
            if p.cat == "snap":
                since = self.start - self.rng.randrange(MS_H, 20 * MS_D)
                self.locks[p.her] = Lock(p.client, since)
                self.snap_reservations.append((p.her, p.client.cid, since))
            elif p.cat == "decl":
                self.declared[p.her] = p.client
        self.plan_stale()

    def dormant_in(self, top):
        return [p for p in self.parties.values() if p.top == top and p.cat == "dormant"]

    def plan_stale(self):
        """Reservations whose holder never calls for the party: raised 30 days after `since`."""
        rng = self.rng
        want = max(1, self.N // (self.every * (len(RULES) + 1)))
        span = self.end - self.start
        tops = [(top.orgnr, integ) for top, integ in self.municipalities] + \
               [(top.orgnr, hc) for top, hc in self.hospitals]
        made = 0
        for i in range(want):
            top, holder = tops[i % len(tops)]
            pool = self.dormant_in(top)
            if not pool:
                continue
            p = pool[rng.randrange(len(pool))]
            p.cat = "stale"
            denied = rng.random() < 0.5
            in_log = span > STALE_AFTER + 2 * MS_D and i % 2 == 1
            if in_log:
                latest = min(self.start + 6 * MS_D, self.end - STALE_AFTER - MS_D)
                since = self.start + MS_H + rng.randrange(max(1, latest - self.start - MS_H))
            else:
                x = MS_H + rng.randrange(max(1, int(min(span, STALE_AFTER) * 0.8)))
                since = self.start - STALE_AFTER + x
                self.snap_reservations.append((p.her, holder.cid, since))
                self.locks[p.her] = Lock(holder, since)
                self.locks[p.her].watched = True
            deadline = since + STALE_AFTER
            denied_at = None
            if denied:
                lo = max(self.start + MS_H, since + MS_H)
                hi = deadline - MS_H
                if hi > lo:
                    denied_at = lo + rng.randrange(hi - lo)
            self.stale_plan.append((p.her, holder, since, in_log, denied_at))
            made += 1

    def write_registry(self):
        d = os.path.join(self.out, "registry")
        os.makedirs(d, exist_ok=True)
        dump = lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n"
        with open(os.path.join(d, "organizations.jsonl"), "w", encoding="utf-8") as f:
            for o in self.orgs:
                r = {"organisasjonsnummer": o.orgnr, "navn": o.name}
                if o.parent:
                    r["overordnetEnhet"] = o.parent.orgnr
                r["kind"] = o.kind
                f.write(dump(r))
        with open(os.path.join(d, "communication-parties.jsonl"), "w", encoding="utf-8") as f:
            for her in sorted(self.parties):
                p = self.parties[her]
                r = {"herId": p.her, "name": p.name, "type": p.type}
                if p.type == "Organization":
                    r["organizationNumber"] = p.orgnr
                r["parentHerId"] = p.parent.her if p.parent else -1
                r["parentOrganizationNumber"] = p.parent.org if p.parent else ""
                r["active"] = p.ar_active
                f.write(dump(r))
        with open(os.path.join(d, "clients.jsonl"), "w", encoding="utf-8") as f:
            for c in self.clients:
                f.write(dump({"clientId": c.cid, "clientName": c.name, "orgnrSupplier": c.supplier}))
        with open(os.path.join(d, "reservations.jsonl"), "w", encoding="utf-8") as f:
            for her, cid, since in sorted(self.snap_reservations):
                f.write(dump({"herId": her, "clientId": cid, "since": fmt_time(since)}))
        with open(os.path.join(d, "owners.jsonl"), "w", encoding="utf-8") as f:
            for her in sorted(self.declared):
                f.write(dump({"herId": her, "clientId": self.declared[her].cid}))

    def write_world(self, stats):
        w = {
            "seed": self.seed, "records": self.N, "days": self.days,
            "start": fmt_time(self.start), "firstRecord": fmt_time(self.first_t or self.start),
            "learningEnds": fmt_time((self.first_t or self.start) + LEARNING),
            "lastRecord": fmt_time(self.t),
            "municipalities": self.K, "parties": len(self.parties),
            "organizations": len(self.orgs),
            "clients": [{
                "clientId": c.cid, "clientName": c.name, "kind": c.kind, "tenancy": c.tenancy,
                "apiVersion": "2-vNext+2" if c.vnext else c.api,
                "herIdClaim": c.claim, "tenants": sorted(c.tenants), "parties": len(c.parties),
                "postureFindings": ["edi.herid-claim-whole-org"] if c.claim == "0" else [],
            } for c in self.clients],
            "findingsByRule": stats,
        }
        with open(os.path.join(self.out, "world.json"), "w", encoding="utf-8") as f:
            json.dump(w, f, ensure_ascii=False, indent=1)
            f.write("\n")

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
        self.stats = {}
        self.inc_stats = {}
        self.incident = 0
        self.seen_pairs = set()  # (client idx, her): any call a foreign client made
        self.ok_pairs = set()    # ... that succeeded
        self.own_pairs = set()   # ... that was a successful owner action
        self.foreign = {}        # her -> {client idx: last successful owner action}
        self.custody = {}        # message id -> {"recv": [...], "dl": {her: set(client idx)}}
        self.gt_keys = {}        # (rule, client idx, her, msg) -> last time in ground truth
        self.last_route = {}     # client idx -> last injected unknown route
        self.watches = []        # heap of (deadline, her, holder idx, since)
        self.stale_next = -1  # the first record passes it: see emit
        self.want = deque()      # chain incidents waiting for a suitable delivery
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
            if self.spont & 1023 == 0:
                self.r_est = 0.7 * self.r_est + 0.3 * max(1.0, self.count / float(self.spont))
            gap = self.base_gap * self.r_est / hourly[(self.t // MS_H) % 24]
            next_spont = self.t + int(-log(1.0 - rand()) * gap)
        self.log.write("".join(self.buf))
        self.buf.clear()
        self.log.close()
        self.gtf.close()

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
        self.emit(('{"schemaVersion":1,"timestamp":"%s%03dZ","requestId":"%s",%s,"status":200,'
                   '"durationMs":%d,%s,"response":{"messages":[%s]}}\n') % (
            self._secpfx, t % 1000, rid, chunk.mid, dur, chunk.block, items), rid)

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
        for p in chunk.parties:
            p.intro = True
            self.recv.append(p)
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

    def deliver(self, p, msg, sender, apprec, single=True):
        ch = p.chunk
        it = Item(msg, p.her, sender, apprec, ch, single)
        ch.pending.append(it)
        if not ch.sched:
            ch.sched = True
            self.push(self.t + self.dur(2 * MS_S, 120 * MS_S), EV_DELIVER, ch)
        return it

    def start_item(self, it, t):
        rng = self.rng
        if it.plan is None and self.want and not it.apprec and it.single:
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
            st = "Ok" if self.rng.random() < 0.95 else "OkErrorInMessagePart"
            body = ',"request":{"appRecSenderHerId":%d,"appRecStatus":"%s"},"response":{"id":"%s"}' % (
                her, st, ap)
        if att == 0 and it.plan is None and self.rng.random() < P_FAIL:
            self.failed(api, "POST", path, it.chunk.block, EV_APPREC, it,
                        body.split(',"response"')[0])
            return
        rid = self.record(api, "POST", path, 201, it.chunk.block, body=body, dur=self.dur(40, 600))
        p.last_act = self.t
        if it.plan == "edi.apprec-sender-not-receiver":
            self.judge_and_record(rid, c, it.chunk.top, api, "apprec_send", [her], 201, it.plan,
                                  msg=it.msg)
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

    def pick_receivers(self, sender):
        rng = self.rng
        recv = self.recv
        x = rng.random()
        n = 1 if x < 0.88 else 2 if x < 0.98 else 3
        out = []
        tops = {sender.top} if n > 1 else set()
        for _ in range(n * 4):
            if len(out) == n:
                break
            p = recv[int(rng.random() * len(recv))]
            if p is sender or p.orphan or p in out:
                continue
            # several receivers only in different top-level units: a download then acts for
            # exactly the receiver its token's organisation covers
            if n > 1 and p.top in tops:
                continue
            tops.add(p.top)
            out.append(p)
        return out

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
        for p in recv:
            if p.client is not None and p.chunk.active and not p.orphan:
                self.deliver(p, m, sender.her, False, len(recv) == 1)
        if rng.random() < P_STATUS:
            self.push(self.t + self.dur(10 * MS_MIN, 4 * MS_H), EV_STATUS, (m, sender))
        return m

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
        mine = [p for p in ch.parties if not p.orphan and p.her in self.locks and
                self.locks[p.her].holder is c and not self.locks[p.her].watched]
        if not mine:
            return
        p = mine[int(rng.random() * len(mine))]
        self.record("3", "DELETE", "/mshconfigurations", 204, ch.block, query="HerIds=%d" % p.her)
        del self.locks[p.her]
        p.last_act = self.t
        self.push(self.t + self.dur(MS_MIN, 5 * MS_MIN), EV_LOCK, (ch, [p]))

    # ------------------------------------------------------------------ the rule model
    def owner(self, her):
        lk = self.locks.get(her)
        if lk is not None:
            return lk.holder
        d = self.declared.get(her)
        if d is not None:
            return d
        p = self.parties.get(her)
        if p is not None and p.cat == "learn" and p.intro and not p.orphan:
            return p.client
        return None

    def owner_last(self, p):
        if p.client is None or not p.intro or p.orphan:
            return -1
        return max(p.last_act, p.chunk.last)

    def judge(self, F, top, api, action, her, status, msg=None, lock_write=False, claim=None):
        """The findings the rules of shared/DETECTIONS.md raise for one (call, party), evaluated
        against the state before the call; then applies the call to that state."""
        t = self.t
        ok = 200 <= status < 300
        denied = status in (401, 403, 423)
        out = []
        p = self.parties.get(her)
        if p is None:
            out.append(("edi.unknown-party", "medium"))
        elif p.top != top and (ok or denied):
            out.append(("edi.org-membership", "critical" if ok else "medium"))
        lk = self.locks.get(her)
        foreign_lock = lk is not None and lk.holder is not F
        if foreign_lock:
            if ok:
                out.append(("edi.reserved-party-foreign-client",
                            "critical" if action in LOCK_BLOCKED else "high"))
            elif denied:
                out.append(("edi.reserved-party-foreign-client", "low"))
                lk.denied = True
        claim = claim if claim is not None else F.claim
        if claim is not None and claim != "0" and (ok or denied):
            if str(her) not in claim.split("-"):
                out.append(("edi.herid-claim-scope", "critical" if ok else "low"))
        if api == "2" and claim == "0":
            out.append(("edi.herid-claim-whole-org", "info"))
        cu = self.custody.get(msg) if msg else None
        if action == "apprec_send" and cu is not None and her not in cu["recv"] and (ok or denied):
            out.append(("edi.apprec-sender-not-receiver", "high" if ok else "low"))
        takeover = action in ("config_write", "config_delete") and foreign_lock and \
            (lock_write or action == "config_delete")
        if takeover and (ok or denied):
            out.append(("edi.reservation-takeover", "critical" if ok else "medium"))
        if ok:
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
            if p is not None:
                benign = p.client is F and p.intro
                key = (F.idx, her)
                if action in OWNER_ACTIONS:
                    if lk is None:
                        window = t - SHARED_WINDOW
                        others = set()
                        ol = self.owner_last(p)
                        if p.client is not None and p.client is not F and ol >= window:
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
            if cu is not None and action == "download":
                cu["dl"].setdefault(her, set()).add(F.idx)
            if action == "config_delete" and lk is not None:
                del self.locks[her]
            elif action == "config_write" and lock_write:
                if lk is None or foreign_lock:
                    self.locks[her] = Lock(F, t)
        self.seen_pairs.add((F.idx, her))
        return out

    def judge_and_record(self, rid, F, top, api, action, hers, status, intended, msg=None,
                         lock_write=False, claim=None):
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
            key = (rule, F.idx, her, msg if rule != "edi.party-sweep" else None)
            prev = self.gt_keys.get(key)
            if prev is not None and self.t - prev < 2 * REPEAT_WINDOW:
                raise AssertionError("ground truth key %r repeats within two hours" % (key,))
            self.gt_keys[key] = self.t
            kind = "incident" if rule == intended and not done else "side-effect"
            if kind == "incident":
                done = True
            self.gt(rule, sev, kind, inc, rid, F, her, msg)
        return inc

    # ------------------------------------------------------------------ incidents
    def start_incident(self):
        """Round robin over the rule ids so that each gets its share; a rule that finds no
        target right now is tried again first at the next few occasions."""
        rng = self.rng
        retry = self.retry
        for i, (rule, left) in enumerate(retry):
            if self.inject(rule):
                del retry[i]
                return
            if left <= 1:
                del retry[i]
            else:
                retry[i] = (rule, left - 1)
            break
        for _ in range(len(RULES) + 1):
            if not self.cycle:
                self.cycle = [r for r in RULES if r != "edi.stale-reservation"] + [QUARANTINE]
                rng.shuffle(self.cycle)
            rule = self.cycle.pop()
            if self.inject(rule):
                return
            if all(r != rule for r, _ in retry):
                retry.append((rule, 5))
        self.send_random()

    def inject(self, rule):
        if rule in ("edi.foreign-download", "edi.foreign-acknowledgement", "edi.foreign-apprec",
                    "edi.acknowledged-without-download", "edi.apprec-sender-not-receiver"):
            if len(self.want) >= 8:
                return False
            self.want.append(rule)
            return True
        fn = {
            QUARANTINE: self.inc_quarantine,
            "edi.org-membership": self.inc_org_membership,
            "edi.reserved-party-foreign-client": self.inc_reserved,
            "edi.herid-claim-scope": self.inc_claim_scope,
            "edi.foreign-send": self.inc_foreign_send,
            "edi.foreign-msh-change": self.inc_msh_change,
            "edi.reservation-takeover": self.inc_takeover,
            "edi.shared-party": self.inc_shared,
            "edi.herid-claim-whole-org": self.inc_whole_org,
            "edi.unknown-party": self.inc_unknown_party,
            "edi.unknown-route": self.inc_unknown_route,
            "edi.new-client-for-party": self.inc_new_client,
            "edi.party-sweep": self.inc_sweep,
        }[rule]
        return fn()

    def sweep_room(self, c, limit):
        news = c.news
        while news and news[0] <= self.t - SWEEP_WINDOW:
            news.popleft()
        return len(news) <= limit

    def actors(self, p, exclude=(), v3=True, lock_ok=False):
        """Clients whose token covers p's top-level unit, other than p's own and the lock holder;
        each pair (client, party) is used by at most one incident."""
        out = []
        lk = self.locks.get(p.her)
        for c, block in self.tenants_by_top.get(p.top, ()):
            if c is p.client or c in exclude or c.sweeping:
                continue
            if v3 and c.v2:
                continue
            if lk is not None and lk.holder is c and not lock_ok:
                continue
            if (c.idx, p.her) in self.seen_pairs or not self.sweep_room(c, 5):
                continue
            out.append((c, block))
        self.rng.shuffle(out)
        return out

    def pick(self, pred, tries=60):
        rng = self.rng
        recv = self.recv
        if not recv:
            return None
        for _ in range(tries):
            p = recv[int(rng.random() * len(recv))]
            if not p.orphan and pred(p):
                return p
        return None

    def declared_unlocked(self, p):
        return p.her in self.declared and p.her not in self.locks and \
            self.owner_last(p) >= self.t - SHARED_WINDOW + MS_D

    def plan_chain(self, it):
        """Turns one delivery into the chain incident that is waiting (want_chain)."""
        rule = self.want[0]
        p = self.parties[it.her]
        c = it.chunk.client
        if c.v2 or p.cat == "stale":
            return
        if rule in ("edi.foreign-download", "edi.foreign-acknowledgement", "edi.foreign-apprec"):
            if not self.declared_unlocked(p):
                return
            acts = self.actors(p)
            if not acts:
                return
            it.actor = acts[0]
            acts[0][0].busy += 1
            self.seen_pairs.add((acts[0][0].idx, p.her))
        elif rule == "edi.apprec-sender-not-receiver":
            qs = [q for q in c.parties if q.top == p.top and q is not p and q.intro and not q.orphan]
            if not qs:
                return
            it.actor = qs[self.rng.randrange(len(qs))]
        it.plan = rule
        self.want.popleft()
        self.custody[it.msg] = {"recv": [it.her], "dl": {}}

    def chain_foreign(self, it):
        p = self.parties[it.her]
        F, block = it.actor
        msg = it.msg
        top = it.chunk.top
        if it.plan == "edi.foreign-download":
            rid = self.record("3", "GET", "/messages/%s/business-document" % msg, 200, block,
                              dur=self.dur(30, 900))
            self.judge_and_record(rid, F, top, "3", "download", [p.her], 200, it.plan, msg=msg)
        elif it.plan == "edi.foreign-acknowledgement":
            rid = self.record("3", "PUT", "/messages/%s/downloaded" % msg, 204, block,
                              body=',"request":{"receiverHerId":%d}' % p.her)
            self.judge_and_record(rid, F, top, "3", "mark_downloaded", [p.her], 204, it.plan, msg=msg)
        elif it.plan == "edi.foreign-apprec":
            ap = self.uuid()
            rid = self.record("3", "POST", "/messages/%s/apprec" % msg, 201, block,
                              body=',"request":{"appRecSenderHerId":%d,"appRecStatus":"Ok"},"response":{"id":"%s"}' % (
                                  p.her, ap))
            self.judge_and_record(rid, F, top, "3", "apprec_send", [p.her], 201, it.plan, msg=msg)
            self.apprec_back(ap, it.sender, p.her)
        F.busy -= 1
        self.custody.pop(msg, None)

    def on_call(self, obj, att):
        fn, arg = obj
        fn(arg)

    def poll_as(self, F, block, hers, status=200, api="3"):
        if api == "3":
            q = "&".join("HerIds=%d" % h for h in hers)
            body = ',"response":{"messages":[]}' if 200 <= status < 300 else ""
            return self.record("3", "GET", "/notifications", status, block, query=q, body=body,
                               dur=self.dur(10, 200))
        q = "&".join("ReceiverHerIds=%d" % h for h in hers)
        body = ',"response":{"messages":[]}' if 200 <= status < 300 else ""
        return self.record("2", "GET", "/Messages", status, block, query=q, body=body)

    def inc_org_membership(self):
        rng = self.rng
        ok = rng.random() < 0.4
        status = 200 if ok else 403
        if rng.random() < 0.3:
            # a multi-tenant client uses one tenant's token for another tenant's party
            for c in self.clients:
                if c.tenancy != "multi-tenant" or c.sweeping or len(c.tenants) < 2:
                    continue
                p = self.pick(lambda q: q.client is c and q.intro)
                if p is None:
                    continue
                tops = [tp for tp in c.tenants if tp != p.top]
                top = tops[rng.randrange(len(tops))]
                key = ("edi.org-membership", c.idx, p.her, None)
                if key in self.gt_keys:
                    continue
                rid = self.poll_as(c, c.tenants[top][0], [p.her], status)
                self.judge_and_record(rid, c, top, "3", "poll", [p.her], status,
                                      "edi.org-membership")
                return True
        p = self.pick(lambda q: q.cat in ("snap", "log", "decl"))
        if p is None:
            return False
        cands = [c for c in self.clients if not c.v2 and not c.sweeping and c is not p.client
                 and (c.idx, p.her) not in self.seen_pairs and self.sweep_room(c, 5)
                 and any(tp != p.top for tp in c.tenants)]
        if not cands:
            return False
        F = cands[rng.randrange(len(cands))]
        tops = sorted(tp for tp in F.tenants if tp != p.top)
        top = tops[rng.randrange(len(tops))]
        if rng.random() < 0.5:
            rid = self.poll_as(F, F.tenants[top][0], [p.her], status)
            self.judge_and_record(rid, F, top, "3", "poll", [p.her], status, "edi.org-membership")
        else:
            rid = self.record("3", "POST", "/messages", 403 if not ok else 201, F.tenants[top][0],
                              body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]}%s' % (
                                  p.her, self.recv[0].her,
                                  ',"response":{"id":"%s"}' % self.uuid() if ok else ""))
            self.judge_and_record(rid, F, top, "3", "send", [p.her], 201 if ok else 403,
                                  "edi.org-membership")
        return True

    def inc_reserved(self):
        rng = self.rng
        locked = sorted(h for h, lk in self.locks.items() if not lk.watched)
        if not locked:
            return False
        for _ in range(20):
            p = self.parties[locked[rng.randrange(len(locked))]]
            acts = self.actors(p)
            if acts:
                break
        else:
            return False
        F, block = acts[0]
        x = rng.random()
        if x < 0.45:
            rid = self.poll_as(F, block, [p.her])
            self.judge_and_record(rid, F, p.top, "3", "poll", [p.her], 200,
                                  "edi.reserved-party-foreign-client")
        elif x < 0.9:
            if rng.random() < 0.5:
                rid = self.record("3", "POST", "/messages", 423, block,
                                  body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]}' % (
                                      p.her, self.recv[rng.randrange(len(self.recv))].her))
                action = "send"
            else:
                rid = self.record("3", "PUT", "/mshconfigurations", 423, block,
                                  body=',"request":{"configurations":[{"herId":%d,"receiveNotificationChannel":"Poll"}]}' % p.her)
                action = "config_write"
            self.judge_and_record(rid, F, p.top, "3", action, [p.her], 423,
                                  "edi.reserved-party-foreign-client")
        else:
            r = self.pick(lambda q: q is not p)
            m = self.uuid()
            rid = self.record("3", "POST", "/messages", 201, block,
                              body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]},"response":{"id":"%s"}' % (
                                  p.her, r.her, m))
            self.judge_and_record(rid, F, p.top, "3", "send", [p.her], 201,
                                  "edi.reserved-party-foreign-client")
            if r.client is not None and r.chunk.active and not r.orphan:
                self.deliver(r, m, p.her, False)
        return True

    def inc_claim_scope(self):
        rng = self.rng
        lists = [c for c in self.clients if c.claim not in (None, "0") and not c.sweeping
                 and self.sweep_room(c, 5)]
        if not lists:
            return False
        L = lists[rng.randrange(len(lists))]
        top = next(iter(L.tenants))
        claimed = set(L.claim.split("-"))
        p = self.pick(lambda q: q.top == top and str(q.her) not in claimed and q.cat != "stale"
                      and q.her not in self.locks and (L.idx, q.her) not in self.seen_pairs)
        if p is None:
            return False
        status = 200 if rng.random() < 0.6 else 403
        rid = self.poll_as(L, L.tenants[top][0], [p.her], status, api="2")
        self.judge_and_record(rid, L, top, "2", "poll", [p.her], status, "edi.herid-claim-scope")
        return True

    def inc_foreign_send(self):
        p = self.pick(lambda q: self.declared_unlocked(q) and self.actors(q))
        if p is None:
            return False
        acts = self.actors(p)
        if not acts:
            return False
        F, block = acts[0]
        r = self.pick(lambda q: q is not p and q.top != p.top)
        if r is None:
            return False
        m = self.uuid()
        rid = self.record("3", "POST", "/messages", 201, block,
                          body=',"request":{"senderHerId":%d,"receiverHerIds":[%d]},"response":{"id":"%s"}' % (
                              p.her, r.her, m))
        self.judge_and_record(rid, F, p.top, "3", "send", [p.her], 201, "edi.foreign-send")
        if r.client is not None and r.chunk.active and not r.orphan:
            self.deliver(r, m, p.her, False)
        return True

    def inc_msh_change(self):
        p = self.pick(lambda q: self.declared_unlocked(q) and self.actors(q))
        if p is None:
            return False
        acts = self.actors(p)
        if not acts:
            return False
        F, block = acts[0]
        if self.rng.random() < 0.7:
            rid = self.record("3", "PUT", "/mshconfigurations", 204, block,
                              body=',"request":{"configurations":[{"herId":%d,"receiveNotificationChannel":"None","receiveRefusedMessageNotices":false}]}' % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_write", [p.her], 204,
                                  "edi.foreign-msh-change")
        else:
            rid = self.record("3", "DELETE", "/mshconfigurations", 204, block,
                              query="HerIds=%d" % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_delete", [p.her], 204,
                                  "edi.foreign-msh-change")
        return True

    def inc_takeover(self):
        rng = self.rng
        locked = sorted(h for h, lk in self.locks.items() if not lk.watched and
                        self.parties[h].client is lk.holder and self.parties[h].intro)
        if not locked:
            return False
        for _ in range(20):
            p = self.parties[locked[rng.randrange(len(locked))]]
            acts = self.actors(p)
            if acts:
                break
        else:
            return False
        F, block = acts[0]
        x = rng.random()
        if x < 0.45:
            rid = self.record("3", "PUT", "/mshconfigurations", 204, block,
                              body=',"request":{"configurations":[{"herId":%d,"clientLocked":true,"receiveNotificationChannel":"Poll"}]}' % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_write", [p.her], 204,
                                  "edi.reservation-takeover", lock_write=True)
            # the previous holder is locked out and stops acting for the party; the new holder
            # never calls for it again, so the lock turns stale 30 days later
            self.orphan(p)
            self.watch(p.her, F, self.t)
        elif x < 0.75:
            rid = self.record("3", "PUT", "/mshconfigurations", 423, block,
                              body=',"request":{"configurations":[{"herId":%d,"clientLocked":true}]}' % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_write", [p.her], 423,
                                  "edi.reservation-takeover", lock_write=True)
        else:
            rid = self.record("3", "DELETE", "/mshconfigurations", 204, block,
                              query="HerIds=%d" % p.her)
            self.judge_and_record(rid, F, p.top, "3", "config_delete", [p.her], 204,
                                  "edi.reservation-takeover")
        return True

    def orphan(self, p):
        p.orphan = True
        p.chunk.rebuild()
        if p in self.recv:
            self.recv.remove(p)

    def inc_shared(self):
        p = self.pick(lambda q: q.her not in self.locks and q.cat != "stale" and
                      self.owner_last(q) >= self.t - SHARED_WINDOW + MS_D and self.actors(q))
        if p is None:
            return False
        acts = self.actors(p)
        if not acts:
            return False
        F, block = acts[0]
        rid = self.poll_as(F, block, [p.her])
        self.judge_and_record(rid, F, p.top, "3", "poll", [p.her], 200, "edi.shared-party")
        return True

    def inc_whole_org(self):
        rng = self.rng
        av = [ch for ch in self.active_v3 if not ch.client.sweeping]
        if not av:
            return False
        ch = av[rng.randrange(len(av))]
        F = ch.client
        ps = [p for p in ch.parties if not p.orphan]
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
        path = path.replace("{id}", self.uuid())
        rid = self.record("2" if F.v2 else "3", method, path, 404 if rng.random() < 0.8 else 405,
                          ch.block)
        self.incident += 1
        self.gt("edi.unknown-route", "low", "incident", self.incident, rid, F, None, None)
        return True

    def inc_new_client(self):
        if self.t < self.learn_end + MS_H:
            return False
        window = self.t - SHARED_WINDOW - MS_D

        def quiet_dormant(q):
            if q.cat != "dormant" or q.her in self.locks:
                return False
            return all(tc < window for tc in self.foreign.get(q.her, {}).values())
        pool = [q for q in self.parties.values() if quiet_dormant(q)]
        if not pool:
            return False
        rng = self.rng
        for _ in range(20):
            p = pool[rng.randrange(len(pool))]
            acts = self.actors(p)
            if acts:
                break
        else:
            return False
        F, block = acts[0]
        rid = self.poll_as(F, block, [p.her])
        self.judge_and_record(rid, F, p.top, "3", "poll", [p.her], 200, "edi.new-client-for-party")
        return True

    def inc_sweep(self):
        """One client polls exactly SWEEP_THRESHOLD parties new to it within a few minutes."""
        rng = self.rng
        cands = [c for c in self.clients if not c.v2 and not c.sweeping and c.intro_left == 0
                 and c.busy == 0 and self.sweep_room(c, 0)]
        rng.shuffle(cands)
        for F in cands:
            for top in sorted(F.tenants):
                pool = [p for p in self.parties.values() if p.top == top and p.client is not F
                        and p.cat not in ("stale", "external") and not p.orphan
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
            rec["path"] = "/messages/not-a-uuid/downloaded"
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
        self.emit(line + "\n", rid)
        self.incident += 1
        shown = rec.get("requestId") if what != "invalid-json" else None
        self.gt(QUARANTINE, None, "incident", self.incident, shown or None, None, None, None,
                {"reason": reason, "detail": detail})
        return True

    # ------------------------------------------------------------------ driver
    def generate(self):
        os.makedirs(self.out, exist_ok=True)
        t0 = time.time()
        self.build_world()
        self.write_registry()
        self.run()
        stats = dict(sorted(self.stats.items()))
        self.write_world(stats)
        el = time.time() - t0
        if not self.quiet:
            sys.stderr.write("edi_gen: %d records, %s .. %s, %d parties, %d clients, %.1f s "
                             "(%.0f records/s)\n" % (self.count, fmt_time(self.first_t or self.start),
                                                     fmt_time(self.t), len(self.parties),
                                                     len(self.clients), el, self.count / max(el, 1e-9)))
            missing = [r for r in RULES + [QUARANTINE] if r not in self.inc_stats]
            sys.stderr.write("edi_gen: incidents %s\n" % json.dumps(dict(sorted(self.inc_stats.items()))))
            if missing:
                sys.stderr.write("edi_gen: no incident of %s (too few records or days; "
                                 "new-client-for-party needs --days > 7)\n" % ", ".join(missing))
        return self.count


# ---------------------------------------------------------------------- self-test
def file_digest(out):
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(out)):
        for f in sorted(files):
            with open(os.path.join(root, f), "rb") as fh:
                h.update(f.encode() + b"\0" + fh.read())
    return h.hexdigest()


def selftest():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from record_check import check_record
    problems = []
    tmp = tempfile.mkdtemp(prefix="edi_gen_selftest_")
    try:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        args = dict(seed=7, records=5000, days=10, municipalities=2, incidents_every=40, quiet=True)
        Generator(out=a, **args).generate()
        Generator(out=b, **args).generate()
        if file_digest(a) != file_digest(b):
            problems.append("two runs with the same arguments differ")
        truth = [json.loads(l) for l in open(os.path.join(a, "ground-truth.jsonl"), encoding="utf-8")]
        quarantined = {g["line"] for g in truth if g["rule"] == QUARANTINE}
        rids, last_ts, n = set(), "", 0
        with open(os.path.join(a, "access-log.jsonl"), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                errs = check_record(line)
                if n in quarantined:
                    if not errs:
                        problems.append("line %d is listed for quarantine but is valid" % n)
                    continue
                if errs:
                    problems.append("line %d: %s" % (n, "; ".join(errs)))
                    continue
                rec = json.loads(line)
                if rec["requestId"] in rids:
                    problems.append("line %d: requestId %s repeated" % (n, rec["requestId"]))
                rids.add(rec["requestId"])
                if rec["timestamp"] < last_ts:
                    problems.append("line %d: timestamp goes back" % n)
                last_ts = rec["timestamp"]
        if n != 5000:
            problems.append("%d records written, 5000 asked for" % n)
        for g in truth:
            if g["rule"] != QUARANTINE and g["requestId"] not in rids:
                problems.append("ground truth names unknown requestId %s" % g["requestId"])
        incidents = {g["rule"] for g in truth if g["kind"] == "incident"}
        for r in RULES + [QUARANTINE]:
            if r not in incidents:
                problems.append("no incident of %s" % r)
        reg = os.path.join(a, "registry")
        for name, req in (("communication-parties", ("herId", "name", "type", "parentHerId",
                                                     "parentOrganizationNumber", "active")),
                          ("organizations", ("organisasjonsnummer", "navn", "kind")),
                          ("clients", ("clientId",)), ("reservations", ("herId", "clientId", "since")),
                          ("owners", ("herId", "clientId"))):
            with open(os.path.join(reg, name + ".jsonl"), encoding="utf-8") as f:
                for i, line in enumerate(f, 1):
                    r = json.loads(line)
                    miss = [k for k in req if k not in r]
                    if miss:
                        problems.append("%s.jsonl:%d lacks %s" % (name, i, ", ".join(miss)))
        summary = "%d records, %d ground-truth lines, %d incident rules" % (n, len(truth), len(incidents))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems[:50]:
        print("selftest: " + p)
    if problems:
        print("selftest: FAILED (%d problems)" % len(problems))
        return 1
    print("selftest: ok (%s)" % summary)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="edi_gen.py",
        description="Generate synthetic EDI 2.0 access-log traffic with injected incidents and "
                    "their ground truth (see tools/gen/README.md).")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1); same arguments, "
                    "same bytes")
    ap.add_argument("--records", type=int, default=100000, help="access-log records to write, "
                    "malformed ones included (default 100000)")
    ap.add_argument("--days", type=float, default=14, help="event-time span in days (default 14)")
    ap.add_argument("--out", help="output directory (created; existing files are overwritten)")
    ap.add_argument("--municipalities", type=int, default=None,
                    help="municipalities in the world (default: grows with --records)")
    ap.add_argument("--incidents-every", type=int, default=1000,
                    help="on average one injected incident per this many records (default 1000, "
                         "minimum 20)")
    ap.add_argument("--start", default="2026-05-04T00:00:00.000Z",
                    help="event time the log starts at (default 2026-05-04T00:00:00.000Z)")
    ap.add_argument("--selftest", action="store_true",
                    help="generate 5000 records into a temporary directory and check them against "
                         "the field rules of EVENTS.md; exit 0 when all is well")
    a = ap.parse_args(argv)
    if a.selftest:
        return selftest()
    if not a.out:
        ap.error("--out is required")
    if a.records < 1 or a.days <= 0:
        ap.error("--records and --days must be positive")
    Generator(a.seed, a.records, a.days, a.out, a.municipalities, a.incidents_every,
              a.start).generate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
