"""An HTTP proxy between the AWS SDK and moto that makes moto answer like AWS:
a fixed delay per API call, an optional cap on WAF write calls per second,
optional checks of every WAF request against AWS's rules for it, and a count
of calls per operation.

moto answers in a few milliseconds, AWS in about a hundred, so a design that
makes its API calls one after another looks fine against moto and slow
against AWS. Put this proxy in front of moto and point the SDK at it
(AWS_ENDPOINT_URL=http://127.0.0.1:<proxy port>) to see the difference.

Python standard library only (it runs from the project's .venv python, or any
python3 >= 3.8), except with `--validate`, which imports botocore (installed
in the project's .venv with moto) when it starts.

What counts as an API call, and its name:
- a request with `X-Amz-Target: AWSWAF_20190729.<Op>` (the JSON protocols):
  service from the target's prefix (`wafv2` for AWSWAF_20190729), op `<Op>`;
- otherwise an `Action=<Op>` field in the form body or query string (the
  query protocols, e.g. ELBv2): service from the SigV4 credential scope of the
  Authorization header (`elasticloadbalancing`), op `<Op>`.
Counted as `service:Op`, e.g. `wafv2:GetWebACL`,
`elasticloadbalancing:DescribeLoadBalancers`. Anything else (moto's own
`/moto-api/...`) is forwarded without delay and not counted.

WAF write calls (the X-Amz-Target operations starting with Create, Update,
Delete, Associate, Disassociate, Tag or Untag) wait for a token of a token
bucket when `--write-rate` is set: at most RATE per second, bursts of
`--write-burst`.

With `--quotas`, WAF calls are held to AWS WAF's published call-rate quotas
per account and Region (AWS WAF Developer Guide, "AWS WAF quotas"): one
AssociateWebACL and one DisassociateWebACL every 2 seconds, one
GetWebACLForResource and one ListResourcesForWebACL per second, one call per
second of each individual Create, Put, Update (and Delete, Tag, Untag)
action, five per second of each other Get or List action. A call over its
quota is answered as AWS answers it, without reaching moto: HTTP 400,
`ThrottlingException`, "Rate exceeded". Throttled calls are counted.

Calls are counted per account and Region too (`by_place` in the counts, keyed
`ACCOUNT/REGION`), and `--quotas` holds each account and Region to its own
quotas, as AWS does: the Region is the SigV4 credential scope's, the account
is "own" for the caller's credentials, or the account of the role whose
`AssumeRole` (seen through the proxy) gave the access key signing the call.

With `--deny-role ARN` (repeatable), `AssumeRole` of that role is answered
as AWS answers a caller the role's trust policy does not allow: HTTP 403,
`AccessDenied`, without reaching moto (which lets any role be assumed).

With `--answer-list-resources`, ListResourcesForWebACL (which moto lacks: it
answers 500) is answered from moto's real state, as AWS would: every load
balancer moto has whose GetWebACLForResource is the web ACL asked for.

With `--answer-check-capacity`, CheckCapacity (which moto also lacks) is
answered `{"Capacity": N}` with an estimate of the rules' WCU (see
`estimate_wcu`), or with the number forced through `POST /_proxy/capacity`.
Under `--quotas` it is an individual non-write action of its own: five per
second.

With `--validate`, every AWS WAF request (X-Amz-Target AWSWAF_20190729.<Op>)
is checked against its operation's input shape in botocore's wafv2 model, as
AWS checks it and moto does not: required members present, no member the
model lacks, JSON types, string and blob (base64-decoded) lengths, patterns,
enum values, list and map sizes, integer and long ranges, at every depth. A
request that breaks a rule is answered as AWS answers it, without reaching
moto: HTTP 400, `{"__type": "ValidationException", "message": "2 validation
errors detected: Value 'a b' at 'rules.1.member.name' failed to satisfy
constraint: Member must satisfy regular expression pattern: ^[\\w\\-]+$;
..."}` (a value of the wrong JSON type, or a body that is not JSON:
`SerializationException`, as AWS answers those). A valid request is then
held to AWS WAF's quota that the model does not carry: a custom response body
of at most 4 KB (`WAFInvalidParameterException`). The model's patterns are
Java regexes: they are translated for Python's `re` (\\p{L}, Java's `.`, `$`,
\\Q..\\E, ...); one that cannot be is listed in `patterns_skipped` and every
value it left unchecked is counted in `pattern_checks_skipped`. One value
moto makes is let through although AWS's model refuses it: moto's IP set lock
tokens (6 hex digits; AWS's are UUIDs), which a client only sends back;
counted in `moto_lock_tokens`. Checked after `--quotas` (AWS throttles
before it reads a request), before the write cap. A valid update is then
forwarded with AWS's update semantics, which moto lacks: an UpdateWebACL or
UpdateIPSet replaces the whole specification, so a member it leaves out is
cleared on AWS, while moto keeps the old value. The proxy sends moto such a
member as moto's own "none" (`Description` "", `CustomResponseBodies` {},
`TokenDomains` []; see `CLEARED_WHEN_OMITTED`), so a client that forgets
to send a member back loses it here as it would on AWS.

Control endpoints (answered by the proxy itself, never forwarded):
- `GET /_proxy/counts`: JSON `{"calls": {"wafv2:GetWebACL": 3, ...},
  "total": N, "writes": N, "write_wait_seconds": S, "max_in_flight": N,
  "throttled": N, "throttled_calls": {"wafv2:AssociateWebACL": 2, ...},
  "emulation_seconds": S (the time spent answering ListResourcesForWebACL
  from moto, which AWS answers in one round trip),
  "invalid": N (requests refused by `--validate`),
  "invalid_calls": [{"op": "wafv2:UpdateWebACL", "message": "..."}, ...]
  (the last 50), "patterns_skipped": [...], "pattern_checks_skipped": N,
  "moto_lock_tokens": N, "settings": {...}}`;
- `POST /_proxy/reset`: zeroes the counts, `invalid_calls` emptied
  (answers with the counts it had; `patterns_skipped` stays: it describes
  the model);
- `POST /_proxy/capacity` with `{"capacity": 5001}`: every CheckCapacity is
  answered 5001 from now on (and is answered even without
  `--answer-check-capacity`); `{"capacity": null}` goes back to the estimate.
  Answers `{"capacity": <forced or null>}`. Not touched by `/_proxy/reset`.

Usage:
  python latency_proxy.py --upstream http://127.0.0.1:5000 [--port 0]
      [--port-file FILE] [--delay-ms 100] [--write-rate 0] [--write-burst 1]
      [--quotas] [--answer-list-resources] [--answer-check-capacity]
      [--validate] [--deny-role ARN]... [--parent-pid PID] [--verbose]

With `--port 0` (the default) a free loopback port is chosen; it is printed
as `listening on http://127.0.0.1:PORT` and written to `--port-file`. Stops
cleanly on SIGTERM, SIGINT or SIGHUP, and by itself when `--parent-pid` is
given and that process is gone.
"""

