"""tests/moto/latency_proxy.py, the proxy scripts/bench measures through: it
counts every API call by operation, lets calls run concurrently while each
waits its delay, caps WAF writes per second, and stops cleanly.

Needs moto (the `moto_endpoint` fixture) and boto3, not the built `maint`
extension. Timing checks are one-sided and generous (the machine may be a
loaded 2-core box): concurrency is "much faster than serial", the write cap a
lower bound; never a tight upper bound.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import REGION, ROOT

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
