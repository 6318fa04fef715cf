"""maint's updates of a web ACL it injects into, and of its IP sets, as AWS
checks them: the real `maint` CLI through the project's validating proxy
(tests/moto/latency_proxy.py --validate: every WAF request checked against
botocore's wafv2 input shapes, and an update that leaves out a member clears
it, as on AWS). AWS refuses an empty optional member (a description of
length 0, a map of no custom response bodies) where it takes an absent one,
and an update resets every member it does not send back: so absent stays
absent, present comes back exactly as it was.

- a web ACL with only the required members (as most IaC tools make them:
  no description, no custom response bodies...);
- a web ACL with every optional member moto keeps.

Each has one rule of its own: moto cannot empty a web ACL's rule list (an
UpdateWebACL with no rules keeps the old ones), so the ACL must have a rule
left when maint's goes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REGION
from test_latency_proxy import start_proxy, unique  # noqa: F401 (a fixture)
from test_quota_model import maint_cli

import seed

# The optional members of a web ACL that an UpdateWebACL must send back.
OPTIONAL = (
    "Description",
    "CustomResponseBodies",
    "TokenDomains",
    "CaptchaConfig",
    "ChallengeConfig",
    "AssociationConfig",
    "DataProtectionConfig",
)

EVERY_OPTIONAL_MEMBER = {
    "Description": "Security ACL of the shop team, managed by Terraform",
    "CustomResponseBodies": {
        "blocked": {"ContentType": "TEXT_PLAIN", "Content": "Blocked by the shop team"},
    },
    "TokenDomains": ["shop.example.com", "api.shop.example.com"],
    "CaptchaConfig": {"ImmunityTimeProperty": {"ImmunityTime": 600}},
    "ChallengeConfig": {"ImmunityTimeProperty": {"ImmunityTime": 900}},
    "AssociationConfig": {"RequestBody": {"API_GATEWAY": {"DefaultSizeInspectionLimit": "KB_32"}}},
}


def their_rule(metric: str) -> dict:
    """A rule of the service's own: a rate limit per client address."""
    return {
        "Name": "rate-limit-per-ip",
        "Priority": 10,
        "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}},
        "Action": {"Block": {}},
        "VisibilityConfig": {
            "SampledRequestsEnabled": False,
            "CloudWatchMetricsEnabled": False,
            "MetricName": metric,
        },
    }


def optional_members(acl: dict) -> dict:
    """The optional members the web ACL holds. moto holds "none" as "", {}
    or [] (a description it was made without, or a member an update cleared
    through the proxy), AWS by leaving the member out: both are absent."""
    return {k: acl[k] for k in OPTIONAL if acl.get(k) not in (None, "", {}, [])}


@pytest.mark.parametrize("members", [{}, EVERY_OPTIONAL_MEMBER], ids=["required-only", "every-optional"])
def test_inject_and_exit_send_back_every_optional_member_as_read(
    moto_endpoint, start_proxy, tmp_path: Path, members: dict
):
    proxy = start_proxy(
        "--delay-ms", "0", "--validate", "--answer-list-resources", "--answer-check-capacity"
    )
    name = unique("optional")
    [lb] = seed.create_load_balancers(moto_endpoint, [name], region=REGION)
    waf = seed.client("wafv2", moto_endpoint, REGION)
    acl_name = unique("theirs")
    summary = waf.create_web_acl(
        Name=acl_name,
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        Rules=[their_rule(acl_name)],
        VisibilityConfig={
            "SampledRequestsEnabled": False,
            "CloudWatchMetricsEnabled": False,
            "MetricName": acl_name,
        },
        **members,
    )["Summary"]
    waf.associate_web_acl(WebACLArn=summary["ARN"], ResourceArn=lb)

    def acl() -> dict:
        return waf.get_web_acl(Name=acl_name, Scope="REGIONAL", Id=summary["Id"])["WebACL"]

    before = acl()
    assert optional_members(before) == members, "the ACL as made"

    code, entered = maint_cli(
        proxy.url, tmp_path, "enter", name, "--inject", "--allow", "203.0.113.0/24"
    )
    assert code == 0, (entered, proxy.counts()["invalid_calls"])
    during = acl()
    assert {r["Name"] for r in during["Rules"]} >= {"maint-maintenance"}, during["Rules"]
    theirs = {k: v for k, v in optional_members(during).items() if k != "CustomResponseBodies"}
    assert theirs == {k: v for k, v in members.items() if k != "CustomResponseBodies"}
    bodies = during.get("CustomResponseBodies", {})
    assert {k: v for k, v in bodies.items() if not k.startswith("maint-")} == members.get(
        "CustomResponseBodies", {}
    ), "their bodies kept beside maint's"

    # An allowlist edit writes maint's IP set: its description comes back
    # as it was made.
    [ip_set] = [
        s for s in waf.list_ip_sets(Scope="REGIONAL", Limit=100)["IPSets"]
        if s["Name"].startswith(f"maint-{name}")
    ]

    def set_description() -> str | None:
        got = waf.get_ip_set(Name=ip_set["Name"], Scope="REGIONAL", Id=ip_set["Id"])["IPSet"]
        return got.get("Description")

    made = set_description()
    code, added = maint_cli(proxy.url, tmp_path, "allowlist", "add", name, "198.51.100.7")
    assert code == 0, (added, proxy.counts()["invalid_calls"])
    assert set_description() == made

    code, left = maint_cli(proxy.url, tmp_path, "exit", name)
    assert code == 0, (left, proxy.counts()["invalid_calls"])
    counts = proxy.counts()
    assert counts["invalid"] == 0, counts["invalid_calls"]
    assert counts["calls"].get("wafv2:UpdateWebACL", 0) >= 2, counts["calls"]
    assert counts["calls"].get("wafv2:UpdateIPSet", 0) >= 1, counts["calls"]

    after = acl()
    assert optional_members(after) == optional_members(before), "absent stays absent"
    assert after["Rules"] == before["Rules"]
    assert after["DefaultAction"] == before["DefaultAction"]
    assert after["VisibilityConfig"] == before["VisibilityConfig"]
    assert waf.get_web_acl_for_resource(ResourceArn=lb)["WebACL"]["Name"] == acl_name


def test_the_proxy_clears_what_an_update_leaves_out_as_aws_does():
    import json

    import latency_proxy

    def forwarded(op: str, params: dict) -> dict:
        return json.loads(latency_proxy.with_aws_update_semantics(op, json.dumps(params).encode()))

    sent = {"Name": "a", "Description": "kept", "TokenDomains": ["x.example.com"]}
    assert forwarded("UpdateWebACL", sent) == {**sent, "CustomResponseBodies": {}}
    assert forwarded("UpdateWebACL", {"Name": "a"}) == {
        "Name": "a", "Description": "", "CustomResponseBodies": {}, "TokenDomains": [],
    }
    assert forwarded("UpdateIPSet", {"Name": "a"}) == {"Name": "a", "Description": ""}
    assert forwarded("CreateWebACL", {"Name": "a"}) == {"Name": "a"}, "only updates replace"