import argparse
import base64
import binascii
import collections
import concurrent.futures
import http.client
import json
import os
import re
import signal
import sys
import threading
import time
import unicodedata
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WRITE_PREFIXES = ("Create", "Update", "Delete", "Associate", "Disassociate", "Tag", "Untag")

# Known X-Amz-Target prefixes and the service names they stand for.
TARGET_SERVICES = {"AWSWAF_20190729": "wafv2"}

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",  # the 100-continue exchange is between the client and this proxy
}

SCOPE_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# The access key and Region of a SigV4 credential scope.
KEY_REGION_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/")


def denied_role_body(role_arn):
    """STS's answer to an AssumeRole the role's trust policy refuses."""
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        "<Type>Sender</Type><Code>AccessDenied</Code>"
        "<Message>User: arn:aws:iam::123456789012:user/moto is not authorized to perform: "
        f"sts:AssumeRole on resource: {role_arn}</Message></Error>"
        "<RequestId>00000000-0000-4000-8000-0000000000a3</RequestId></ErrorResponse>"
    ).encode()


class TokenBucket:
    """At most `rate` acquisitions per second, bursts of `burst`. acquire()
    reserves a slot under the lock and sleeps outside it, so waiters are
    served in arrival order without holding the lock."""

    def __init__(self, rate, burst):
        self.rate = float(rate)
        self.burst = max(1.0, float(burst))
        self.tokens = self.burst
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            self.tokens -= 1.0
            wait = 0.0 if self.tokens >= 0 else -self.tokens / self.rate
        if wait > 0:
            time.sleep(wait)
        return wait


def quota_period(op):
    """AWS WAF's least time between two calls of `op`, per account and Region.
    Everything not named (CheckCapacity among them) is "any other individual
    Get or List action": five per second."""
    if op in ("AssociateWebACL", "DisassociateWebACL"):
        return 2.0
    if op in ("GetWebACLForResource", "ListResourcesForWebACL"):
        return 1.0
    if op.startswith(("Create", "Put", "Update", "Delete", "Tag", "Untag")):
        return 1.0
    return 0.2


# WCU of AWS's managed rule groups (their capacity as AWS's managed rule
# groups list publishes it); any other managed group counts DEFAULT_MANAGED_WCU.
MANAGED_WCU = {
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesAdminProtectionRuleSet": 100,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWSManagedRulesSQLiRuleSet": 200,
    "AWSManagedRulesLinuxRuleSet": 200,
    "AWSManagedRulesUnixRuleSet": 100,
    "AWSManagedRulesAmazonIpReputationList": 25,
    "AWSManagedRulesAnonymousIpList": 50,
    "AWSManagedRulesBotControlRuleSet": 50,
}
DEFAULT_MANAGED_WCU = 25
# A customer rule group is priced at the capacity it was created with; the
# estimate does not look it up.
RULE_GROUP_WCU = 100
# The most one web ACL may use (AWS WAF quotas page).
MAX_WEB_ACL_WCU = 5000


def statement_wcu(statement):
    """An estimate of one statement's WCU, after AWS's pricing rules: an IP
    set match 1 (5 when the address comes from a header at position ANY), a
    size constraint or geo or label match 1, a byte match 2, a regex 3, a
    regex pattern set 25, SQLi 20, XSS 40, a rate-based rule 2 plus its
    scope-down, and/or/not the sum of what they hold, a managed rule group
    its published capacity (MANAGED_WCU), a rule group reference
    RULE_GROUP_WCU. Text transformations are not priced (AWS adds 10 each)."""
    if not isinstance(statement, dict) or not statement:
        return 0
    (kind, body), = list(statement.items())[:1]
    body = body or {}
    if kind == "IPSetReferenceStatement":
        forwarded = body.get("IPSetForwardedIPConfig") or {}
        return 5 if forwarded.get("Position") == "ANY" else 1
    if kind in ("AndStatement", "OrStatement"):
        return sum(statement_wcu(s) for s in body.get("Statements") or [])
    if kind == "NotStatement":
        return statement_wcu(body.get("Statement"))
    if kind == "RateBasedStatement":
        return 2 + statement_wcu(body.get("ScopeDownStatement"))
    if kind == "ManagedRuleGroupStatement":
        return MANAGED_WCU.get(body.get("Name"), DEFAULT_MANAGED_WCU)
    if kind == "RuleGroupReferenceStatement":
        return RULE_GROUP_WCU
    return {"ByteMatchStatement": 2, "RegexMatchStatement": 3, "RegexPatternSetReferenceStatement": 25,
            "SqliMatchStatement": 20, "XssMatchStatement": 40}.get(kind, 1)


def estimate_wcu(rules):
    """The WCU of a rule list: the sum of its rules' statements."""
    return sum(statement_wcu((rule or {}).get("Statement")) for rule in rules or [])


