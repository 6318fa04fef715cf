"""tests/moto/latency_proxy.py, the proxy scripts/bench measures through: it
counts every API call by operation, lets calls run concurrently while each
waits its delay, caps WAF writes per second, and stops cleanly.

Needs moto (the `moto_endpoint` fixture) and boto3, not the built `maint`
extension. Timing checks are one-sided and generous (the machine may be a
loaded 2-core box): concurrency is "much faster than serial", the write cap a
lower bound; never a tight upper bound.
"""

from __future__ import annotations

import base64
import concurrent.futures
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import REGION, ROOT

import latency_proxy  # tests/moto/latency_proxy.py, the module under test (its checker)
import seed  # tests/moto/seed.py, put on sys.path by conftest

PROXY_SCRIPT = ROOT / "tests" / "moto" / "latency_proxy.py"


class LatencyProxy:
    """latency_proxy.py in its own process, in front of moto."""

    def __init__(self, upstream: str, port_file: Path, *args: str) -> None:
        self.child = subprocess.Popen(
            [sys.executable, str(PROXY_SCRIPT), "--upstream", upstream,
             "--port-file", str(port_file), "--parent-pid", str(os.getpid()), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.child.poll() is not None or time.monotonic() > deadline:
                self.stop()
                err = self.child.stderr.read().decode(errors="replace") if self.child.stderr else ""
                pytest.fail(f"latency_proxy.py did not start: {err[-2000:]}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"

    def _control(self, method: str, path: str) -> dict:
        req = urllib.request.Request(
            self.url + path, method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def counts(self) -> dict:
        return self._control("GET", "/_proxy/counts")

    def reset(self) -> dict:
        return self._control("POST", "/_proxy/reset")

    def client(self, service: str, **config: object):
        return seed.client(service, self.url, REGION, **config)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Sends `sig` and returns the exit code (None if it had to be
        killed after 15 s)."""
        if self.child.poll() is None:
            self.child.send_signal(sig)
            try:
                self.child.wait(15)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait(10)
                return None
        return self.child.returncode


@pytest.fixture
def start_proxy(moto_endpoint: str, tmp_path: Path) -> Iterator[Callable[..., LatencyProxy]]:
    """Starts latency proxies in front of moto with the given arguments;
    stops whichever are still running after the test."""
    proxies: list[LatencyProxy] = []

    def start(*args: str) -> LatencyProxy:
        proxy = LatencyProxy(moto_endpoint, tmp_path / f"proxy-{len(proxies)}.port", *args)
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run_concurrently(n: int, call: Callable[[int], object]) -> float:
    """Runs call(0..n-1) on n threads at once; returns the wall time."""
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        list(pool.map(call, range(n)))
    return time.perf_counter() - started


def test_concurrent_calls_are_counted_and_overlap(moto_endpoint, start_proxy):
    delay_ms = 200
    proxy = start_proxy("--delay-ms", str(delay_ms))
    assert proxy.counts()["settings"]["delay_ms"] == delay_ms
    names = [unique("proxy-a"), unique("proxy-b")]
    arns = seed.create_load_balancers(moto_endpoint, names, region=REGION)  # not through the proxy
    assert proxy.counts()["total"] == 0

    waf = proxy.client("wafv2", max_pool_connections=64)
    calls = 50
    wall = run_concurrently(
        calls, lambda i: waf.get_web_acl_for_resource(ResourceArn=arns[i % 2])
    )
    counts = proxy.counts()
    assert counts["calls"] == {"wafv2:GetWebACLForResource": calls}, counts
    assert counts["total"] == calls and counts["writes"] == 0, counts
    # One after another they would take calls x delay (10 s); the proxy
    # sleeps in each request's own thread, so they overlap.
    serial = calls * delay_ms / 1000
    assert wall < serial / 2, f"{calls} concurrent calls took {wall:.2f} s; serial: {serial:.1f} s"
    assert counts["max_in_flight"] >= 5, counts
    # ...and each call did wait its delay.
    assert wall >= delay_ms / 1000


def test_query_protocol_calls_are_named_from_the_action(moto_endpoint, start_proxy):
    proxy = start_proxy("--delay-ms", "0")
    name = unique("proxy-q")
    seed.create_load_balancers(moto_endpoint, [name], region=REGION)
    lbs = proxy.client("elbv2").describe_load_balancers(Names=[name])["LoadBalancers"]
    assert [lb["LoadBalancerName"] for lb in lbs] == [name]  # forwarded, answered by moto
    counts = proxy.counts()
    # ELBv2 speaks the query protocol: the service comes from the SigV4
    # scope, the operation from Action=.
    assert counts["calls"] == {"elasticloadbalancing:DescribeLoadBalancers": 1}, counts


def test_moto_api_is_forwarded_uncounted_and_reset_zeroes(start_proxy):
    proxy = start_proxy("--delay-ms", "0")
    proxy.client("wafv2").list_web_acls(Scope="REGIONAL")
    with urllib.request.urlopen(proxy.url + "/moto-api/", timeout=30) as resp:
        assert resp.status == 200
    assert proxy.counts()["calls"] == {"wafv2:ListWebACLs": 1}
    before = proxy.reset()
    assert before["total"] == 1 and before["calls"] == {"wafv2:ListWebACLs": 1}
    after = proxy.counts()
    assert after["total"] == 0 and after["calls"] == {} and after["max_in_flight"] == 0


def test_write_cap_spaces_writes_and_leaves_reads_alone(moto_endpoint, start_proxy):
    rate, n = 5, 10
    proxy = start_proxy("--delay-ms", "0", "--write-rate", str(rate), "--write-burst", "1")
    waf = proxy.client("wafv2", max_pool_connections=32)

    run_concurrently(n, lambda i: waf.list_ip_sets(Scope="REGIONAL"))
    reads = proxy.reset()
    assert reads["calls"] == {"wafv2:ListIPSets": n}, reads
    assert reads["writes"] == 0 and reads["write_wait_seconds"] == 0, reads

    names = [unique("cap-check") for _ in range(n)]
    created: list[dict] = []
    try:
        wall = run_concurrently(n, lambda i: created.append(waf.create_ip_set(
            Name=names[i], Scope="REGIONAL", IPAddressVersion="IPV4",
            Addresses=["192.0.2.0/24"])["Summary"]))
        writes = proxy.counts()
        assert writes["calls"] == {"wafv2:CreateIPSet": n}, writes
        assert writes["writes"] == n, writes
        # A bucket of one token refilled at `rate` per second: the first write
        # goes at once, the other n - 1 wait (n - 1) / rate seconds in all
        # (1.8 s); a little slack for clock granularity, no upper bound.
        least = (n - 1) / rate
        assert wall >= least * 0.9, f"{n} capped writes took {wall:.2f} s, at least {least:.1f} s expected"
        assert writes["write_wait_seconds"] >= least * 0.9, writes
    finally:
        direct = seed.client("wafv2", moto_endpoint, REGION)
        for s in created:
            direct.delete_ip_set(Name=s["Name"], Scope="REGIONAL", Id=s["Id"], LockToken=s["LockToken"])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_stops_cleanly_on_a_signal(start_proxy, sig):
    proxy = start_proxy("--delay-ms", "0")
    proxy.client("wafv2").list_web_acls(Scope="REGIONAL")  # serving, with a kept-alive connection
    assert proxy.stop(sig) == 0


def test_stops_when_its_parent_is_gone(moto_endpoint, tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    port_file = tmp_path / "port"
    child = subprocess.Popen(
        [sys.executable, str(PROXY_SCRIPT), "--upstream", moto_endpoint,
         "--port-file", str(port_file), "--parent-pid", str(parent.pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the proxy did not start"
            time.sleep(0.05)
        parent.kill()
        parent.wait(10)  # reaped: its pid no longer answers
        assert child.wait(30) == 0
    finally:
        for p in (parent, child):
            if p.poll() is None:
                p.kill()
                p.wait(10)


def test_the_quota_model_throttles_calls_over_aws_quotas(moto_endpoint, start_proxy):
    proxy = start_proxy("--delay-ms", "0", "--quotas")
    [arn] = seed.create_load_balancers(moto_endpoint, [unique("proxy-quota")], region=REGION)
    waf = proxy.client("wafv2")  # no SDK retries: every refusal is seen
    waf.get_web_acl_for_resource(ResourceArn=arn)
    with pytest.raises(waf.exceptions.ClientError) as caught:
        waf.get_web_acl_for_resource(ResourceArn=arn)  # one per second
    error = caught.value.response["Error"]
    assert error["Code"] == "ThrottlingException" and error["Message"] == "Rate exceeded"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Other actions have quotas of their own: a ListWebACLs goes through.
    waf.list_web_acls(Scope="REGIONAL")
    time.sleep(1.1)
    waf.get_web_acl_for_resource(ResourceArn=arn)  # the quota has refilled
    counts = proxy.counts()
    assert counts["throttled"] == 1, counts
    assert counts["throttled_calls"] == {"wafv2:GetWebACLForResource": 1}, counts
    assert counts["calls"]["wafv2:GetWebACLForResource"] == 3, counts


def test_the_quota_model_holds_each_account_and_region_to_its_own_quotas(moto_endpoint, start_proxy):
    """AWS's quotas are per account and Region: a call in another Region,
    or in another account (credentials from an AssumeRole the proxy
    relayed), is not throttled by this one's, and each is counted under its
    place; `--deny-role` refuses that role's AssumeRole as AWS would."""
    proxy = start_proxy("--delay-ms", "0", "--quotas", "--deny-role",
                        "arn:aws:iam::730000000000:role/maint")
    sts = proxy.client("sts")
    creds = sts.assume_role(RoleArn="arn:aws:iam::740000000000:role/maint",
                            RoleSessionName="maint-test")["Credentials"]
    import boto3
    from botocore.config import Config

    def waf_in(region, credentials=None):
        keys = seed.CREDENTIALS if credentials is None else {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
        return boto3.client("wafv2", region_name=region, endpoint_url=proxy.url,
                            config=Config(retries={"total_max_attempts": 1}), **keys)

    own, other_region, other_account = waf_in(REGION), waf_in("eu-west-1"), waf_in(REGION, creds)
    for waf in (own, other_region, other_account):
        waf.get_web_acl_for_resource(ResourceArn=seed.create_load_balancers(
            moto_endpoint, [unique("place")], region=REGION)[0])
    with pytest.raises(own.exceptions.ClientError) as caught:
        own.get_web_acl_for_resource(ResourceArn="arn:aws:elasticloadbalancing:us-east-1:"
                                     "123456789012:loadbalancer/app/x/0123456789abcdef")
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    places = proxy.counts()["by_place"]
    assert places == {
        f"own/{REGION}": {"calls": 2, "throttled": 1},
        "own/eu-west-1": {"calls": 1, "throttled": 0},
        f"740000000000/{REGION}": {"calls": 1, "throttled": 0},
    }, places
    with pytest.raises(sts.exceptions.ClientError) as denied:
        sts.assume_role(RoleArn="arn:aws:iam::730000000000:role/maint", RoleSessionName="maint-x")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "arn:aws:iam::730000000000:role/maint" in denied.value.response["Error"]["Message"]


def test_list_resources_for_web_acl_is_answered_from_motos_state(moto_endpoint, start_proxy):
    proxy = start_proxy("--delay-ms", "0", "--answer-list-resources")
    names = [unique("proxy-lr-a"), unique("proxy-lr-b")]
    arns = seed.create_load_balancers(moto_endpoint, names, region=REGION)
    acl = seed.create_web_acl(moto_endpoint, unique("proxy-lr"), associate=arns[0])
    listed = proxy.client("wafv2").list_resources_for_web_acl(
        WebACLArn=acl, ResourceType="APPLICATION_LOAD_BALANCER"
    )["ResourceArns"]
    assert listed == [arns[0]]


def test_check_capacity_is_estimated_or_forced(moto_endpoint, start_proxy):
    proxy = start_proxy("--delay-ms", "0", "--quotas", "--answer-check-capacity",
                        "--answer-list-resources")
    arns = seed.create_load_balancers(moto_endpoint, [unique("proxy-cc"), unique("proxy-cc")],
                                      region=REGION)
    arn = arns[0]
    acl = seed.create_security_web_acl(moto_endpoint, unique("proxy-cc"), associate=arns)
    waf = proxy.client("wafv2")
    # A foreign web ACL shared by several ALBs: every one of them is listed.
    listed = waf.list_resources_for_web_acl(WebACLArn=acl["arn"],
                                            ResourceType="APPLICATION_LOAD_BALANCER")["ResourceArns"]
    assert sorted(listed) == sorted(arns)
    rules = waf.get_web_acl_for_resource(ResourceArn=arn)["WebACL"]["Rules"]
    # managed common rule set 700, rate-based 2, IP set 1, geo 1, rule group 100
    assert waf.check_capacity(Scope="REGIONAL", Rules=rules)["Capacity"] == acl["wcu"] == 804
    forwarded = dict(rules[2], Statement={"IPSetReferenceStatement": {
        "ARN": acl["ip_set_arn"],
        "IPSetForwardedIPConfig": {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH",
                                   "Position": "ANY"}}})
    time.sleep(0.25)  # five CheckCapacity per second under the quotas
    assert waf.check_capacity(Scope="REGIONAL", Rules=[forwarded])["Capacity"] == 5
    body = json.dumps({"capacity": 5001}).encode()
    req = urllib.request.Request(proxy.url + "/_proxy/capacity", method="POST", data=body)
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert json.loads(resp.read()) == {"capacity": 5001}
    time.sleep(0.25)
    assert waf.check_capacity(Scope="REGIONAL", Rules=rules)["Capacity"] == 5001
    with pytest.raises(waf.exceptions.ClientError) as caught:
        waf.check_capacity(Scope="REGIONAL", Rules=rules)  # over its own quota
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    counts = proxy.counts()
    assert counts["calls"]["wafv2:CheckCapacity"] == 4, counts
    assert counts["throttled_calls"] == {"wafv2:CheckCapacity": 1}, counts
    assert counts["writes"] == 0 and counts["settings"]["forced_capacity"] == 5001, counts


# --- --validate: AWS's request rules, which moto does not enforce ----------

VISIBILITY = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "maint"}
WAF_SCOPES = ("REGIONAL", "CLOUDFRONT", "GLOBALX")  # GLOBALX: where moto files a bad scope


def maintenance_rule(ip_set_arn: str, headers: list[dict]) -> dict:
    """A rule like the product's: block whoever is not on the allowlist, with
    a custom response."""
    return {
        "Name": "maint-maintenance",
        "Priority": 0,
        "Statement": {"NotStatement": {"Statement": {"IPSetReferenceStatement": {"ARN": ip_set_arn}}}},
        "Action": {"Block": {"CustomResponse": {
            "ResponseCode": 503, "CustomResponseBodyKey": "maint-page", "ResponseHeaders": headers}}},
        "VisibilityConfig": dict(VISIBILITY, MetricName="maint-blocked"),
    }


BODIES = {
    "maint-page": {"ContentType": "TEXT_HTML", "Content": "<h1>Down for maintenance</h1>"},
    "maint-state": {"ContentType": "APPLICATION_JSON", "Content": '{"window": "shop"}'},
}


def waf_state(direct) -> list[tuple]:
    """Every IP set and web ACL moto has, with its lock token (moto gives a
    new one on every write): equal before and after means moto saw no write."""
    found = []
    for scope in WAF_SCOPES:
        for list_call, key in ((direct.list_ip_sets, "IPSets"), (direct.list_web_acls, "WebACLs")):
            marker = None
            while True:
                page = list_call(Scope=scope, Limit=100, **({"NextMarker": marker} if marker else {}))
                found += [(key, scope, s["Name"], s["Id"], s["LockToken"]) for s in page[key]]
                marker = page.get("NextMarker")
                if not marker or not page[key]:
                    break
    return sorted(found)


def raw_waf_call(url: str, op: str, body: bytes) -> tuple[int, str, dict]:
    """One AWS WAF request as bytes on the wire (boto3 cannot send a member
    its model lacks, or a wrong JSON type): (status, Content-Type, answer)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers={
            "X-Amz-Target": f"AWSWAF_20190729.{op}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/wafv2/aws4_request",
        })
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type", ""), json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def test_validation_lets_valid_requests_through_to_moto(moto_endpoint, start_proxy):
    proxy = start_proxy("--delay-ms", "0", "--validate")
    counts = proxy.counts()
    assert counts["settings"]["validate"] is True
    assert counts["patterns_skipped"] == [], counts  # every wafv2 pattern is checked
    waf = proxy.client("wafv2", parameter_validation=False)
    direct = seed.client("wafv2", moto_endpoint, REGION)

    # The product's own values: its descriptions, its tags (":" in keys, an
    # ARN and a timestamp in values), and letters beyond ASCII (\p{L}).
    set_name = unique("allowlist")
    created = waf.create_ip_set(
        Name=set_name, Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["192.0.2.0/24"],
        Description="Allowlist of shop, managed by maint",
        Tags=[{"Key": "maint:managed-by", "Value": "maint"},
              {"Key": "maint:created", "Value": "2026-01-01T00:00:00Z"},
              {"Key": "maint:host-web-acl",
               "Value": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/shop/0f1e2d3c"},
              {"Key": "équipe", "Value": "Straße 1"}],
    )["Summary"]
    # moto's IP set lock token (6 hex digits, not AWS's UUID) goes back to it.
    waf.update_ip_set(Name=set_name, Scope="REGIONAL", Id=created["Id"], LockToken=created["LockToken"],
                      Addresses=["192.0.2.0/24", "198.51.100.7/32"])
    acl_name = unique("maint-shop")
    headers = [{"Name": "Retry-After", "Value": "3600"}]
    summary = waf.create_web_acl(
        Name=acl_name, Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig=VISIBILITY,
        Description="Maintenance window of service shop, managed by maint",
        Rules=[maintenance_rule(created["ARN"], headers)], CustomResponseBodies=BODIES,
    )["Summary"]
    read = waf.get_web_acl(Name=acl_name, Scope="REGIONAL", Id=summary["Id"])
    acl = read["WebACL"]
    headers.append({"Name": "Cache-Control", "Value": "no-store, max-age=0"})
    waf.update_web_acl(
        Name=acl_name, Scope="REGIONAL", Id=acl["Id"], LockToken=read["LockToken"],
        DefaultAction=acl["DefaultAction"], VisibilityConfig=acl["VisibilityConfig"],
        Description=acl["Description"], Rules=[maintenance_rule(created["ARN"], headers)],
        CustomResponseBodies=acl["CustomResponseBodies"],
    )

    # moto has all of it.
    addresses = direct.get_ip_set(Name=set_name, Scope="REGIONAL", Id=created["Id"])["IPSet"]["Addresses"]
    assert sorted(addresses) == ["192.0.2.0/24", "198.51.100.7/32"]
    stored = direct.get_web_acl(Name=acl_name, Scope="REGIONAL", Id=summary["Id"])["WebACL"]
    assert stored["Rules"][0]["Action"]["Block"]["CustomResponse"]["ResponseHeaders"] == headers
    counts = proxy.counts()
    assert counts["invalid"] == 0 and counts["invalid_calls"] == [], counts
    assert counts["moto_lock_tokens"] == 1, counts
    assert counts["pattern_checks_skipped"] == 0, counts
    assert counts["calls"] == {"wafv2:CreateIPSet": 1, "wafv2:UpdateIPSet": 1, "wafv2:CreateWebACL": 1,
                               "wafv2:GetWebACL": 1, "wafv2:UpdateWebACL": 1}, counts


class BadRequest:
    """A request AWS refuses and moto takes: what it needs made in moto
    first (`prepare`, on the direct client), then the call itself."""

    def __init__(self, prepare: Callable, send: Callable) -> None:
        self.prepare, self.send = prepare, send


def _acl_to_update(direct) -> dict:
    ip_set = direct.create_ip_set(Name=unique("v-set"), Scope="REGIONAL", IPAddressVersion="IPV4",
                                  Addresses=["192.0.2.0/24"])["Summary"]
    name = unique("v-acl")
    summary = direct.create_web_acl(Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}},
                                    VisibilityConfig=VISIBILITY)["Summary"]
    return {"name": name, "id": summary["Id"], "lock": summary["LockToken"], "ip_set": ip_set["ARN"]}


BAD_REQUESTS = {
    "header-name-with-a-space": BadRequest(_acl_to_update, lambda waf, acl: waf.update_web_acl(
        Name=acl["name"], Scope="REGIONAL", Id=acl["id"], LockToken=acl["lock"],
        DefaultAction={"Allow": {}}, VisibilityConfig=VISIBILITY, CustomResponseBodies=BODIES,
        Rules=[maintenance_rule(acl["ip_set"], [{"Name": "Retry After", "Value": "3600"}])])),
    "web-acl-name-with-a-slash": BadRequest(lambda direct: None, lambda waf, _: waf.create_web_acl(
        Name=f"shop/{unique('v')}", Scope="REGIONAL", DefaultAction={"Allow": {}},
        VisibilityConfig=VISIBILITY)),
    "description-of-300": BadRequest(lambda direct: None, lambda waf, _: waf.create_ip_set(
        Name=unique("v-desc"), Scope="REGIONAL", IPAddressVersion="IPV4",
        Addresses=["192.0.2.0/24"], Description="x" * 300)),
    "scope-globalx": BadRequest(lambda direct: None, lambda waf, _: waf.create_ip_set(
        Name=unique("v-scope"), Scope="GLOBALX", IPAddressVersion="IPV4", Addresses=["192.0.2.0/24"])),
    "no-addresses": BadRequest(lambda direct: None, lambda waf, _: waf.create_ip_set(
        Name=unique("v-none"), Scope="REGIONAL", IPAddressVersion="IPV4")),
}


@pytest.mark.parametrize("case, op, value, path, constraint", [
    ("header-name-with-a-space", "UpdateWebACL", "'Retry After'",
     "rules.1.member.action.block.customResponse.responseHeaders.1.member.name",
     "Member must satisfy regular expression pattern: ^[a-zA-Z0-9._$-]+$"),
    ("web-acl-name-with-a-slash", "CreateWebACL", "'shop/v-", "name",
     r"Member must satisfy regular expression pattern: ^[\w\-]+$"),
    ("description-of-300", "CreateIPSet", "'" + "x" * 40 + "...'", "description",
     "Member must have length less than or equal to 256"),
    ("scope-globalx", "CreateIPSet", "'GLOBALX'", "scope",
     "Member must satisfy enum value set: [CLOUDFRONT, REGIONAL]"),
    ("no-addresses", "CreateIPSet", "null", "addresses", "Member must not be null"),
])
def test_validation_refuses_what_aws_refuses(moto_endpoint, start_proxy, case, op, value, path, constraint):
    proxy = start_proxy("--delay-ms", "0", "--validate")
    # No client-side checks: the request goes on the wire as it is.
    waf = proxy.client("wafv2", parameter_validation=False)
    direct = seed.client("wafv2", moto_endpoint, REGION, parameter_validation=False)
    bad = BAD_REQUESTS[case]
    made = bad.prepare(direct)
    before = waf_state(direct)

    with pytest.raises(waf.exceptions.ClientError) as caught:
        bad.send(waf, made)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.1"
    assert response["Error"]["Code"] == "ValidationException"
    message = response["Error"]["Message"]
    assert message.startswith(f"1 validation error detected: Value {value}"), message
    assert message.endswith(f" at '{path}' failed to satisfy constraint: {constraint}"), message
    assert len(message) < 250, message  # the value shown is cut short

    assert waf_state(direct) == before  # moto never saw it
    counts = proxy.counts()
    assert counts["invalid"] == 1, counts
    assert counts["invalid_calls"] == [{"op": f"wafv2:{op}", "message": message}], counts
    assert counts["calls"] == {f"wafv2:{op}": 1}, counts


def test_without_validate_moto_takes_what_aws_refuses(moto_endpoint, start_proxy):
    """Why --validate exists: the same bad request, without it, is taken."""
    proxy = start_proxy("--delay-ms", "0")
    direct = seed.client("wafv2", moto_endpoint, REGION)
    before = waf_state(direct)
    BAD_REQUESTS["web-acl-name-with-a-slash"].send(proxy.client("wafv2", parameter_validation=False), None)
    after = waf_state(direct)
    assert [entry[2] for entry in after if entry not in before][0].startswith("shop/")
    assert proxy.counts()["invalid"] == 0


def test_validation_answers_every_error_and_keeps_the_last_fifty(start_proxy):
    proxy = start_proxy("--delay-ms", "0", "--validate")
    url = proxy.url

    # Several broken rules: all of them, in AWS's words.
    status, ctype, answer = raw_waf_call(url, "CreateIPSet", json.dumps({
        "Name": "a b", "Scope": "GLOBALX", "IPAddressVersion": "IPV4", "Addresses": ["192.0.2.0/24"],
    }).encode())
    assert (status, ctype, answer["__type"]) == (400, "application/x-amz-json-1.1", "ValidationException")
    assert answer["message"] == (
        "2 validation errors detected: "
        r"Value 'a b' at 'name' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: ^[\w\-]+$; "
        "Value 'GLOBALX' at 'scope' failed to satisfy constraint: "
        "Member must satisfy enum value set: [CLOUDFRONT, REGIONAL]")

    # A member the model lacks; an integer out of its range; deeper down, a
    # list too short.
    status, _, answer = raw_waf_call(url, "ListIPSets", b'{"Scope": "REGIONAL", "Limit": 0, "Bogus": 1}')
    assert status == 400 and answer["__type"] == "ValidationException", answer
    assert "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1" \
        in answer["message"]
    assert "at 'bogus' failed to satisfy constraint: Member must not be present" in answer["message"]
    status, _, answer = raw_waf_call(url, "CheckCapacity", json.dumps({"Scope": "REGIONAL", "Rules": [{
        "Name": "r", "Priority": -1, "Action": {"Block": {}}, "VisibilityConfig": VISIBILITY,
        "Statement": {"ByteMatchStatement": {
            "SearchString": base64.b64encode(b"/admin").decode(), "PositionalConstraint": "CONTAINS",
            "FieldToMatch": {"UriPath": {}}, "TextTransformations": []}}}]}).encode())
    assert status == 400, answer
    message = answer["message"]
    assert message.startswith("2 validation errors detected: "), message
    assert "Value '-1' at 'rules.1.member.priority' failed to satisfy constraint: " \
        "Member must have value greater than or equal to 0" in message
    assert "at 'rules.1.member.statement.byteMatchStatement.textTransformations' failed to satisfy " \
        "constraint: Member must have length greater than or equal to 1" in message

    # A wrong JSON type is not read at all: AWS answers SerializationException.
    status, _, answer = raw_waf_call(url, "ListIPSets", b'{"Scope": "REGIONAL", "Limit": "10"}')
    assert status == 400 and answer["__type"] == "SerializationException", answer
    assert "'limit'" in answer["message"]

    counts = proxy.counts()
    assert counts["invalid"] == 4 and len(counts["invalid_calls"]) == 4, counts
    assert counts["total"] == 4, counts

    for i in range(55):
        raw_waf_call(url, "CreateIPSet", json.dumps({
            "Name": f"bad/{i}", "Scope": "REGIONAL", "IPAddressVersion": "IPV4", "Addresses": []}).encode())
    counts = proxy.counts()
    assert counts["invalid"] == 59, counts
    kept = counts["invalid_calls"]
    assert len(kept) == 50 and kept[0]["op"] == "wafv2:CreateIPSet", kept[0]
    assert "'bad/5'" in kept[0]["message"] and "'bad/54'" in kept[-1]["message"], (kept[0], kept[-1])

    proxy.reset()
    counts = proxy.counts()
    assert counts["invalid"] == 0 and counts["invalid_calls"] == [], counts


@pytest.mark.parametrize("java, text, matches", [
    (r"^a.b$", "a\rb", False),  # Java's . stops at \r too
    (r"^ab$", "ab\n", True),  # $ before one final line terminator...
    (r"^ab$", "ab\n\n", False),  # ...not two
    (r"^\w+$", "é", False),  # Java's \w is ASCII
    (r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$", "Straße 1", True),
    (r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$", "maint!", False),
    (r"^\pL+$", "日本", True),
    (r"^[\P{N}]+$", "a1", False),
    (r"^\p{IsLu}\p{Lower}+$", "Abc", True),
    (r"^\QA.B\E$", "AxB", False),
    (r"^\QA.B\E$", "A.B", True),
    (r"^(?<x>a)\k<x>$", "aa", True),
    (r"^\x{e9}\0101$", "éA", True),
    (r"^[a|b]$", "|", True),
])
def test_java_patterns_mean_in_python_what_they_mean_in_java(java, text, matches):
    compiled = re.compile(latency_proxy.java_regex_to_python(java), re.ASCII)
    assert bool(compiled.search(text)) is matches


@pytest.mark.parametrize("java", [r"[a-z&&[^b]]", r"[[a]b]", r"\R", r"\p{IsGreek}", r"\X"])
def test_java_patterns_python_cannot_follow_are_refused(java):
    with pytest.raises(latency_proxy.Untranslatable):
        latency_proxy.java_regex_to_python(java)


def test_a_pattern_left_unchecked_is_listed_and_counted():
    from botocore.model import ServiceModel

    model = ServiceModel({
        "metadata": {"protocol": "json", "apiVersion": "2020-01-01", "jsonVersion": "1.1",
                     "targetPrefix": "Test", "serviceId": "Test", "endpointPrefix": "test",
                     "signatureVersion": "v4"},
        "operations": {"Put": {"name": "Put", "http": {"method": "POST", "requestUri": "/"},
                               "input": {"shape": "PutRequest"}}},
        "shapes": {
            "PutRequest": {"type": "structure", "required": ["Label"],
                           "members": {"Label": {"shape": "Label"}, "Odd": {"shape": "Odd"}}},
            "Label": {"type": "string", "pattern": "^[\\p{L} ]+$"},
            "Odd": {"type": "string", "pattern": "^[a-z&&[^b]]+$"},
        },
    })
    validator = latency_proxy.RequestValidator(model)
    assert list(validator.skipped) == ["^[a-z&&[^b]]+$"]
    verdict = validator.check("Put", json.dumps({"Label": "Grüße", "Odd": "abc"}).encode())
    assert verdict.error_type is None and verdict.patterns_skipped == 1, verdict
    verdict = validator.check("Put", json.dumps({"Label": "no!"}).encode())
    assert verdict.error_type == "ValidationException" and verdict.patterns_skipped == 0, verdict
    assert "at 'label' failed to satisfy constraint" in verdict.message


def test_blobs_are_measured_once_decoded_from_base64():
    from botocore.model import ServiceModel

    model = ServiceModel({
        "metadata": {"protocol": "json", "apiVersion": "2020-01-01", "jsonVersion": "1.1",
                     "targetPrefix": "Test", "serviceId": "Test", "endpointPrefix": "test",
                     "signatureVersion": "v4"},
        "operations": {"Put": {"name": "Put", "http": {"method": "POST", "requestUri": "/"},
                               "input": {"shape": "PutRequest"}}},
        "shapes": {"PutRequest": {"type": "structure", "members": {"Data": {"shape": "Data"}}},
                   "Data": {"type": "blob", "min": 1, "max": 4}},
    })
    validator = latency_proxy.RequestValidator(model)

    def check(data: str):
        return validator.check("Put", json.dumps({"Data": data}).encode())

    assert check(base64.b64encode(b"abcd").decode()).error_type is None  # 8 characters, 4 bytes
    too_long = check(base64.b64encode(b"abcde").decode())
    assert too_long.error_type == "ValidationException", too_long
    assert "Member must have length less than or equal to 4" in too_long.message
    assert check("not base64!").error_type == "SerializationException"


def test_validate_holds_custom_response_bodies_to_wafs_4_kb_quota(moto_endpoint, start_proxy):
    from botocore.exceptions import ClientError

    proxy = start_proxy("--delay-ms", "0", "--validate")
    waf = proxy.client("wafv2")
    name = unique("bodyquota")
    visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}

    def create(content: str):
        return waf.create_web_acl(
            Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig=visibility,
            CustomResponseBodies={"page": {"ContentType": "TEXT_PLAIN", "Content": content}},
        )

    with pytest.raises(ClientError) as refused:
        create("x" * 4097)
    assert refused.value.response["Error"]["Code"] == "WAFInvalidParameterException"
    assert "CUSTOM_RESPONSE_BODY" in refused.value.response["Error"]["Message"]
    counts = proxy.counts()
    assert counts["invalid"] == 1, counts
    create("x" * 4096)  # at the quota: accepted
    assert proxy.counts()["invalid"] == 1
