"""Switching without associating, with the real `maint` CLI through the
project's AWS-like proxy (tests/moto/latency_proxy.py --quotas: AWS WAF's
call-rate quotas with ThrottlingException above them, 100 ms per call, and
ListResourcesForWebACL and CheckCapacity answered as AWS does):

- a service of 3 ALBs sharing a production-like security web ACL goes into
  maintenance through that ACL (`existing_web_acl = "inject"`) and out again,
  and the ACL ends as it was plus what another team changed meanwhile;
- an armed service of 5 ALBs enters and exits with one write each.
"""

from __future__ import annotations

from pathlib import Path

from conftest import REGION
from test_latency_proxy import start_proxy, unique  # noqa: F401 (a fixture)
from test_quota_model import maint_cli, refill

import seed

WRITES = ("Create", "Update", "Delete", "Associate", "Disassociate", "Put", "Tag", "Untag")


def writes(counts: dict) -> dict:
    """The WAF write calls among the proxy's counts, by operation."""
    return {
        op: n
        for op, n in counts["calls"].items()
        if op.startswith("wafv2:") and op.split(":", 1)[1].startswith(WRITES)
    }


def shape(acl: dict) -> dict:
    """What must come back exactly: rules by name, bodies, default action,
    description, visibility."""
    return {
        "rules": {r["Name"]: r for r in acl["Rules"]},
        "bodies": acl.get("CustomResponseBodies", {}),
        "default": acl["DefaultAction"],
        "description": acl.get("Description"),
        "visibility": acl["VisibilityConfig"],
    }


def maint_sets(waf, prefix: str) -> list[str]:
    sets = waf.list_ip_sets(Scope="REGIONAL", Limit=100)["IPSets"]
    return [s["Name"] for s in sets if s["Name"].startswith(prefix)]


def test_a_shared_security_acl_is_injected_and_restored_through_the_quota_model(
    moto_endpoint, start_proxy, tmp_path: Path
):
    proxy = start_proxy(
        "--delay-ms", "100", "--quotas", "--answer-list-resources", "--answer-check-capacity"
    )
    names = [unique("inject") for _ in range(3)]
    arns = seed.create_load_balancers(moto_endpoint, names, region=REGION)
    security = seed.create_security_web_acl(moto_endpoint, unique("security"), associate=arns)
    waf = seed.client("wafv2", moto_endpoint, REGION)

    def acl() -> dict:
        return waf.get_web_acl(Name=security["name"], Scope="REGIONAL", Id=security["id"])

    original = shape(acl()["WebACL"])
    service = unique("shop")
    quoted = ", ".join(f'"{n}"' for n in names)
    config = tmp_path / "maint.toml"
    config.write_text(f"[services.{service}]\nload_balancers = [{quoted}]\n")

    # Without consent: refused, nothing changed, nothing made.
    code, refused = maint_cli(proxy.url, tmp_path, "enter", service, "--allow", "203.0.113.0/24")
    assert code != 0 and refused["summary"]["failed"] == 3, refused
    assert shape(acl()["WebACL"]) == original
    assert not maint_sets(waf, f"maint-svc-{service}")

    # With consent (the service's config): one write of the shared ACL.
    config.write_text(
        f'[services.{service}]\nload_balancers = [{quoted}]\nexisting_web_acl = "inject"\n'
    )
    refill()
    proxy.reset()
    code, entered = maint_cli(proxy.url, tmp_path, "enter", service, "--allow", "203.0.113.0/24")
    assert code == 0, entered
    assert entered["summary"] == {"targets": 3, "changed": 3, "unchanged": 0, "failed": 0}
    counts = proxy.counts()
    assert writes(counts).get("wafv2:UpdateWebACL") == 1, counts
    assert "wafv2:AssociateWebACL" not in counts["calls"], counts
    assert counts["throttled"] == 0, counts
    during = acl()["WebACL"]
    first = min(during["Rules"], key=lambda r: r["Priority"])
    # maint holds priorities 0-2 (client address, bypass link, maintenance);
    # without a bypass or a header address, only the maintenance rule is there.
    assert (first["Name"], first["Priority"]) == ("maint-maintenance", 2)
    shield = next(r for r in during["Rules"] if r["Name"] == security["shield_rule_name"])
    assert shield["Priority"] == 10_000_000

    refill()
    code, status = maint_cli(proxy.url, tmp_path, "status", service)
    assert code == 0, status
    for target in status["targets"]:
        assert target["state"] == "maintenance", target
        assert target["injected"] is True and target["web_acl_name"] == security["name"], target

    # An allowlist edit, then another team changes one of its own rules.
    refill()
    code, added = maint_cli(proxy.url, tmp_path, "allowlist", "add", service, "198.51.100.7")
    assert code == 0, added
    current = acl()
    theirs = current["WebACL"]
    rules = [dict(r) for r in theirs["Rules"]]
    for r in rules:
        if r["Name"] == "rate-limit-per-ip":
            r["Statement"]["RateBasedStatement"]["Limit"] = 1000
    waf.update_web_acl(
        Name=security["name"], Scope="REGIONAL", Id=security["id"],
        LockToken=current["LockToken"], DefaultAction=theirs["DefaultAction"],
        Description=theirs["Description"], Rules=rules,
        CustomResponseBodies=theirs["CustomResponseBodies"],
        VisibilityConfig=theirs["VisibilityConfig"],
    )

    refill()
    proxy.reset()
    code, left = maint_cli(proxy.url, tmp_path, "exit", service)
    assert code == 0, left
    assert left["summary"]["failed"] == 0 and left["summary"]["changed"] == 3, left
    assert proxy.counts()["throttled"] == 0, proxy.counts()
    expected = dict(original)
    expected["rules"] = dict(original["rules"])
    rate = expected["rules"]["rate-limit-per-ip"]
    expected["rules"]["rate-limit-per-ip"] = {
        **rate,
        "Statement": {
            "RateBasedStatement": {**rate["Statement"]["RateBasedStatement"], "Limit": 1000}
        },
    }
    assert shape(acl()["WebACL"]) == expected, "as it was, plus the other team's edit"
    assert not maint_sets(waf, f"maint-svc-{service}"), "maint's IP sets are gone"
    for arn in arns:
        assert waf.get_web_acl_for_resource(ResourceArn=arn)["WebACL"]["Name"] == security["name"]