class Quotas:
    """One bucket per WAF action, AWS's quotas, burst 1: `admit(op)` is False
    when the call is over its quota (and is then not counted against it)."""

    def __init__(self):
        self.next_free = {}
        self.lock = threading.Lock()

    def admit(self, op, place="own/us-east-1"):
        """Per account and Region (`place`), as AWS's quotas are."""
        with self.lock:
            now = time.monotonic()
            key = (place, op)
            if now < self.next_free.get(key, 0.0):
                return False
            self.next_free[key] = now + quota_period(op)
            return True


THROTTLED_BODY = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'


# --- AWS request model validation (--validate) ---------------------------
#
# moto accepts requests that AWS rejects (a header name with a space, a
# description of 300 characters, an unknown enum value); with --validate every
# AWS WAF request is checked against its input shape in botocore's model, the
# way AWS checks it, before it may reach moto. botocore is imported only then.

INVALID_CALLS_KEPT = 50
SHOWN_VALUE_CHARS = 40  # a value in a message is cut to this many characters

# Java's `.` stops at every line terminator, Python's only at \n; Java's `$`
# and `\Z` match at the end or before one final line terminator.
JAVA_DOT = r"[^\n\r\x85\u2028\u2029]"
JAVA_END = r"(?=(?:\r\n|[\n\r\x85\u2028\u2029])?\Z)"
# Java's \h and \v (Python has no \h; its \v is only \x0B).
JAVA_HSPACE = r" \t\xa0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000"
JAVA_VSPACE = r"\n\x0b\f\r\x85\u2028\u2029"

# Java's POSIX character classes (US-ASCII only, as Java has them by default).
POSIX_CLASSES = {
    "Lower": [(0x61, 0x7A)],
    "Upper": [(0x41, 0x5A)],
    "ASCII": [(0x00, 0x7F)],
    "Alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "Digit": [(0x30, 0x39)],
    "Alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "Punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "Graph": [(0x21, 0x7E)],
    "Print": [(0x20, 0x7E)],
    "Blank": [(0x09, 0x09), (0x20, 0x20)],
    "Cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "XDigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
    "Space": [(0x09, 0x0D), (0x20, 0x20)],
}

_category_ranges = {}
_category_lock = threading.Lock()


class Untranslatable(ValueError):
    """A Java regex construct Python's `re` has no equivalent for here."""


def unicode_category_ranges(name):
    """Code point ranges of Unicode general category `name` ("L", "Lu", ...),
    as [(first, last), ...]; Python's `re` has no \\p{...}. One scan of every
    code point the first time (a fraction of a second), then cached."""
    with _category_lock:
        if not _category_ranges:
            found = {}
            start, current = 0, unicodedata.category("\0")
            for cp in range(1, 0x110000):
                cat = unicodedata.category(chr(cp))
                if cat != current:
                    found.setdefault(current, []).append((start, cp - 1))
                    start, current = cp, cat
            found.setdefault(current, []).append((start, 0x10FFFF))
            for cat, ranges in list(found.items()):
                found.setdefault(cat[0], []).extend(ranges)  # "L" is Lu, Ll, Lt, Lm, Lo
            _category_ranges.update({cat: merge_ranges(r) for cat, r in found.items()})
        if name not in _category_ranges:
            raise Untranslatable(f"unknown Unicode category {name}")
        return _category_ranges[name]


def merge_ranges(ranges):
    merged = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def complement_ranges(ranges):
    out, nxt = [], 0
    for lo, hi in merge_ranges(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= 0x10FFFF:
        out.append((nxt, 0x10FFFF))
    return out


def class_body(ranges):
    """The inside of a Python character class matching `ranges`."""
    return "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


def property_ranges(name):
    """The ranges of Java's \\p{name}: a POSIX class or a Unicode general
    category (L, IsL, gc=L, general_category=L). Scripts, blocks and binary
    properties are not translated."""
    if name in POSIX_CLASSES:
        return POSIX_CLASSES[name]
    category = name
    for prefix in ("general_category=", "gc=", "Is"):
        if category.startswith(prefix):
            category = category[len(prefix):]
            break
    if not (1 <= len(category) <= 2 and category[0] in "LMNPSZC"):
        raise Untranslatable(f"\\p{{{name}}}")
    return unicode_category_ranges(category)


def java_regex_to_python(pattern):
    """A Python `re` pattern (to compile with re.ASCII: Java's \\w, \\d, \\s
    and \\b are ASCII) matching what the Java regex `pattern` matches. Raises
    Untranslatable for what it cannot carry over (class intersection `&&`,
    nested classes, \\R, \\X, \\G, scripts and blocks...); constructs that
    Python rejects by itself (e.g. possessive quantifiers before 3.11) surface
    as re.error when compiling."""
    out = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise Untranslatable("trailing backslash")
            e = pattern[i + 1]
            if e in "pP":
                if i + 2 < n and pattern[i + 2] == "{":
                    end = pattern.find("}", i + 3)
                    if end < 0:
                        raise Untranslatable("unclosed \\p{")
                    name, i = pattern[i + 3:end], end + 1
                elif i + 2 < n:
                    name, i = pattern[i + 2], i + 3
                else:
                    raise Untranslatable("bare \\p")
                ranges = property_ranges(name)
                if e == "P":
                    ranges = complement_ranges(ranges)
                body = class_body(ranges)
                out.append(body if in_class else f"[{body}]")
                continue
            if e == "Q":  # \Q...\E quotes literally
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2:] if end < 0 else pattern[i + 2:end]
                out.append("".join(f"\\U{ord(ch):08x}" for ch in literal) if in_class else re.escape(literal))
                i = n if end < 0 else end + 2
                continue
            if e == "E":  # a stray \E is ignored by Java
                i += 2
                continue
            if e == "x" and i + 2 < n and pattern[i + 2] == "{":
                end = pattern.find("}", i + 3)
                if end < 0:
                    raise Untranslatable("unclosed \\x{")
                out.append(f"\\U{int(pattern[i + 3:end], 16):08x}")
                i = end + 1
                continue
            if e == "0":  # Java's octal escape: \0n, \0nn, \0mnn (m <= 3)
                j = i + 2
                while j < n and j < i + 5 and pattern[j] in "01234567":
                    j += 1
                digits = pattern[i + 2:j]
                if len(digits) == 3 and digits[0] > "3":
                    digits, j = digits[:2], j - 1
                if not digits:
                    raise Untranslatable("\\0 without octal digits")
                out.append(f"\\U{int(digits, 8):08x}")
                i = j
                continue
            if e == "c" and i + 2 < n:  # \cX: a control character
                out.append(f"\\U{ord(pattern[i + 2]) ^ 64:08x}")
                i += 3
                continue
            if e in "hH" or e == "v" or e == "V":
                body = JAVA_HSPACE if e in "hH" else JAVA_VSPACE
                if e in "HV":
                    if in_class:
                        raise Untranslatable(f"\\{e} inside a character class")
                    out.append(f"[^{body}]")
                else:
                    out.append(body if in_class else f"[{body}]")
                i += 2
                continue
            if e == "k" and pattern.startswith("<", i + 2):  # a named backreference
                end = pattern.find(">", i + 3)
                if end < 0:
                    raise Untranslatable("unclosed \\k<")
                out.append(f"(?P={pattern[i + 3:end]})")
                i = end + 1
                continue
            if e == "z":
                out.append(r"\Z")
            elif e == "Z":
                out.append(JAVA_END)
            elif e == "e":
                out.append(r"\x1b")
            elif e in "RXGK" or (e in "bB" and pattern.startswith("{", i + 2)):
                raise Untranslatable(f"\\{e}")
            elif e == "b" and in_class:
                raise Untranslatable("\\b inside a character class")
            else:
                # The same in both: \d \w \s \t \n \. \- \/ \uXXXX, backreferences...
                # An escape Python lacks fails to compile, and is reported.
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "[":
                raise Untranslatable("nested character class")
            if c == "&" and pattern.startswith("&&", i):
                raise Untranslatable("character class intersection &&")
            if c == "]":
                in_class = False
                out.append(c)
            elif c in "&~|":
                out.append("\\" + c)  # doubled, Python reserves them for set operations
            else:
                out.append(c)
            i += 1
            continue
        if c == "[":
            start = i + 2 if pattern.startswith("[^", i) else i + 1
            if start < n and pattern[start] == "]":
                raise Untranslatable("character class starting with ]")
            out.append(pattern[i:start])
            in_class = True
            i = start
            continue
        if c == ".":
            out.append(JAVA_DOT)
        elif c == "$":
            out.append(JAVA_END)
        elif pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")  # a named group
            i += 3
            continue
        else:
            out.append(c)
        i += 1
    if in_class:
        raise Untranslatable("unclosed character class")
    return "".join(out)


