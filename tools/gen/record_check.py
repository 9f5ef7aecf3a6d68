"""Field rules of the access-log record (shared/EVENTS.md, version 1), checked in Python.

check_record(line) returns a list of problems, empty when the line is a record the daemon must
accept: valid JSON, the schema's required fields, types and formats, and parties named in a
well-formed way (message ids that are UUIDs, HER-Ids that are positive integers, a well-formed
herid claim). A path that matches no route is not a problem: it is kept as action `unknown`.
"""

import calendar
import json
import re

from paths import canonical_uuid, her_id_text, path_segments, query_pairs

TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$")
ORGNR = re.compile(r"^[0-9]{9}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HERID_TEXT = re.compile(r"^[1-9][0-9]{0,17}$")
CLAIM = re.compile(r"^(0|[1-9][0-9]{0,17}(-[1-9][0-9]{0,17})*)$")

API_VERSIONS = {"2", "2-vNext", "3"}
METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}
APPREC_STATUS = {"Ok", "Rejected", "OkErrorInMessagePart"}

# (api, method, template, where the route's HER-Ids are): the route table of EVENTS.md.
ROUTES = [
    ("3", "POST", "/messages", None), ("3", "GET", "/messages/{id}", None),
    ("3", "GET", "/messages/{id}/business-document", None),
    ("3", "GET", "/messages/{id}/status", None), ("3", "POST", "/messages/{id}/apprec", None),
    ("3", "PUT", "/messages/{id}/downloaded", None), ("3", "GET", "/notifications", "HerIds"),
    ("3", "GET", "/notifications/stream", "HerIds"), ("3", "PUT", "/mshconfigurations", None),
    ("3", "POST", "/mshconfigurations", None), ("3", "DELETE", "/mshconfigurations", "HerIds"),
    ("3", "GET", "/ping", None),
    ("2", "POST", "/messages", None), ("2", "GET", "/messages", "ReceiverHerIds"),
    ("2", "GET", "/messages/{id}", None), ("2", "GET", "/messages/{id}/business-document", None),
    ("2", "GET", "/messages/{id}/status", None), ("2", "GET", "/messages/{id}/apprec", None),
    ("2", "POST", "/messages/{id}/apprec/{herId}", None),
    ("2", "PUT", "/messages/{id}/read/{herId}", None),
    ("2-vNext", "GET", "/messages/notices", "receiverHerIds"),
    ("2-vNext", "POST", "/mshconfiguration", None),
]


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _herid(v):
    return _is_int(v) and v >= 1


def _match(template, segs):
    tsegs = template.strip("/").split("/")
    if len(tsegs) != len(segs):
        return None
    found = {}
    for t, s in zip(tsegs, segs):
        if t in ("{id}", "{herId}"):
            found[t] = s
        elif t != s.lower():
            return None
    return found


def route_problems(rec):
    """Ids and HER-Ids in the path and query of a record whose route matches."""
    api, method, path = rec["apiVersion"], rec["method"], rec["path"]
    segs = path_segments(path)
    for r_api, r_method, template, qkey in ROUTES:
        if r_api != api or r_method != method:
            continue
        found = _match(template, segs)
        if found is None:
            continue
        out = []
        if "{id}" in found and canonical_uuid(found["{id}"]) is None:
            out.append("malformed message id %r in the path" % found["{id}"][:60])
        if template == "/messages" and method == "POST":  # a send: response.id names the message
            rid = (rec.get("response") or {}).get("id")
            if isinstance(rid, str) and rid and not UUID.match(rid):
                out.append("malformed message id %r in response/id" % rid[:60])
        if "{herId}" in found and her_id_text(found["{herId}"]) is None:
            out.append("malformed HER-Id %r in the path" % found["{herId}"][:60])
        if qkey:
            for k, v in query_pairs(rec.get("query", "")):
                if k == qkey.lower() and any(her_id_text(x) is None for x in v.split(",")):
                    out.append("malformed HER-Id %r in the query" % v[:60])
        return out
    return []


def _check_configs(items, where, out):
    if not isinstance(items, list):
        out.append("%s is not an array" % where)
        return
    for i, c in enumerate(items):
        w = "%s/%d" % (where, i)
        if not isinstance(c, dict):
            out.append("%s is not an object" % w)
            continue
        if not _herid(c.get("herId")):
            out.append("%s/herId missing or not a positive integer" % w)
        if "clientLocked" in c and not isinstance(c["clientLocked"], bool):
            out.append("%s/clientLocked is not a boolean" % w)
        if "receiveNotificationChannel" in c and not isinstance(c["receiveNotificationChannel"], str):
            out.append("%s/receiveNotificationChannel is not a string" % w)
        if "receiveRefusedMessageNotices" in c and \
                not isinstance(c["receiveRefusedMessageNotices"], bool):
            out.append("%s/receiveRefusedMessageNotices is not a boolean" % w)


def _check_herids(v, where, out):
    if not isinstance(v, list) or not all(_herid(x) for x in v):
        out.append("%s is not an array of positive integers" % where)


