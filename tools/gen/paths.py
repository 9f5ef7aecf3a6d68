"""The path and query of a record as the API's server reads them (shared/EVENTS.md routes).

The server percent-decodes the path (all but %2F, which stays inside its segment), removes its
"." and ".." segments, parses a message id in any of the forms a Guid parses from, and binds a
list from repeated keys as well as from indexed ones (HerIds[0]=..., HerIds[]=...). The daemon
routes the same way; the generator disguises some incident calls so, and these functions are
the Python model of it that the record and ground-truth checks use."""

import re

_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_INDEXED = re.compile(r"^(.*)\[[0-9]*\]$")


def _decode(text, keep_slash):
    def one(m):
        if keep_slash and m.group(1).lower() == "2f":
            return m.group(0)
        return chr(int(m.group(1), 16))
    return _PCT.sub(one, text)


def path_segments(path):
    """The path's segments as the server routes them."""
    out = []
    decoded = _decode(path, True)
    # RFC 3986 removal of dot segments: an empty segment (a doubled slash) is one too.
    for seg in (decoded[1:] if decoded.startswith("/") else decoded).split("/"):
        if seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    return [s for s in out if s]


def canonical_uuid(text):
    """The message id in canonical form (lower case, with dashes), or None if it is none."""
    s = text.strip(" \t")
    if len(s) == 38 and (s[0], s[-1]) in (("{", "}"), ("(", ")")):
        s = s[1:-1]
    if _HEX32.match(s):
        s = "-".join((s[:8], s[8:12], s[12:16], s[16:20], s[20:]))
    return s.lower() if _UUID.match(s) else None


def her_id_text(text):
    """A HER-Id in a path or query as the server binds an int (white space around, a '+',
    leading zeros), or None."""
    s = text.strip(" \t\n\v\f\r")
    for prefix in ("0x", "0X", "&h", "&H", "#"):
        if s.startswith(prefix) and len(s) > len(prefix):
            digits = s[len(prefix):].lstrip("0") or "0"
            ok = len(digits) <= 15 and all(c in "0123456789abcdefABCDEF" for c in digits)
            return int(digits, 16) if ok and int(digits, 16) > 0 else None
    if s.startswith("+"):
        s = s[1:]
    s = s.lstrip("0") or s[-1:]
    return int(s) if re.match(r"^[1-9][0-9]{0,17}$", s) else None


def query_pairs(query):
    """(key in lower case without an index, value) for each key=value of the query."""
    for part in (query or "").lstrip("?").split("&"):
        k, _, v = part.partition("=")
        k = _decode(k, False)
        m = _INDEXED.match(k)
        if m:
            k = m.group(1)
        yield k.lower(), _decode(v, False)


def disguise_path(rng, path):
    """The path written another way the server routes the same: a letter percent-encoded, a
    dot segment, or the message id (the second segment) without dashes or in braces."""
    segs = path.split("/")  # "", "messages", ID, ...
    how = rng.randrange(4)
    if how == 0:
        i = 3 if len(segs) > 3 else 1  # the route's word after the id, or "messages"
        letters = [j for j, ch in enumerate(segs[i]) if ch.isalpha()]
        j = letters[rng.randrange(len(letters))]
        segs[i] = segs[i][:j] + "%%%02X" % ord(segs[i][j]) + segs[i][j + 1:]
    elif how == 1:
        segs[2:2] = ["."] if rng.random() < 0.5 else ["x", ".."]
    elif how == 2:
        segs[2] = segs[2].replace("-", "")
    else:
        segs[2] = "{" + segs[2] + "}"
    return "/".join(segs)


def disguise_query(rng, key, hers):
    """The list in the indexed form ASP.NET binds (HerIds[0]=1&HerIds[1]=2, HerIds[]=1), or
    its HER-Ids written as the server still binds an int (%2B1, 01)."""
    how = rng.randrange(3)
    if how == 0:
        return "&".join("%s[%d]=%d" % (key, i, h) for i, h in enumerate(hers))
    if how == 1:
        return "&".join("%s[]=%d" % (key, h) for h in hers)
    return "&".join("%s=%s%d" % (key, rng.choice(["%2B", "0", "%20"]), h) for h in hers)
