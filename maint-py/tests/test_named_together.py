"""Issue 19, items 3 and 4, with the real `maint` CLI through the project's
AWS-like proxy (tests/moto/latency_proxy.py: AWS WAF's call-rate quotas,
every request checked against AWS's input shapes, ListResourcesForWebACL and
CheckCapacity answered as AWS does):

- three ALBs sharing a security team's web ACL, named together on the
  command line with `--inject` (no config file), are one window named after
  that ACL; `status` of one finds it, `exit` of one is refused saying why,
  `exit` of all three restores the ACL exactly;
- `arm` with a reason, an end and a header, then a bare `enter`: nothing but
  the switch changes.
"""

from __future__ import annotations

from pathlib import Path

from conftest import REGION
from test_latency_proxy import start_proxy, unique  # noqa: F401 (a fixture)
from test_quota_model import maint_cli
from test_reaching_testers import no_invalid_requests
from test_switch_without_associating import maint_sets, shape

import seed


def test_albs_named_together_under_one_security_acl_are_one_window(
    moto_endpoint, start_proxy, tmp_path: Path
):
    proxy = start_proxy(
        "--delay-ms", "0", "--quotas", "--validate",
        "--answer-list-resources", "--answer-check-capacity",
    )
    names = [unique("together") for _ in range(3)]
    arns = seed.create_load_balancers(moto_endpoint, names, region=REGION)
    security = seed.create_security_web_acl(moto_endpoint, unique("security"), associate=arns)
    waf = seed.client("wafv2", moto_endpoint, REGION)
    before = shape(waf.get_web_acl(Name=security["name"], Id=security["id"], Scope="REGIONAL")["WebACL"])

    code, entered = maint_cli(
        proxy.url, tmp_path, "enter", *names, "--inject", "--allow", "203.0.113.0/24",
        "--reason", "release 2.4",
    )
    assert code == 0, entered
    assert entered["summary"]["failed"] == 0, entered
    window = f"maint-acl-{security['name']}"
    code, status = maint_cli(proxy.url, tmp_path, "status", names[1])
    [target] = status["targets"]
    assert (target["state"], target["window"], target["reason"]) == (
        "maintenance", window, "release 2.4",
    ), target

    code, partial = maint_cli(proxy.url, tmp_path, "exit", names[0])
    assert code == 1, partial
    assert "name all its load balancers together" in partial["results"][0]["error"]["message"]
    # Refused: the security team's web ACL still guards it.
    assert waf.get_web_acl_for_resource(ResourceArn=arns[0])["WebACL"]["Name"] == security["name"]
    code, left = maint_cli(proxy.url, tmp_path, "exit", *names)
    assert code == 0, left
    after = waf.get_web_acl(Name=security["name"], Id=security["id"], Scope="REGIONAL")["WebACL"]
    assert shape(after) == before
    assert maint_sets(waf, window) == []
    no_invalid_requests(proxy)


def test_a_bare_enter_after_arm_keeps_the_reason_the_end_and_the_headers(
    moto_endpoint, start_proxy, tmp_path: Path
):
    proxy = start_proxy("--delay-ms", "0", "--validate")
    name = unique("kept")
    seed.create_load_balancers(moto_endpoint, [name], region=REGION)
    code, armed = maint_cli(
        proxy.url, tmp_path, "arm", name, "--reason", "release 2.4", "--for", "1h",
        "--header", "X-Maintenance: yes",
    )
    assert code == 0, armed
    code, entered = maint_cli(proxy.url, tmp_path, "enter", name)
    assert code == 0, entered
    [result] = entered["results"]
    assert result["details"] == [{"change": "switched_on"}], result
    code, status = maint_cli(proxy.url, tmp_path, "status", name)
    [target] = status["targets"]
    assert target["reason"] == "release 2.4" and target["until"], target
    code, left = maint_cli(proxy.url, tmp_path, "exit", name)
    assert code == 0, left
    code, disarmed = maint_cli(proxy.url, tmp_path, "disarm", name)
    assert code == 0, disarmed
    no_invalid_requests(proxy)