def test_an_armed_service_of_five_switches_with_one_write_each_way(
    moto_endpoint, start_proxy, tmp_path: Path
):
    proxy = start_proxy("--delay-ms", "100", "--quotas", "--answer-list-resources")
    names = [unique("armed") for _ in range(5)]
    arns = seed.create_load_balancers(moto_endpoint, names, region=REGION)
    service = unique("fleet")
    quoted = ", ".join(f'"{n}"' for n in names)
    (tmp_path / "maint.toml").write_text(f"[services.{service}]\nload_balancers = [{quoted}]\n")
    waf = seed.client("wafv2", moto_endpoint, REGION)

    code, armed = maint_cli(proxy.url, tmp_path, "arm", service, "--allow", "192.0.2.0/24")
    assert code == 0, armed
    assert armed["summary"]["changed"] == 5, armed
    refill()
    code, status = maint_cli(proxy.url, tmp_path, "status", service)
    assert {t["state"] for t in status["targets"]} == {"armed"}, status
    assert all(t["armed_since"] for t in status["targets"]), status

    for command, state in (("enter", "maintenance"), ("exit", "armed")):
        refill()
        proxy.reset()
        code, switched = maint_cli(proxy.url, tmp_path, command, service)
        assert code == 0, switched
        assert switched["summary"]["changed"] == 5, switched
        counts = proxy.counts()
        assert writes(counts) == {"wafv2:UpdateWebACL": 1}, counts
        assert counts["throttled"] == 0, counts
        refill()
        code, status = maint_cli(proxy.url, tmp_path, "status", service)
        assert {t["state"] for t in status["targets"]} == {state}, status

    refill()
    code, disarmed = maint_cli(proxy.url, tmp_path, "disarm", service)
    assert code == 0, disarmed
    for arn in arns:
        assert "WebACL" not in waf.get_web_acl_for_resource(ResourceArn=arn)
    assert not maint_sets(waf, f"maint-svc-{service}"), "nothing leaked"
