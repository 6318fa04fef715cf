"""A service of five ALBs switched by the real `maint` CLI through the quota
model (tests/moto/latency_proxy.py --quotas: AWS WAF's call-rate quotas, with
ThrottlingException above them, and 100 ms per call): every target switched,
next to no call throttled, nothing leaked. maint paces itself to the quotas
here (MAINT_WAF_QUOTA_PERCENT unset: 100%).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from conftest import REGION
from test_front_ends_agree import cli_binary
from test_latency_proxy import start_proxy, unique  # noqa: F401 (a fixture)

import seed


def refill() -> None:
    """Waits until AWS's quotas are full again (one association every 2 s):
    maint paces the calls of one process; a command started right after
    another is throttled at first, as any second caller would be (and waits
    it out)."""
    time.sleep(2.2)


def maint_cli(proxy_url: str, cwd: Path, *args: str) -> tuple[int, dict]:
    env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "PATH", "HOME"))}
    env.update(AWS_ENDPOINT_URL=proxy_url, AWS_REGION=REGION, NO_COLOR="1")
    done = subprocess.run(
        [str(cli_binary()), "--json", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_a_five_alb_service_switches_through_the_quota_model(moto_endpoint, start_proxy, tmp_path):
    proxy = start_proxy("--delay-ms", "100", "--quotas", "--answer-list-resources")
    names = [unique("quota") for _ in range(5)]
    arns = seed.create_load_balancers(moto_endpoint, names, region=REGION)
    quoted = ", ".join(f'"{n}"' for n in names)
    (tmp_path / "maint.toml").write_text(f"[services.fleet]\nload_balancers = [{quoted}]\n")
    waf = seed.client("wafv2", moto_endpoint, REGION)

    code, entered = maint_cli(proxy.url, tmp_path, "enter", "fleet", "--allow", "192.0.2.0/24")
    assert code == 0, entered
    assert entered["summary"] == {"targets": 5, "changed": 5, "unchanged": 0, "failed": 0}
    for arn in arns:
        acl = waf.get_web_acl_for_resource(ResourceArn=arn)["WebACL"]
        assert acl["Name"] == "maint-svc-fleet", "one web ACL for the whole service"

    throttled = proxy.counts()
    assert throttled["throttled"] <= 0.05 * throttled["total"], throttled

    refill()
    code, status = maint_cli(proxy.url, tmp_path, "status", "fleet")
    assert code == 0 and {t["state"] for t in status["targets"]} == {"maintenance"}, status

    refill()
    proxy.reset()
    code, left = maint_cli(proxy.url, tmp_path, "exit", "fleet")
    assert code == 0, left
    assert left["summary"]["failed"] == 0 and left["summary"]["changed"] == 5, left
    for arn in arns:
        assert "WebACL" not in waf.get_web_acl_for_resource(ResourceArn=arn)
    acls = waf.list_web_acls(Scope="REGIONAL", Limit=100)["WebACLs"]
    sets = waf.list_ip_sets(Scope="REGIONAL", Limit=100)["IPSets"]
    assert not [a for a in acls if a["Name"] == "maint-svc-fleet"], "nothing leaked"
    assert not [s for s in sets if s["Name"].startswith("maint-svc-fleet")], "nothing leaked"

    counts = proxy.counts()
    assert counts["throttled"] <= 0.05 * counts["total"], counts
