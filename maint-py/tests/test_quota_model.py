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


def test_an_organisation_switches_with_each_account_and_region_paced_on_its_own(
    moto_endpoint, start_proxy, tmp_path
):
    """Issue 23: two accounts (roles assumed through the proxy, which ties
    their access keys to the role's account) x two Regions x three ALBs, in
    one `enter` and one `exit`: the quota model counts each account and
    Region on its own (`by_place`), none of them sees more than 5% of its
    WAF calls throttled, and the accounts' windows go side by side: the
    whole switch takes about one account-Region's associations (2 s each),
    not four times them."""
    proxy = start_proxy("--delay-ms", "100", "--quotas", "--answer-list-resources")
    accounts = {"a": "710000000000", "b": "720000000000"}
    regions = ["us-east-1", "eu-west-1"]
    names = {k: [unique(f"org{k}") for _ in range(3)] for k in accounts}
    config = ""
    for key, account_id in accounts.items():
        seed.in_account(account_id)
        try:
            for region in regions:
                seed.create_load_balancers(moto_endpoint, names[key], region=region)
        finally:
            seed.in_account(None)
        quoted = ", ".join(f'"{n}"' for n in names[key])
        config += (
            f'[accounts.{key}]\nrole_arn = "arn:aws:iam::{account_id}:role/maint"\n'
            f'regions = ["us-east-1", "eu-west-1"]\n'
            f'[services.org-{key}]\naccount = "{key}"\nload_balancers = [{quoted}]\n'
        )
    (tmp_path / "maint.toml").write_text(config)

    started = time.monotonic()
    code, entered = maint_cli(proxy.url, tmp_path, "enter", "org-a", "org-b", "--allow", "192.0.2.0/24")
    took = time.monotonic() - started
    assert code == 0, entered
    assert entered["summary"] == {"targets": 12, "changed": 12, "unchanged": 0, "failed": 0}
    assert {r["account"] for r in entered["results"]} == {"a", "b"}
    counts = proxy.counts()
    places = counts["by_place"]
    assert sorted(places) == sorted(f"{a}/{r}" for a in accounts.values() for r in regions), places
    for place, seen in places.items():
        assert seen["calls"] > 0, (place, seen)
        assert seen["throttled"] <= 0.05 * seen["calls"], (place, seen)
    # 3 associations per account-Region: 4 s of quota there; all four
    # account-Regions at once. One after another they would need 16 s.
    assert took < 12, f"{took:.1f} s: the account-Regions did not go side by side ({counts})"

    refill()
    proxy.reset()
    code, left = maint_cli(proxy.url, tmp_path, "exit", "org-a", "org-b")
    assert code == 0 and left["summary"]["changed"] == 12, left
    for place, seen in proxy.counts()["by_place"].items():
        assert seen["throttled"] <= 0.05 * seen["calls"], (place, seen)