def lower_first(name):
    """AWS names members in messages with the first letter lowered
    (`WebACLArn` -> `webACLArn`)."""
    return name[:1].lower() + name[1:]


def shown(value):
    """A value as AWS shows it in a message (`Value null`, `Value 'x'`), cut
    short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)):
        text = repr(value)
    else:
        text = json.dumps(value, separators=(",", ":"))
    if len(text) > SHOWN_VALUE_CHARS:
        text = text[:SHOWN_VALUE_CHARS] + "..."
    return f"'{text}'"


INT_BOUNDS = {"integer": (-2**31, 2**31 - 1), "long": (-2**63, 2**63 - 1)}


# What an update clears on AWS when it leaves the member out (AWS WAF API
# reference, UpdateWebACL and UpdateIPSet: "this operation completely replaces
# the mutable specifications"), as moto holds "none" for it: moto keeps a
# member an update omits. Structures (CaptchaConfig...) have no such value in
# moto and are left as they are.
CLEARED_WHEN_OMITTED = {
    "UpdateWebACL": {"Description": "", "CustomResponseBodies": {}, "TokenDomains": []},
    "UpdateIPSet": {"Description": ""},
}


def with_aws_update_semantics(op, body):
    """The request body of a valid `op` as moto must get it to end where AWS
    would: for an update, every member of CLEARED_WHEN_OMITTED it leaves out
    sent as moto's "none". Anything else unchanged."""
    cleared = CLEARED_WHEN_OMITTED.get(op)
    if not cleared:
        return body
    params = json.loads(body.decode("utf-8"))
    missing = {k: v for k, v in cleared.items() if k not in params}
    if not missing:
        return body
    return json.dumps({**params, **missing}).encode()


class RequestValidator:
    """Checks JSON request bodies against a botocore service model's input
    shapes: required members, unknown members, JSON types, string and blob
    lengths, patterns, enums, list and map sizes, number ranges.

    A wrong JSON type (or a body that is not JSON) is what AWS answers with a
    SerializationException; everything else is a ValidationException listing
    every broken constraint in AWS's words."""

    def __init__(self, service_model):
        self.model = service_model
        self.operations = set(service_model.operation_names)
        self.patterns = {}  # the model's pattern -> compiled, or None when skipped
        self.skipped = {}  # pattern -> why it was not translated
        seen = set()
        for op in service_model.operation_names:
            shape = service_model.operation_model(op).input_shape
            if shape is not None:
                self._compile_patterns(shape, seen)

    def _compile_patterns(self, shape, seen):
        if shape.name in seen:
            return
        seen.add(shape.name)
        pattern = shape.metadata.get("pattern")
        if pattern is not None and pattern not in self.patterns:
            try:
                self.patterns[pattern] = re.compile(java_regex_to_python(pattern), re.ASCII)
            except (Untranslatable, re.error) as e:
                self.patterns[pattern] = None
                self.skipped[pattern] = str(e)
        for child in self._children(shape):
            self._compile_patterns(child, seen)

    @staticmethod
    def _children(shape):
        if shape.type_name == "structure":
            return list(shape.members.values())
        if shape.type_name == "list":
            return [shape.member]
        if shape.type_name == "map":
            return [shape.key, shape.value]
        return []

    def check(self, op, body):
        """The Verdict on a request of operation `op` with JSON `body`:
        error_type None when it is valid, or when `op` is not in the model
        (AWS's answer to that is left to moto)."""
        if op not in self.operations:
            return Verdict(None, None, 0, 0)
        shape = self.model.operation_model(op).input_shape
        try:
            params = json.loads(body.decode("utf-8")) if body and body.strip() else {}
        except (UnicodeDecodeError, ValueError):
            return Verdict("SerializationException", "the request body is not JSON", 0, 0)
        walk = _Walk(self)
        if shape is not None:
            walk.value(shape, params, "")
        elif params != {}:
            walk.serialization.append("the operation takes no input")
        error_type = message = None
        if not walk.serialization and not walk.errors:
            quota = body_quota(params)
            if quota is not None:
                return Verdict("WAFInvalidParameterException", quota, walk.patterns_skipped,
                               walk.moto_values)
        if walk.serialization:
            # AWS stops at the first value it cannot read.
            error_type, message = "SerializationException", walk.serialization[0]
        elif walk.errors:
            count = len(walk.errors)
            error_type = "ValidationException"
            message = (f"{count} validation error{'s' if count > 1 else ''} detected: "
                       + "; ".join(walk.errors))
        return Verdict(error_type, message, walk.patterns_skipped, walk.moto_values)


