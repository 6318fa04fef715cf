"""An HTTP proxy between the AWS SDK and moto that makes moto answer like AWS:
a fixed delay per API call, an optional cap on WAF write calls per second, and
a count of calls per operation.

moto answers in a few milliseconds, AWS in about a hundred, so a design that
makes its API calls one after another looks fine against moto and slow
against AWS. Put this proxy in front of moto and point the SDK at it
(AWS_ENDPOINT_URL=http://127.0.0.1:<proxy port>) to see the difference.

Python standard library only (it runs from the project's .venv python, or any
python3 >= 3.8).

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

With `--answer-list-resources`, ListResourcesForWebACL (which moto lacks: it
answers 500) is answered from moto's real state, as AWS would: every load
balancer moto has whose GetWebACLForResource is the web ACL asked for.

With `--answer-check-capacity`, CheckCapacity (which moto also lacks) is
answered `{"Capacity": N}` with an estimate of the rules' WCU (see
`estimate_wcu`), or with the number forced through `POST /_proxy/capacity`.
Under `--quotas` it is an individual non-write action of its own: five per
second.

Control endpoints (answered by the proxy itself, never forwarded):
- `GET /_proxy/counts`: JSON `{"calls": {"wafv2:GetWebACL": 3, ...},
  "total": N, "writes": N, "write_wait_seconds": S, "max_in_flight": N,
  "throttled": N, "throttled_calls": {"wafv2:AssociateWebACL": 2, ...},
  "emulation_seconds": S (the time spent answering ListResourcesForWebACL
  from moto, which AWS answers in one round trip),
  "settings": {...}}`;
- `POST /_proxy/reset`: zeroes the counts (answers with the counts it had);
- `POST /_proxy/capacity` with `{"capacity": 5001}`: every CheckCapacity is
  answered 5001 from now on (and is answered even without
  `--answer-check-capacity`); `{"capacity": null}` goes back to the estimate.
  Answers `{"capacity": <forced or null>}`. Not touched by `/_proxy/reset`.

Usage:
  python latency_proxy.py --upstream http://127.0.0.1:5000 [--port 0]
      [--port-file FILE] [--delay-ms 100] [--write-rate 0] [--write-burst 1]
      [--quotas] [--answer-list-resources] [--answer-check-capacity]
      [--parent-pid PID] [--verbose]

With `--port 0` (the default) a free loopback port is chosen; it is printed
as `listening on http://127.0.0.1:PORT` and written to `--port-file`. Stops
cleanly on SIGTERM, SIGINT or SIGHUP, and by itself when `--parent-pid` is
given and that process is gone.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import re
import signal
import sys
import threading
import time
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

    def admit(self, op):
        with self.lock:
            now = time.monotonic()
            if now < self.next_free.get(op, 0.0):
                return False
            self.next_free[op] = now + quota_period(op)
            return True


THROTTLED_BODY = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.calls = {}
        self.total = 0
        self.writes = 0
        self.write_wait = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.throttled = {}
        self.emulation = 0.0

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
                "emulation_seconds": round(self.emulation, 6),
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
    delay = config.delay_ms / 1000.0

    def moto_call(target, payload):
        """One awsJson call to moto (no signature needed); the parsed answer."""
        conn = http.client.HTTPConnection(up_host, up_port, timeout=60)
        try:
            conn.request("POST", "/", body=json.dumps(payload), headers={
                "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
                "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/wafv2/aws4_request",
            })
            return json.loads(conn.getresponse().read() or b"{}")
        finally:
            conn.close()

    def load_balancer_arns(region):
        """Every load balancer moto has in `region` (ELBv2, query protocol)."""
        arns, marker = [], None
        while True:
            form = {"Action": "DescribeLoadBalancers", "Version": "2015-12-01"}
            if marker:
                form["Marker"] = marker
            conn = http.client.HTTPConnection(up_host, up_port, timeout=60)
            try:
                conn.request("POST", "/", body=urllib.parse.urlencode(form), headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/"
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

    def list_resources_for_web_acl(body):
        asked = json.loads(body or b"{}")
        acl = asked.get("WebACLArn", "")
        region = acl.split(":")[3] if acl.count(":") >= 4 else "us-east-1"
        arns = load_balancer_arns(region)

        def associated(arn):
            answer = moto_call("AWSWAF_20190729.GetWebACLForResource", {"ResourceArn": arn})
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
            if call is not None:
                service, op = call
                is_write = service == "wafv2" and op.startswith(WRITE_PREFIXES)
                with stats.lock:
                    key = f"{service}:{op}"
                    stats.calls[key] = stats.calls.get(key, 0) + 1
                    stats.total += 1
                    stats.writes += int(is_write)
                    stats.in_flight += 1
                    stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
                if service == "wafv2" and quotas is not None and not quotas.admit(op):
                    with stats.lock:
                        stats.throttled[key] = stats.throttled.get(key, 0) + 1
                        stats.in_flight -= 1
                    if delay > 0:
                        time.sleep(delay)
                    self._send(400, THROTTLED_BODY, [
                        ("Content-Type", "application/x-amz-json-1.1"),
                        ("x-amzn-RequestId", "00000000-0000-4000-8000-0000000000a1"),
                    ])
                    return
                try:
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
                        answer = list_resources_for_web_acl(body)
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
                return
            finally:
                conn.close()
            self._send(status, data, out_headers)

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
    p.add_argument("--parent-pid", type=int, help="stop when this process is gone")
    p.add_argument("--verbose", action="store_true")
    config = p.parse_args(argv)
    config.stats = Stats()
    config.bucket = TokenBucket(config.write_rate, config.write_burst) if config.write_rate > 0 else None
    config.quotas = Quotas() if config.quotas else None
    config.settings = {
        "upstream": config.upstream,
        "delay_ms": config.delay_ms,
        "write_rate": config.write_rate,
        "write_burst": config.write_burst,
        "quotas": config.quotas is not None,
        "answer_list_resources": config.answer_list_resources,
        "answer_check_capacity": config.answer_check_capacity,
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
          f"AWS quotas {'on' if config.quotas else 'off'})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
