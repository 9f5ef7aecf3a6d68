"""The synthetic world: municipalities, hospitals and GP offices in Enhetsregisteret and the
Address Registry, the HelseID clients that act for their parties, and the reference snapshots
written from them.

World is a mixin of Generator (edi_gen.py); it uses self.rng only, in a fixed order, so a seed
always builds the same world."""

import json
import os

from model import (CHUNK, DEPTS, DORMANT, FIRST, LAST, LEARNING, MS_D, MS_H, PLACE_A, PLACE_B,
                   RULES, STALE_AFTER, WARDS, Chunk, Client, Lock, Org, Party, fmt_time)


class World:
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
        for _ in range(20):
            p = rng.choice(PLACE_A) + rng.choice(PLACE_B)
            if p not in used:
                used.add(p)
                return p
        # the syllables run out in big worlds: number the names from then on
        p = "%s %d" % (p, len(used))
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
        self.by_top.setdefault(p.top, []).append(p)
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
        """Municipalities, hospitals, private GP offices and external parties; the clients
        acting for them; chunks; and the locks and declarations of the snapshots."""
        used = set()
        nh_vendor = self.add_client("Omsorgsjournal", "nursing-epj", "multi-tenant", self.orgnr(9))
        gp_a = self.add_client("Legepraksis EPJ", "gp-epj", "multi-tenant", self.orgnr(9))
        gp_b = self.add_client("Allmenn EPJ", "gp-epj", "multi-tenant", self.orgnr(9))
        self.municipalities = []
        for m in range(self.K):
            self.build_municipality(m, used, nh_vendor, gp_a)
        self.build_hospitals(used)
        self.build_gp_offices(used, gp_a, gp_b)
        self.build_external(used)
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

    def build_municipality(self, m, used, nh_vendor, gp_a):
        rng = self.rng
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

    def build_hospitals(self, used):
        """Hospital trusts: sites as underenheter, departments as services; a lab system
        next to the record system in every second trust."""
        rng = self.rng
        K = self.K
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

    def build_gp_offices(self, used, gp_a, gp_b):
        """Private GP offices: each its own top-level unit."""
        rng = self.rng
        for g in range(3 * self.K):
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

    def build_external(self, used):
        """Parties whose organisation is not in organizations.jsonl and that no client in the
        log acts for (message receivers only), and a few inactive ones."""
        K = self.K
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

    def dormant_in(self, top):
        return [p for p in self.by_top.get(top, ()) if p.cat == "dormant"]

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