# AWS WAF quotas page: "Maximum size of a custom response body": 4 KB. The
# model allows 10,240 characters; AWS refuses a body over the quota.
MAX_BODY_BYTES = 4096


def body_quota(params):
    """Why a CreateWebACL/UpdateWebACL breaks the custom response body
    quota (as AWS words such refusals), or None."""
    bodies = params.get("CustomResponseBodies") if isinstance(params, dict) else None
    for key, body in (bodies or {}).items():
        content = body.get("Content", "") if isinstance(body, dict) else ""
        size = len(content.encode("utf-8")) if isinstance(content, str) else 0
        if size > MAX_BODY_BYTES:
            return (f"Error reason: The custom response body {key!r} is {size} bytes, more than "
                    f"the {MAX_BODY_BYTES} bytes allowed., field: CUSTOM_RESPONSE_BODY, "
                    f"parameter: {key}")
    return None


# What RequestValidator.check found: error_type None (valid) or
# "ValidationException"/"SerializationException" with AWS's message; how many
# values went unchecked for want of a pattern; how many moto-made values
# (MOTO_FORMATS) were let through.
Verdict = collections.namedtuple("Verdict", "error_type message patterns_skipped moto_values")

# Values moto makes in a format AWS never uses, which a client only echoes
# back: moto 5 gives IP sets lock tokens of 6 hex digits where AWS gives a
# UUID (the LockToken pattern). Refusing them would blame the product for
# moto; they are let through and counted (`moto_lock_tokens`).
MOTO_FORMATS = {"LockToken": re.compile(r"[0-9a-f]{6}")}


