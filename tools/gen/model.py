"""Constants, rule parameters and the entities of the synthetic EDI 2.0 world.

The rule parameters mirror shared/DETECTIONS.md; the traffic model is built so that benign
clients stay clear of them (see README.md in this folder).
"""

import calendar
import re
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
# A poll the gateway refuses (403), e.g. a token issued without the needed scope: a benign
# denial, retried like a failure.
P_FORBIDDEN = P_EXPIRED + 0.0008
# A call on a message sent before the log started: its sender reads the status, or a receiver's
# client fetches it late.
P_OLD = P_FORBIDDEN + 0.006
P_OLD_UNIT = 0.3  # of them: a message within one top-level unit (message_calls.old_message_unit)
P_FAIL = 0.004  # a call fails with 5xx and is retried with a new requestId
P_APPREC = 0.85
P_META = 0.10
P_SENDER_META = 0.06  # of sends whose status the sender does not read: it reads the metadata
# Share of sends to 2 or 3 parties of one top-level unit other than the sender's (a discharge
# letter to a nursing home and the GP office of one municipality, or to several wards).
P_SAME_ORG = 0.07
# Share of message calls whose record carries the gateway's `message` block.
P_MSG_BLOCK = 0.25
P_STATUS = 0.30
P_CASE = 0.01  # path written with the other API's capitalisation
P_UPPER_ID = 0.005
P_DISGUISE = 0.2  # an incident's path or query written another way the server reads the same

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
                 "chunk", "intro", "orphan", "ar_active", "last_act", "shared")

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
        self.shared = 0       # deliveries of one-organisation messages not yet marked


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
    __slots__ = ("msg", "her", "sender", "apprec", "chunk", "plan", "actor", "single", "block",
                 "group", "shared", "old")

    def __init__(self, msg, her, sender, apprec, chunk, single, block=""):
        self.msg, self.her, self.sender, self.apprec, self.chunk = msg, her, sender, apprec, chunk
        self.single = single  # the message has this one receiver
        self.block = block    # the message's ',"message":{...}' as the gateway would add it
        self.plan = None   # the chain incident this delivery carries, if any
        self.actor = None  # (client, block) of the foreign client in a chain incident
        self.group = None  # the incident on a one-organisation message this delivery is part of
        self.shared = False  # one of several receivers in one top-level unit, not yet marked
        self.old = False   # sent and listed before the log started


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
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    frac = (m.group(7) or "0").ljust(3, "0")
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000 + int(frac)


# Event kinds on the schedule heap.
EV_INTRO, EV_DELIVER, EV_META, EV_DOWNLOAD, EV_MARK, EV_APPREC, EV_STATUS, EV_LOCK, EV_POLL, \
    EV_CALL = range(10)