def check_record(line):
    try:
        rec = json.loads(line)
    except ValueError as e:
        return ["invalid JSON: %s" % e]
    if not isinstance(rec, dict):
        return ["not a JSON object"]
    out = []
    for f in ("schemaVersion", "timestamp", "requestId", "apiVersion", "method", "path", "status",
              "client"):
        if f not in rec:
            out.append("required field '%s' missing" % f)
    if out:
        return out
    if not _is_int(rec["schemaVersion"]) or rec["schemaVersion"] != 1:
        out.append("schemaVersion is not 1")
    ts = rec["timestamp"]
    m = TS.match(ts) if isinstance(ts, str) else None
    if not m:
        out.append("timestamp is not RFC 3339 UTC with milliseconds")
    else:
        y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
        if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and h < 24 and mi < 60
                and s < 60):
            out.append("timestamp is not a real date and time")
    rid = rec["requestId"]
    if not isinstance(rid, str) or not 1 <= len(rid) <= 128:
        out.append("requestId is not a string of 1-128 characters")
    if rec["apiVersion"] not in API_VERSIONS or not isinstance(rec["apiVersion"], str):
        out.append("apiVersion is not one of 2, 2-vNext, 3")
    if rec["method"] not in METHODS or not isinstance(rec["method"], str):
        out.append("method is not one of %s" % ", ".join(sorted(METHODS)))
    if not isinstance(rec["path"], str) or not 1 <= len(rec["path"]) <= 2048:
        out.append("path is not a string of 1-2048 characters")
    if "query" in rec and not isinstance(rec["query"], str):
        out.append("query is not a string")
    if not _is_int(rec["status"]) or not 100 <= rec["status"] <= 599:
        out.append("status is not an integer 100-599")
    if "durationMs" in rec and (not _is_int(rec["durationMs"]) or rec["durationMs"] < 0):
        out.append("durationMs is not a non-negative integer")
    for f in ("sourceSystem", "clientIp"):
        if f in rec and not isinstance(rec[f], str):
            out.append("%s is not a string" % f)
    c = rec["client"]
    if not isinstance(c, dict):
        out.append("client is not an object")
    else:
        if not isinstance(c.get("clientId"), str) or not c.get("clientId"):
            out.append("client/clientId missing or empty")
        if not isinstance(c.get("orgnrParent"), str) or not ORGNR.match(c["orgnrParent"]):
            out.append("client/orgnrParent is not 9 digits")
        for f in ("orgnrChild", "orgnrSupplier"):
            if f in c and (not isinstance(c[f], str) or not ORGNR.match(c[f])):
                out.append("client/%s is not 9 digits" % f)
        for f in ("clientName", "tenancy"):
            if f in c and not isinstance(c[f], str):
                out.append("client/%s is not a string" % f)
        if "herIdClaim" in c and (not isinstance(c["herIdClaim"], str) or
                                  not CLAIM.match(c["herIdClaim"])):
            out.append("client/herIdClaim is malformed")
    req = rec.get("request")
    if req is not None:
        if not isinstance(req, dict):
            out.append("request is not an object")
        else:
            for f in ("senderHerId", "receiverHerId", "appRecSenderHerId"):
                if f in req and not _herid(req[f]):
                    out.append("request/%s is not a positive integer" % f)
            if "receiverHerIds" in req:
                _check_herids(req["receiverHerIds"], "request/receiverHerIds", out)
            if "appRecStatus" in req and req["appRecStatus"] not in APPREC_STATUS:
                out.append("request/appRecStatus is not Ok, Rejected or OkErrorInMessagePart")
            for f in ("configurations", "mshConfigurations"):
                if f in req:
                    _check_configs(req[f], "request/" + f, out)
    resp = rec.get("response")
    if resp is not None:
        if not isinstance(resp, dict):
            out.append("response is not an object")
        else:
            if "id" in resp and not isinstance(resp["id"], str):
                out.append("response/id is not a string")
            msgs = resp.get("messages")
            if msgs is not None:
                if not isinstance(msgs, list):
                    out.append("response/messages is not an array")
                else:
                    for i, mm in enumerate(msgs):
                        w = "response/messages/%d" % i
                        if not isinstance(mm, dict) or not isinstance(mm.get("id"), str):
                            out.append("%s has no string id" % w)
                            continue
                        for f in ("senderHerId", "receiverHerId"):
                            if f in mm and not _herid(mm[f]):
                                out.append("%s/%s is not a positive integer" % (w, f))
                        if "receiverHerIds" in mm:
                            _check_herids(mm["receiverHerIds"], w + "/receiverHerIds", out)
                        if "isAppRec" in mm and not isinstance(mm["isAppRec"], bool):
                            out.append("%s/isAppRec is not a boolean" % w)
    msg = rec.get("message")
    if msg is not None:
        if not isinstance(msg, dict) or not isinstance(msg.get("id"), str):
            out.append("message has no string id")
        elif not UUID.match(msg["id"]):
            out.append("message/id is not a UUID")
        else:
            if "senderHerId" in msg and not _herid(msg["senderHerId"]):
                out.append("message/senderHerId is not a positive integer")
            if "receiverHerIds" in msg:
                _check_herids(msg["receiverHerIds"], "message/receiverHerIds", out)
            if "businessDocumentId" in msg and not isinstance(msg["businessDocumentId"], str):
                out.append("message/businessDocumentId is not a string")
            if "isAppRec" in msg and not isinstance(msg["isAppRec"], bool):
                out.append("message/isAppRec is not a boolean")
    if not out:
        out.extend(route_problems(rec))
    return out