class _Walk:
    """One request's check: the errors found, in the order of the model."""

    def __init__(self, validator):
        self.validator = validator
        self.errors = []  # "Value ... at '...' failed to satisfy constraint: ..."
        self.serialization = []
        self.patterns_skipped = 0
        self.moto_values = 0

    def fail(self, path, value, constraint):
        self.errors.append(f"Value {shown(value)} at '{path}' failed to satisfy constraint: {constraint}")

    def wrong_type(self, path, value, expected):
        self.serialization.append(f"Expected {expected} at '{path or '(request)'}', got {shown(value)}")

    def value(self, shape, value, path):
        kind = shape.type_name
        if kind == "structure":
            self.structure(shape, value, path)
        elif kind == "list":
            self.list(shape, value, path)
        elif kind == "map":
            self.map(shape, value, path)
        elif kind == "string":
            if not isinstance(value, str):
                return self.wrong_type(path, value, "a string")
            self.string(shape, value, path)
        elif kind in ("integer", "long"):
            low, high = INT_BOUNDS[kind]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                return self.wrong_type(path, value, f"an {kind}" if kind == "integer" else "a long")
            self.range(shape, value, path)
        elif kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return self.wrong_type(path, value, "a number")
            self.range(shape, value, path)
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.wrong_type(path, value, "true or false")
        elif kind == "timestamp":
            # The JSON protocol sends timestamps as epoch seconds.
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.wrong_type(path, value, "a timestamp (epoch seconds)")
        elif kind == "blob":
            self.blob(shape, value, path)
        # Other types (documents) carry no constraint to check.

    def structure(self, shape, value, path):
        if not isinstance(value, dict):
            return self.wrong_type(path, value, "an object")
        if shape.metadata.get("document"):
            return
        prefix = path + "." if path else ""
        required = shape.metadata.get("required", [])
        present = 0
        for name, member in shape.members.items():
            member_value = value.get(name)
            member_path = prefix + lower_first(name)
            if member_value is None:  # AWS reads a JSON null as absent
                if name in required:
                    self.fail(member_path, None, "Member must not be null")
                continue
            present += 1
            self.value(member, member_value, member_path)
        for name, member_value in value.items():
            if name not in shape.members:
                # AWS refuses members its model does not have.
                self.fail(prefix + lower_first(name), member_value,
                          f"Member must not be present: {shape.name} has no member {name}")
        if getattr(shape, "is_tagged_union", False) and present != 1:
            self.fail(path or shape.name, value, "Member must have exactly one member set")

    def list(self, shape, value, path):
        if not isinstance(value, list):
            return self.wrong_type(path, value, "a list")
        self.length(shape, len(value), value, path)
        for index, item in enumerate(value, 1):
            item_path = f"{path}.{index}.member"  # AWS numbers list members from 1
            if item is None:
                self.fail(item_path, None, "Member must not be null")
            else:
                self.value(shape.member, item, item_path)

    def map(self, shape, value, path):
        if not isinstance(value, dict):
            return self.wrong_type(path, value, "an object")
        self.length(shape, len(value), value, path)
        for key, item in value.items():
            # A key's broken constraints are listed together, as AWS does.
            key_walk = _Walk(self.validator)
            key_walk.string(shape.key, key, path)
            self.patterns_skipped += key_walk.patterns_skipped
            self.moto_values += key_walk.moto_values
            if key_walk.errors:
                constraints = [e.split("failed to satisfy constraint: ", 1)[1] for e in key_walk.errors]
                self.fail(path, key, f"Map keys must satisfy constraint: [{', '.join(constraints)}]")
            if item is None:
                self.fail(f"{path}.{key}.member", None, "Member must not be null")
            else:
                self.value(shape.value, item, f"{path}.{key}.member")

    def string(self, shape, value, path):
        meta = shape.metadata
        enum = meta.get("enum")
        if enum and value not in enum:
            self.fail(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        # Lengths count code points (Smithy's rule for strings), not bytes.
        self.length(shape, len(value), value, path)
        pattern = meta.get("pattern")
        if pattern is not None:
            compiled = self.validator.patterns.get(pattern)
            if compiled is None:
                self.patterns_skipped += 1  # not checked: counted, never claimed
            elif compiled.search(value):  # AWS does not anchor patterns itself
                pass
            elif shape.name in MOTO_FORMATS and MOTO_FORMATS[shape.name].fullmatch(value):
                self.moto_values += 1
            else:
                self.fail(path, value, f"Member must satisfy regular expression pattern: {pattern}")

    def blob(self, shape, value, path):
        if not isinstance(value, str):
            return self.wrong_type(path, value, "a base64 string")
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return self.wrong_type(path, value, "a base64 string")
        self.length(shape, len(raw), value, path)

    def length(self, shape, size, value, path):
        """min/max of a string, blob, list or map: its length."""
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and size < low:
            self.fail(path, value, f"Member must have length greater than or equal to {low}")
        if high is not None and size > high:
            self.fail(path, value, f"Member must have length less than or equal to {high}")

    def range(self, shape, value, path):
        """min/max of a number: its value."""
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self.fail(path, value, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            self.fail(path, value, f"Member must have value less than or equal to {high}")


def load_validator(service):
    """A RequestValidator for `service` from botocore's model; botocore is
    imported here, so the proxy needs it only with --validate."""
    import botocore.session
    return RequestValidator(botocore.session.get_session().get_service_model(service))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        # The model's patterns --validate could not translate: a property of
        # the model, not a count, so never reset.
        self.patterns_skipped = []
        self.reset()

    def reset(self):
        self.calls = {}
        self.total = 0
        self.writes = 0
        self.write_wait = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.throttled = {}
        self.by_place = {}
        self.emulation = 0.0
        self.invalid = 0
        self.invalid_calls = collections.deque(maxlen=INVALID_CALLS_KEPT)
        self.pattern_checks_skipped = 0
        self.moto_lock_tokens = 0

    def snapshot(self, settings):
        with self.lock:
            return {
                "calls": dict(sorted(self.calls.items())),
                "total": self.total,
                "writes": self.writes,
                "write_wait_seconds": round(self.write_wait, 6),
                "max_in_flight": self.max_in_flight,
                "throttled": sum(self.throttled.values()),
                "throttled_calls": dict(sorted(self.throttled.items())),
                "by_place": {k: dict(v) for k, v in sorted(self.by_place.items())},
                "emulation_seconds": round(self.emulation, 6),
                "invalid": self.invalid,
                "invalid_calls": list(self.invalid_calls),
                "patterns_skipped": list(self.patterns_skipped),
                "pattern_checks_skipped": self.pattern_checks_skipped,
                "moto_lock_tokens": self.moto_lock_tokens,
                "settings": settings,
            }


def classify(headers, path, body):
    """(service, op) of an API call, or None when it is not one."""
    target = headers.get("X-Amz-Target")
    if target:
        prefix, _, op = target.partition(".")
        service = TARGET_SERVICES.get(prefix, prefix)
        return service, op or prefix
    action = None
    query = urllib.parse.urlsplit(path).query
    if query:
        action = (urllib.parse.parse_qs(query).get("Action") or [None])[0]
    ctype = headers.get("Content-Type", "")
    if action is None and body and "x-www-form-urlencoded" in ctype:
        try:
            fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        except ValueError:
            fields = {}
        action = (fields.get("Action") or [None])[0]
    if action is None:
        return None
    match = SCOPE_RE.search(headers.get("Authorization", ""))
    service = match.group(1) if match else "unknown"
    return service, action


def make_handler(config):
    upstream = urllib.parse.urlsplit(config.upstream)
    up_host = upstream.hostname or "127.0.0.1"
    up_port = upstream.port or 80
    stats = config.stats
    bucket = config.bucket
    quotas = config.quotas
    validator = config.validator
    delay = config.delay_ms / 1000.0
    # Access keys from AssumeRole answers, and the account of each role.
    key_accounts = {}

    def place_of(headers):
        """(ACCOUNT/REGION, access key) of a signed call."""
        m = KEY_REGION_RE.search(headers.get("Authorization", ""))
        if not m:
            return "own/us-east-1", "testing"
        key, region = m.group(1), m.group(2)
        return f"{key_accounts.get(key, 'own')}/{region}", key

    def moto_call(target, payload, region="us-east-1", key="testing"):
        """One awsJson call to moto (no signature needed) in `region` of the
        account of access key `key`; the parsed answer."""
        conn = http.client.HTTPConnection(up_host, up_port, timeout=60)
        try:
            conn.request("POST", "/", body=json.dumps(payload), headers={
                "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
                "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/wafv2/aws4_request",
            })
            return json.loads(conn.getresponse().read() or b"{}")
        finally:
            conn.close()

    def load_balancer_arns(region, key="testing"):
        """Every load balancer moto has in `region` of the account of access
        key `key` (ELBv2, query protocol)."""
        arns, marker = [], None
        while True:
            form = {"Action": "DescribeLoadBalancers", "Version": "2015-12-01"}
            if marker:
                form["Marker"] = marker
            conn = http.client.HTTPConnection(up_host, up_port, timeout=60)
            try:
                conn.request("POST", "/", body=urllib.parse.urlencode(form), headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/"
                                     "elasticloadbalancing/aws4_request",
                })
                text = conn.getresponse().read().decode("utf-8", "replace")
            finally:
                conn.close()
            arns += re.findall(r"<LoadBalancerArn>([^<]+)</LoadBalancerArn>", text)
            m = re.search(r"<NextMarker>([^<]+)</NextMarker>", text)
            if not m:
                return arns
            marker = m.group(1)

    def api_stage_arns(region, key="testing"):
        """Every API Gateway REST API stage moto has in `region` (REST-JSON)."""
        def get(path):
            conn = http.client.HTTPConnection(up_host, up_port, timeout=60)
            try:
                conn.request("GET", path, headers={
                    "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/"
                                     "apigateway/aws4_request",
                })
                return json.loads(conn.getresponse().read() or b"{}")
            finally:
                conn.close()

        arns = []
        for api in get("/restapis?limit=500").get("item", []):
            for stage in get(f"/restapis/{api['id']}/stages").get("item", []):
                arns.append(f"arn:aws:apigateway:{region}::/restapis/{api['id']}/stages/"
                            f"{stage['stageName']}")
        return arns

    def list_resources_for_web_acl(body, key="testing"):
        asked = json.loads(body or b"{}")
        acl = asked.get("WebACLArn", "")
        region = acl.split(":")[3] if acl.count(":") >= 4 else "us-east-1"
        # One ResourceType per call, as AWS; load balancers and API Gateway
        # stages are known here, no other kind.
        kind = asked.get("ResourceType", "APPLICATION_LOAD_BALANCER")
        if kind == "APPLICATION_LOAD_BALANCER":
            arns = load_balancer_arns(region, key)
        elif kind == "API_GATEWAY":
            arns = api_stage_arns(region, key)
        else:
            arns = []

        def associated(arn):
            answer = moto_call("AWSWAF_20190729.GetWebACLForResource", {"ResourceArn": arn},
                               region, key)
            return (answer.get("WebACL") or {}).get("ARN") == acl

        # At once: AWS answers this in one call, the emulation should not
        # take N round trips of its own.
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            found = [arn for arn, yes in zip(arns, pool.map(associated, arns)) if yes]
        return json.dumps({"ResourceArns": found}).encode()

    def check_capacity(body):
        """(status, body, headers) of CheckCapacity as AWS answers it."""
        json_type = [("Content-Type", "application/x-amz-json-1.1")]
        try:
            asked = json.loads(body or b"{}")
            rules = asked["Rules"]
            if not isinstance(rules, list) or asked.get("Scope") not in ("REGIONAL", "CLOUDFRONT"):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            error = {"__type": "WAFInvalidParameterException",
                     "Message": "CheckCapacity needs Scope (REGIONAL or CLOUDFRONT) and Rules"}
            return 400, json.dumps(error).encode(), json_type
        forced = config.forced_capacity
        capacity = estimate_wcu(rules) if forced is None else forced
        return 200, json.dumps({"Capacity": capacity}).encode(), json_type

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 300  # idle keep-alive connections are closed after this

        def log_message(self, fmt, *args):
            if config.verbose:
                sys.stderr.write("latency_proxy: " + (fmt % args) + "\n")

        def _read_body(self):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks = []
                while True:
                    size_line = self.rfile.readline()
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        # trailers until the empty line
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status, body, headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _control(self, body):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/_proxy/counts" and self.command == "GET":
                data = stats.snapshot(config.settings)
            elif path == "/_proxy/reset" and self.command == "POST":
                data = stats.snapshot(config.settings)
                with stats.lock:
                    stats.reset()
            elif path == "/_proxy/capacity" and self.command == "POST":
                try:
                    forced = json.loads(body or b"{}").get("capacity")
                    if forced is not None and (isinstance(forced, bool) or not isinstance(forced, int)):
                        raise ValueError
                except (ValueError, AttributeError):
                    self._send(400, b'{"error": "expected {\\"capacity\\": <integer or null>}"}\n',
                               [("Content-Type", "application/json")])
                    return
                config.forced_capacity = forced
                config.settings["forced_capacity"] = forced
                data = {"capacity": forced}
            else:
                self._send(404, b'{"error": "unknown proxy control path"}\n',
                           [("Content-Type", "application/json")])
                return
            self._send(200, (json.dumps(data, indent=1) + "\n").encode(),
                       [("Content-Type", "application/json")])

        def _forward(self):
            body = self._read_body()
            if self.path.startswith("/_proxy/"):
                self._control(body)
                return
            call = classify(self.headers, self.path, body)
            if call is not None and call[1] == "AssumeRole":
                self._assume_role(body)
                return
            if call is not None:
                service, op = call
                place, access_key = place_of(self.headers)
                is_write = service == "wafv2" and op.startswith(WRITE_PREFIXES)
                with stats.lock:
                    key = f"{service}:{op}"
                    stats.calls[key] = stats.calls.get(key, 0) + 1
                    stats.total += 1
                    stats.writes += int(is_write)
                    stats.in_flight += 1
                    stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
                    if service == "wafv2":
                        counted = stats.by_place.setdefault(place, {"calls": 0, "throttled": 0})
                        counted["calls"] += 1
                if service == "wafv2" and quotas is not None and not quotas.admit(op, place):
                    with stats.lock:
                        stats.throttled[key] = stats.throttled.get(key, 0) + 1
                        stats.by_place[place]["throttled"] += 1
                        stats.in_flight -= 1
                    if delay > 0:
                        time.sleep(delay)
                    self._send(400, THROTTLED_BODY, [
                        ("Content-Type", "application/x-amz-json-1.1"),
                        ("x-amzn-RequestId", "00000000-0000-4000-8000-0000000000a1"),
                    ])
                    return
                try:
                    if validator is not None and service == "wafv2" and self.headers.get("X-Amz-Target"):
                        # Checked after the quota, as AWS throttles before it
                        # reads a request; a refused request never reaches moto.
                        verdict = validator.check(op, body)
                        with stats.lock:
                            stats.pattern_checks_skipped += verdict.patterns_skipped
                            stats.moto_lock_tokens += verdict.moto_values
                            if verdict.error_type is not None:
                                stats.invalid += 1
                                stats.invalid_calls.append({"op": key, "message": verdict.message})
                        if verdict.error_type is not None:
                            if delay > 0:
                                time.sleep(delay)
                            answer = json.dumps({"__type": verdict.error_type,
                                                 "message": verdict.message}).encode()
                            self._send(400, answer, [
                                ("Content-Type", "application/x-amz-json-1.1"),
                                ("x-amzn-RequestId", "00000000-0000-4000-8000-0000000000a2"),
                            ])
                            return
                        body = with_aws_update_semantics(op, body)
                    if is_write and bucket is not None:
                        waited = bucket.acquire()
                        if waited:
                            with stats.lock:
                                stats.write_wait += waited
                    if delay > 0:
                        time.sleep(delay)
                    if op == "CheckCapacity" and (config.answer_check_capacity
                                                  or config.forced_capacity is not None):
                        self._send(*check_capacity(body))
                    elif op == "ListResourcesForWebACL" and config.answer_list_resources:
                        started = time.monotonic()
                        answer = list_resources_for_web_acl(body, access_key)
                        with stats.lock:
                            stats.emulation += time.monotonic() - started
                        self._send(200, answer, [("Content-Type", "application/x-amz-json-1.1")])
                    else:
                        self._relay(body)
                finally:
                    with stats.lock:
                        stats.in_flight -= 1
            else:
                self._relay(body)

        def _assume_role(self, body):
            """AssumeRole: refused for a --deny-role role, else forwarded,
            and the access key it gives is tied to the role's account."""
            fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            role = (fields.get("RoleArn") or [""])[0]
            with stats.lock:
                stats.calls["sts:AssumeRole"] = stats.calls.get("sts:AssumeRole", 0) + 1
                stats.total += 1
            if role in config.deny_role:
                self._send(403, denied_role_body(role), [("Content-Type", "text/xml")])
                return
            data = self._relay(body)
            m = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", (data or b"").decode("utf-8", "replace"))
            parts = role.split(":")
            if m and len(parts) > 4:
                key_accounts[m.group(1)] = parts[4]

        def _relay(self, body):
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            conn = http.client.HTTPConnection(up_host, up_port, timeout=120)
            try:
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                status = resp.status
            except OSError as e:
                self._send(502, f'{{"error": "upstream: {e}"}}\n'.encode(),
                           [("Content-Type", "application/json")])
                return None
            finally:
                conn.close()
            self._send(status, data, out_headers)
            return data

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # many SDK connections opened at once


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", required=True, help="moto's URL, e.g. http://127.0.0.1:5000")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: a free port")
    p.add_argument("--port-file", help="write the chosen port here once listening")
    p.add_argument("--delay-ms", type=float, default=100.0, help="added to every API call (default 100)")
    p.add_argument("--write-rate", type=float, default=0.0,
                   help="WAF write calls per second at most (0: no cap)")
    p.add_argument("--write-burst", type=float, default=1.0, help="token bucket size")
    p.add_argument("--quotas", action="store_true",
                   help="hold WAF calls to AWS WAF's call-rate quotas (ThrottlingException above them)")
    p.add_argument("--answer-list-resources", action="store_true",
                   help="answer ListResourcesForWebACL (moto lacks it) from moto's state")
    p.add_argument("--answer-check-capacity", action="store_true",
                   help="answer CheckCapacity (moto lacks it) with a WCU estimate of the rules")
    p.add_argument("--validate", action="store_true",
                   help="check every AWS WAF request against botocore's model of it (needs botocore); "
                        "answer ValidationException as AWS does when it breaks a rule")
    p.add_argument("--deny-role", action="append", default=[], metavar="ARN",
                   help="answer AssumeRole of this role with AccessDenied (repeatable)")
    p.add_argument("--parent-pid", type=int, help="stop when this process is gone")
    p.add_argument("--verbose", action="store_true")
    config = p.parse_args(argv)
    config.stats = Stats()
    config.bucket = TokenBucket(config.write_rate, config.write_burst) if config.write_rate > 0 else None
    config.quotas = Quotas() if config.quotas else None
    config.validator = None
    if config.validate:
        try:
            config.validator = load_validator("wafv2")
        except ImportError as e:
            p.error(f"--validate needs botocore (run with the project's .venv python): {e}")
        config.stats.patterns_skipped = sorted(config.validator.skipped)
    config.settings = {
        "upstream": config.upstream,
        "delay_ms": config.delay_ms,
        "write_rate": config.write_rate,
        "write_burst": config.write_burst,
        "quotas": config.quotas is not None,
        "answer_list_resources": config.answer_list_resources,
        "answer_check_capacity": config.answer_check_capacity,
        "validate": config.validate,
        "deny_role": list(config.deny_role),
        "forced_capacity": None,
    }
    config.forced_capacity = None

    server = Server((config.host, config.port), make_handler(config))
    port = server.server_address[1]
    stopping = threading.Event()

    def stop(*_):
        if not stopping.is_set():
            stopping.set()
            # shutdown() waits for serve_forever to return: not from its thread.
            threading.Thread(target=server.shutdown, daemon=True).start()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)

    if config.parent_pid:
        def watch_parent():
            while not stopping.is_set():
                try:
                    os.kill(config.parent_pid, 0)
                except ProcessLookupError:
                    stop()
                    return
                except PermissionError:
                    pass
                time.sleep(1)

        threading.Thread(target=watch_parent, daemon=True).start()

    if config.port_file:
        tmp = config.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, config.port_file)
    print(f"listening on http://{config.host}:{port} -> {config.upstream} "
          f"(delay {config.delay_ms:g} ms, write cap {config.write_rate or 'none'}/s, "
          f"AWS quotas {'on' if config.quotas else 'off'}, "
          f"validation {'on' if config.validator else 'off'})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
