"""The maint package against moto's server: every Client method, the result
objects, every exception class, validation before any AWS call, the GIL
released while waiting, and use after fork."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import maint
from conftest import REGION, ROOT, ip_set_names, web_acl_names

import seed  # tests/moto/seed.py, put on sys.path by conftest

UTC = dt.timezone.utc
CHANGE_FIELDS = {
    "target", "service", "account", "load_balancer_arn", "resource_kind", "result", "changed", "dry_run",
    "changes", "details", "error",
}
STATUS_FIELDS = {
    "target", "service", "account", "load_balancer_arn", "resource_kind", "state", "window", "web_acl_arn",
    "web_acl_name",
    "allowlist_enabled", "allowlist", "reason", "since", "until", "response_status",
    "leftovers", "error", "injected", "armed_since", "bypass", "client_ip_from", "overdue",
    "revision", "scope", "sharing", "deployment",
}


def test_a_full_cycle_enters_reports_and_exits(client, make_lb):
    name, arn = make_lb()
    until = dt.datetime(2031, 5, 17, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    [entered] = client.enter(
        name,
        allow=["203.0.113.0/24", "203.0.113.7", "2001:db8:1::/48"],
        reason="Release 2.1",
        until=until,
        status=503,
        headers={"X-Maintenance": "release-2.1"},
    )
    assert isinstance(entered, maint.ChangeResult)
    assert entered.ok and entered.result == "ok" and entered.error is None
    assert entered.changed and not entered.dry_run
    assert entered.target == name and entered.service is None
    assert entered.load_balancer_arn == arn and entered.resource_kind == "load_balancer"
    assert any("associate" in c for c in entered.changes), entered.changes
    assert {"change": "associated"} in entered.details
    assert set(entered.to_dict()) == CHANGE_FIELDS
    assert json.loads(json.dumps(entered.to_dict()))["result"] == "ok"
    assert repr(entered).startswith(f"ChangeResult(target='{name}', result='ok', changed=True")

    [status] = client.status(name)
    assert isinstance(status, maint.TargetStatus)
    assert status.ok and status.state == "maintenance" and status.error is None
    assert status.load_balancer_arn == arn and status.web_acl_arn
    assert status.allowlist_enabled is True
    assert status.allowlist == ["203.0.113.0/24", "2001:db8:1::/48"]
    assert status.reason == "Release 2.1"
    assert status.response_status == 503
    assert status.until == until and status.until.tzinfo is not None
    assert status.until.utcoffset() == dt.timedelta(0)
    assert status.since is not None and status.since.tzinfo is not None
    assert abs(dt.datetime.now(UTC) - status.since) < dt.timedelta(minutes=5)
    assert status.leftovers == []
    d = status.to_dict()
    assert set(d) == STATUS_FIELDS
    # No scope given: every host and path, nothing open.
    assert d["scope"] is None
    # Alone on its load balancer: no other window shares it.
    assert d["sharing"] == [] and status.sharing == []
    assert status.hosts == [] and status.paths == [] and status.open_paths == []
    assert d["until"] == "2031-05-17T18:30:00Z" and d["state"] == "maintenance"
    assert "state='maintenance'" in repr(status) and "Release 2.1" in repr(status)

    [exited] = client.exit(name)
    assert exited.ok and exited.changed
    assert any("disassociate" in c for c in exited.changes)
    [status] = client.status(arn)
    assert status.state == "normal" and status.allowlist_enabled is None
    assert status.since is None and status.until is None
    [again] = client.exit(name)
    assert again.ok and not again.changed and again.changes == []


def test_enter_again_updates_in_place_and_dry_run_changes_nothing(client, make_lb, aws):
    name, _ = make_lb()
    [planned] = client.enter(name, reason="first", dry_run=True)
    assert planned.ok and planned.dry_run and planned.changed
    assert "dry_run=True" in repr(planned)
    assert client.status(name)[0].state == "normal"

    client.enter(name, reason="first")
    [updated] = client.enter(name, reason="second")
    assert updated.changed and updated.changes == ['reason set to "second"']
    [same] = client.enter(name, reason="second")
    assert not same.changed

    before = web_acl_names(aws)
    [planned_exit] = client.exit(name, dry_run=True)
    assert planned_exit.dry_run and planned_exit.changed
    assert web_acl_names(aws) == before
    assert client.status(name)[0].state == "maintenance"
    client.exit(name)


def test_every_allowlist_operation_changes_the_live_list(client, make_lb):
    name, _ = make_lb()
    client.enter(name, allow=maint.Allowlist(["198.51.100.0/24"]))

    [r] = client.allowlist_disable(name)
    assert r.ok and r.changes == ["allowlist disabled"]
    assert client.status(name)[0].allowlist_enabled is False
    [r] = client.allowlist_enable(name)
    assert r.changes == ["allowlist enabled"]
    assert client.status(name)[0].allowlist_enabled is True

    [r] = client.allowlist_add(name, ["192.0.2.0/25", "192.0.2.128/25"])
    assert r.changed and r.details[0]["change"] == "allowlist_added"
    assert client.status(name)[0].allowlist == ["192.0.2.0/24", "198.51.100.0/24"]
    [r] = client.allowlist_remove(name, "192.0.2.0/25")
    assert client.status(name)[0].allowlist == ["192.0.2.128/25", "198.51.100.0/24"]
    [r] = client.allowlist_set(name, maint.Allowlist(["2001:db8::/32"]), dry_run=True)
    assert r.dry_run and r.changed
    assert client.status(name)[0].allowlist == ["192.0.2.128/25", "198.51.100.0/24"]
    [r] = client.allowlist_set(name, ["2001:db8::/32"])
    assert client.status(name)[0].allowlist == ["2001:db8::/32"]
    client.exit(name)


def test_not_in_maintenance_is_a_conflict(client, make_lb):
    name, arn = make_lb()
    with pytest.raises(maint.NotInMaintenanceError) as caught:
        client.allowlist_enable(name)
    e = caught.value
    assert isinstance(e, maint.ConflictError) and isinstance(e, maint.MaintError)
    assert e.load_balancer_arn == arn and e.resource == arn
    assert e.kind == "not_in_maintenance"
    assert name in str(e) and "not in maintenance" in str(e)
    [result] = e.results
    assert not result.ok and isinstance(result.error, maint.NotInMaintenanceError)


def test_a_missing_target_stops_a_change_before_anything_changes(moto_endpoint, client, make_lb):
    good, _ = make_lb()
    missing = "py-does-not-exist"
    with pytest.raises(maint.TargetNotFoundError) as caught:
        client.enter(good, missing)
    e = caught.value
    assert isinstance(e, LookupError) and e.target == missing
    assert e.kind == "target_not_found" and missing in str(e)
    assert "nothing was changed" in str(e) and e.results is None
    [status] = client.status(good)
    assert status.state == "normal", "the target that exists was not entered either"

    lenient = maint.Client(region=REGION, endpoint_url=moto_endpoint, raise_on_error=False)
    statuses = lenient.status(missing, good)
    assert [s.state for s in statuses] == ["error", "normal"]
    assert isinstance(statuses[0].error, maint.TargetNotFoundError)
    assert statuses[0].to_dict()["error"]["kind"] == "target_not_found"
    assert "TargetNotFoundError" in repr(statuses[0])
    with pytest.raises(maint.TargetNotFoundError):
        lenient.exit(good, missing)


def test_a_network_load_balancer_is_refused(client, make_lb):
    name, _ = make_lb(kind="network")
    with pytest.raises(maint.InvalidInputError) as caught:
        client.enter(name)
    assert "network" in str(caught.value)
    assert caught.value.results is None, "refused before any change"


def test_a_foreign_web_acl_is_never_replaced(moto_endpoint, client, make_lb, aws):
    name, arn = make_lb()
    waf = aws["wafv2"]
    acl = {"Name": f"team-acl-{name}"}
    acl["ARN"] = seed.create_web_acl(moto_endpoint, acl["Name"], associate=arn)

    with pytest.raises(maint.ForeignWebAclError) as caught:
        client.enter(name)
    e = caught.value
    assert e.web_acl_arn == acl["ARN"] and e.web_acl_name == acl["Name"]
    assert e.load_balancer_arn == arn and e.kind == "foreign_web_acl"
    assert acl["Name"] in str(e)
    [status] = client.status(name)
    assert status.state == "foreign" and status.web_acl_arn == acl["ARN"]
    assert status.web_acl_name == acl["Name"]
    assert waf.get_web_acl_for_resource(ResourceArn=arn)["WebACL"]["ARN"] == acl["ARN"]


def test_an_aws_error_carries_its_code_and_request_id(make_lb, make_proxy):
    name, _ = make_lb()
    proxy = make_proxy(fail_target="AWSWAF")
    client = maint.Client(region=REGION, endpoint_url=proxy.url)
    with pytest.raises(maint.AwsError) as caught:
        client.enter(name)
    e = caught.value
    assert e.code == "AccessDeniedException" and e.request_id == "injected-request-id"
    assert e.operation and e.kind == "aws"
    assert "injected by the test" in str(e) and "AccessDeniedException" in str(e)
    assert e.results[0].to_dict()["error"]["code"] == "AccessDeniedException"
    with pytest.raises(maint.AwsError) as caught:
        client.cleanup(dry_run=True)
    assert caught.value.code == "AccessDeniedException" and caught.value.results == []


def test_cleanup_finds_and_deletes_leftovers(moto_endpoint, client, make_lb, aws):
    _, arn = make_lb()
    name = f"maint-leftover-{arn[-8:]}"
    seed.create_web_acl(
        moto_endpoint,
        name,
        tags={"maint:managed-by": "maint", "maint:load-balancer": arn},
    )
    planned = client.cleanup(dry_run=True)
    mine = [l for l in planned if l.name == name]
    assert len(mine) == 1 and isinstance(mine[0], maint.Leftover)
    assert mine[0].kind == "web-acl" and mine[0].arn.startswith("arn:aws:wafv2:")
    assert mine[0].region == REGION
    assert mine[0].to_dict() == {
        "region": REGION, "kind": "web-acl", "name": name, "arn": mine[0].arn, "account": None,
    }
    assert repr(mine[0]).startswith(f"Leftover(region='{REGION}', kind='web-acl'")
    assert name in web_acl_names(aws)
    deleted = client.cleanup()
    assert name in {l.name for l in deleted}
    assert name not in web_acl_names(aws)


def test_a_config_service_expands_in_order_with_its_settings(moto_endpoint, make_lb, tmp_path):
    a, _ = make_lb(prefix="shop-a")
    b, _ = make_lb(prefix="shop-b")
    (tmp_path / "page.json").write_text('{"message": "back soon"}')
    (tmp_path / "maint.toml").write_text(
        f'region = "{REGION}"\n'
        "[allowlists]\n"
        'office = ["203.0.113.0/24"]\n'
        "[services.shop]\n"
        f'load_balancers = ["{b}", "{a}"]\n'
        'allowlists = ["office"]\n'
        'page = "page.json"\n'
        "status = 502\n"
    )
    client = maint.Client(endpoint_url=moto_endpoint, config=tmp_path / "maint.toml")
    assert client.services == ["shop"] and client.config == str(tmp_path / "maint.toml")
    results = client.enter("shop", allow=["198.51.100.1"])
    assert [r.target for r in results] == [f"shop/{b}", f"shop/{a}"]
    assert all(r.service == "shop" for r in results)
    statuses = client.status("shop")
    assert [s.target for s in statuses] == [f"shop/{b}", f"shop/{a}"]
    for s in statuses:
        assert s.allowlist == ["198.51.100.1/32", "203.0.113.0/24"]
        assert s.response_status == 502
    # No targets: every service of the config file.
    assert [r.target for r in client.exit()] == [f"shop/{b}", f"shop/{a}"]


def test_two_services_on_one_load_balancer_enter_and_exit_on_their_own(
    moto_endpoint, make_lb, tmp_path
):
    edge, _ = make_lb(prefix="edge")
    (tmp_path / "maint.toml").write_text(
        f'region = "{REGION}"\n'
        "[services.blog]\n"
        f'load_balancers = ["{edge}"]\n'
        'hosts = ["blog.example.com"]\n'
        "[services.docs]\n"
        f'load_balancers = ["{edge}"]\n'
        'hosts = ["docs.example.com"]\n'
    )
    client = maint.Client(endpoint_url=moto_endpoint, config=tmp_path / "maint.toml")
    # One command, both services: they run one after the other, the second
    # adding its part to the first's web ACL.
    blog, docs = client.enter("blog", "docs", allow=["198.51.100.1"])
    assert blog.ok and docs.ok, (blog, docs)
    assert [c["change"] for c in docs.details] == ["rule_injected"], docs.details
    by_target = {s.target: s for s in client.status("blog", "docs")}
    blog_status, docs_status = by_target[f"blog/{edge}"], by_target[f"docs/{edge}"]
    assert blog_status.state == docs_status.state == "maintenance"
    assert blog_status.sharing == [{
        "window": "maint-svc-docs", "in_maintenance": True,
        "hosts": ["docs.example.com"], "paths": [], "open_paths": [],
    }]
    assert [w["window"] for w in docs_status.sharing] == ["maint-svc-blog"]
    assert docs_status.to_dict()["sharing"][0]["scope"] == {"hosts": ["blog.example.com"]}

    # blog leaves; docs stays in maintenance; blog is normal beside it.
    [left] = client.exit("blog")
    assert left.ok, left
    by_target = {s.target: s for s in client.status("blog", "docs")}
    assert by_target[f"blog/{edge}"].state == "normal"
    assert [w["window"] for w in by_target[f"blog/{edge}"].sharing] == ["maint-svc-docs"]
    assert by_target[f"docs/{edge}"].state == "maintenance"
    [left] = client.exit("docs")
    assert left.ok and "deleted_web_acl" in [c["change"] for c in left.details], left.details
    assert all(s.state == "normal" for s in client.status("blog", "docs"))


def test_a_scope_is_entered_and_read_back_and_a_repeated_enter_keeps_what_it_is_not_given(
    client, make_lb,
):
    name, _ = make_lb()
    [entered] = client.enter(
        name,
        hosts=["Shop.Example.com", "*.shop.example.com"],
        paths=["/checkout/", "/api//orders"],
        open_paths=["/checkout/healthz"],
    )
    assert entered.ok and entered.changed, entered
    [status] = client.status(name)
    assert status.state == "maintenance"
    # As stored: lower case, normalized.
    assert status.hosts == ["shop.example.com", "*.shop.example.com"]
    assert status.paths == ["/checkout/", "/api/orders"]
    assert status.open_paths == ["/checkout/healthz"]
    assert status.to_dict()["scope"] == {
        "hosts": ["shop.example.com", "*.shop.example.com"],
        "paths": ["/checkout/", "/api/orders"],
        "open_paths": ["/checkout/healthz"],
    }
    assert "scope='hosts shop.example.com, *.shop.example.com; paths" in repr(status), repr(status)

    # Again with the open paths only: the hosts and paths stay.
    [again] = client.enter(name, open_paths=["/healthz", "/webhooks/stripe"])
    assert again.ok and again.changed, again
    assert any(c["change"] == "scope_changed" for c in again.details), again.details
    [status] = client.status(name)
    assert status.hosts == ["shop.example.com", "*.shop.example.com"]
    assert status.paths == ["/checkout/", "/api/orders"]
    assert status.open_paths == ["/healthz", "/webhooks/stripe"]
    # arm takes the same keywords (a dry run here: the window is entered).
    [armed] = client.arm(name, hosts=["api.example.com"], dry_run=True)
    assert armed.dry_run, armed
    client.exit(name)
    [status] = client.status(name)
    assert status.state == "normal" and status.hosts == [] and status.to_dict()["scope"] is None


def test_check_lets_through_a_host_outside_the_scope_and_an_open_path(client, make_lb):
    # Needs the WAF backend's scope rules (maint-core/src/backend/waf/acl):
    # `check` evaluates the live web ACL, not maint's record.
    name, _ = make_lb()
    client.enter(name, hosts=["shop.example.com"], paths=["/checkout"], open_paths=["/checkout/healthz"])
    stranger = "198.51.100.7"

    [inside] = client.check(name, ip=stranger, host="SHOP.example.com", path="/checkout/pay")
    assert inside.verdict == "maintenance", inside.to_dict()

    [other_host] = client.check(name, ip=stranger, host="api.example.com", path="/checkout/pay")
    assert other_host.verdict == "let_through", other_host.to_dict()
    assert other_host.why[0]["reason"] == "out_of_scope", other_host.why

    [no_host] = client.check(name, ip=stranger, path="/checkout/pay")
    assert no_host.verdict == "let_through", no_host.to_dict()

    [other_path] = client.check(name, ip=stranger, host="shop.example.com", path="/account")
    assert other_path.verdict == "let_through", other_path.to_dict()
    assert other_path.why[0]["reason"] == "out_of_scope", other_path.why

    [open_path] = client.check(name, ip=stranger, url="https://shop.example.com/checkout/healthz?x=1")
    assert open_path.verdict == "let_through", open_path.to_dict()
    assert open_path.why[0] == {"reason": "open_path", "path": "/checkout/healthz"}, open_path.why

    # Not open once normalized: /checkout/healthz/../pay is /checkout/pay.
    [sneaky] = client.check(name, ip=stranger, host="shop.example.com",
                            path="/checkout/healthz/../pay")
    assert sneaky.verdict == "maintenance", sneaky.to_dict()
    client.exit(name)


def test_bad_input_raises_before_any_aws_call(make_lb, aws, make_proxy, tmp_path):
    name, _ = make_lb()
    proxy = make_proxy()
    client = maint.Client(region=REGION, endpoint_url=proxy.url)
    acls, ip_sets = web_acl_names(aws), ip_set_names(aws)
    naive = dt.datetime(2031, 1, 1, 12, 0)
    bad_page = tmp_path / "page.bin"
    bad_page.write_text("hi")
    bad_json = tmp_path / "page.json"
    bad_json.write_text("{not json")

    def check(call, *, entry=None, line=None, needle=None):
        with pytest.raises(maint.InvalidInputError) as caught:
            call()
        e = caught.value
        assert isinstance(e, ValueError) and isinstance(e, maint.MaintError)
        assert e.kind == "invalid_input" and e.results is None
        assert e.problems, e
        if entry is not None:
            assert e.entry == entry
        if line is not None:
            assert e.line == line
        if needle is not None:
            assert needle in str(e), str(e)
        return e

    check(lambda: client.enter(name, allow=["10.0.0.5/24"]), entry="10.0.0.5/24",
          needle="did you mean 10.0.0.0/24")
    check(lambda: client.enter(name, allow=["0.0.0.0/0"]), needle="/0")
    check(lambda: client.enter(name, until=naive), needle="naive")
    check(lambda: client.enter(name, reason=""), needle="reason")
    check(lambda: client.enter(name, reason="x" * 201), needle="200")
    check(lambda: client.enter(name, status=418), needle="418")
    check(lambda: client.enter(name, status=70000), needle="70000")
    check(lambda: client.enter(name, headers={"Content-Type": "text/html"}), needle="Content-Type")
    check(lambda: client.enter(name, headers={f"X-H{i}": "v" for i in range(20)}),
          needle="headers")
    check(lambda: client.enter(name, page=tmp_path / "missing.html"), needle="missing.html")
    check(lambda: client.enter(name, page=bad_page), needle="extension")
    check(lambda: client.enter(name, page=str(bad_json)), needle="not valid JSON")
    check(lambda: client.enter(name, "not a name!"), needle="not a name!")
    check(lambda: client.enter(), needle="targets")
    check(lambda: client.exit("bad/name"))
    check(lambda: client.allowlist_add(name, ["10.0.0.1", "nope"]), entry="nope")
    check(lambda: client.allowlist_set(name, ["::/0"]))
    check(lambda: client.allowlist_remove(name, "10.1.2.3/8"), entry="10.1.2.3/8")
    check(lambda: client.status("under_score"))
    # arm takes enter's keyword arguments, checked alike; disarm only targets.
    check(lambda: client.arm(name, allow=["10.0.0.5/24"]), entry="10.0.0.5/24",
          needle="did you mean 10.0.0.0/24")
    check(lambda: client.arm(name, until=naive), needle="naive")
    check(lambda: client.arm(name, status=418), needle="418")
    check(lambda: client.arm(name, page=tmp_path / "missing.html"), needle="missing.html")
    check(lambda: client.arm(), needle="targets")
    # A scope: each entry checked, the keyword and the entry named.
    check(lambda: client.enter(name, hosts=["https://x"]), needle='hosts entry "https://x"')
    check(lambda: client.enter(name, paths=["nope"]), needle='paths entry "nope"')
    check(lambda: client.arm(name, open_paths=["/a?b"]), needle='open_paths entry "/a?b"')
    check(lambda: client.enter(name, hosts=[f"s{i}.example.com" for i in range(11)]),
          needle="at most 10 hosts")
    check(lambda: client.check(name, ip="192.0.2.1", host="https://x/"), needle="host")
    check(lambda: client.check(name, ip="192.0.2.1", url="shop.example.com/x"), needle="URL")
    check(lambda: client.check(name, ip="192.0.2.1", url="https://a/", path="/x"), needle="url")
    check(lambda: client.check(name, ip="192.0.2.1", url="https://a/", host="a"), needle="url")
    with pytest.raises(TypeError):
        client.enter(name, hosts="shop.example.com")  # a str is not a list of hosts
    check(lambda: client.disarm("bad/name"))
    with pytest.raises(TypeError):
        client.arm(name, inject=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        client.disarm(name, allow=["192.0.2.1"])  # type: ignore[call-arg]

    config = tmp_path / "maint.toml"
    config.write_text('[services.shop]\nload_balancers = ["x"]\nallowlists = ["nope"]\n')
    e = check(lambda: maint.Client(config=config), line=3)
    assert e.file == str(config)
    check(lambda: maint.Client(config=tmp_path / "absent.toml"))
    config.write_text('[services.shop]\nload_balancers = ["x"]\nexisting_web_acl = "maybe"\n')
    e = check(lambda: maint.Client(config=config), line=3, needle="services.shop.existing_web_acl")
    assert e.file == str(config)

    assert proxy.exchanges == [], "an AWS call was made"
    assert web_acl_names(aws) == acls and ip_set_names(aws) == ip_sets
    status = client.status(name)[0]
    assert status.state == "normal"
    assert status.injected is False and status.armed_since is None
    assert {"injected", "armed_since", "web_acl_name"} <= status.to_dict().keys()
    assert proxy.exchanges, "the proxy records calls"


def test_allowlists_validate_fold_and_read_files(tmp_path):
    a = maint.Allowlist(["10.0.0.0/24", "10.0.1.0/24", "10.0.0.7", "2001:DB8::1"])
    assert a.ipv4 == ["10.0.0.0/23"] and a.ipv6 == ["2001:db8::1/128"]
    assert list(a) == ["10.0.0.0/23", "2001:db8::1/128"] and len(a) == 2
    assert "10.0.1.255" in a and "10.0.2.0" not in a and "2001:db8::1" in a
    assert ipaddress.ip_address("10.0.0.9") in a
    assert "::ffff:10.0.0.1" in a  # IPv4-mapped: checked as IPv4
    assert a.to_dict() == {"ipv4": ["10.0.0.0/23"], "ipv6": ["2001:db8::1/128"]}
    assert repr(a) == "Allowlist(['10.0.0.0/23', '2001:db8::1/128'])"
    assert a == maint.Allowlist(["10.0.0.0/23", "2001:db8::1"]) and hash(a) == hash(
        maint.Allowlist(["2001:db8::1", "10.0.0.0/23"])
    )
    assert len(maint.Allowlist()) == 0 and not maint.Allowlist([])
    with pytest.raises(maint.InvalidInputError):
        "not an address" in a  # noqa: B015
    with pytest.raises(TypeError):
        3 in a  # noqa: B015

    path = tmp_path / "office.txt"
    path.write_text("# office\n203.0.113.0/24  # HQ\n\n10.0.0.5/24\n2001:db8::/32\n")
    with pytest.raises(maint.InvalidInputError) as caught:
        maint.Allowlist.from_file(path)
    e = caught.value
    assert (e.entry, e.line, e.file) == ("10.0.0.5/24", 4, str(path))
    assert f"{path}:4: 10.0.0.5/24" in str(e)
    path.write_text("203.0.113.0/24  # HQ\n2001:db8::/32\n")
    assert list(maint.Allowlist.from_file(str(path))) == ["203.0.113.0/24", "2001:db8::/32"]
    with pytest.raises(maint.InvalidInputError, match="absent"):
        maint.Allowlist.from_file(tmp_path / "absent.txt")


def test_every_exception_is_a_maint_error_with_a_fitting_builtin():
    assert issubclass(maint.InvalidInputError, maint.MaintError)
    assert issubclass(maint.InvalidInputError, ValueError)
    assert issubclass(maint.TargetNotFoundError, LookupError)
    assert issubclass(maint.NotInMaintenanceError, maint.ConflictError)
    assert issubclass(maint.TimeoutError, TimeoutError)
    for cls in (maint.ForeignWebAclError, maint.ConflictError, maint.AwsError, maint.TimeoutError):
        assert issubclass(cls, maint.MaintError)
    assert issubclass(maint.MaintError, Exception)
    # Made anywhere, an exception has its attributes (None until set).
    e = maint.AwsError("x")
    assert (e.code, e.request_id, e.operation, e.results) == (None, None, None, None)
    assert maint.InvalidInputError("x").entry is None
    assert maint.MaintError.__module__ == "maint"


def test_two_threads_run_at_once(make_lb, make_proxy):
    """The GIL is released while a call waits on AWS: two threads acting on
    different targets have requests in flight at the same time. Each call's
    requests are sequential, so overlapping in-flight intervals of the two
    targets can only come from the two calls running concurrently."""
    (a, _), (b, _) = make_lb(prefix="thread-a"), make_lb(prefix="thread-b")
    proxy = make_proxy(delay=0.05)
    client = maint.Client(region=REGION, endpoint_url=proxy.url)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(target: str) -> None:
        try:
            barrier.wait()
            client.enter(target, reason="threads")
            client.exit(target)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors

    def spans(name: str) -> list[tuple[float, float]]:
        return [(x.start, x.end) for x in proxy.exchanges if name in x.body]

    spans_a, spans_b = spans(a), spans(b)
    assert spans_a and spans_b
    overlaps = [
        (sa, sb) for sa in spans_a for sb in spans_b if sa[0] < sb[1] and sb[0] < sa[1]
    ]
    assert overlaps, "no request of one thread was in flight while the other's was"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_can_use_the_client(client, make_lb):
    name, _ = make_lb()
    assert client.status(name)[0].state == "normal"  # the parent's runtime exists
    pid = os.fork()
    if pid == 0:  # the child: a new runtime and new connections
        code = 1
        try:
            import signal

            signal.alarm(60)
            [r] = client.enter(name, reason="from the child")
            code = 0 if r.ok and client.status(name)[0].reason == "from the child" else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    [s] = client.status(name)  # the parent still works
    assert s.state == "maintenance" and s.reason == "from the child"
    client.exit(name)


def test_the_release_job_example_runs_end_to_end(moto_endpoint, make_lb):
    name, _ = make_lb(prefix="release")
    env = dict(os.environ, AWS_ENDPOINT_URL=moto_endpoint, RELEASE_QA_FAILS_ONCE="1")
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "release_job.py"), name],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"{name}: maintenance on" in out and "QA found a problem" in out
    assert "deploying (attempt 2)" in out and f"{name}: maintenance off" in out
    assert out.strip().endswith("release done")
    client = maint.Client(region=REGION, endpoint_url=moto_endpoint)
    assert client.status(name)[0].state == "normal"

    missing = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "release_job.py"), "py-no-such-lb"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert missing.returncode == 1 and "py-no-such-lb" in missing.stderr
    usage = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "release_job.py")],
        env={k: v for k, v in env.items() if k != "RELEASE_TARGET"},
        capture_output=True, text=True, timeout=60,
    )
    assert usage.returncode == 2


def test_a_failed_wait_still_tells_the_webhooks_and_a_repeated_enter_keeps_its_settings(
    moto_endpoint, make_lb, tmp_path
):
    """Issue 19, items 4 and 15: as the CLI does, the webhooks hear of a
    change whose wait then failed; and `arm` with a reason and an end, then
    a bare `enter`, keeps both."""
    import http.server

    posts: list[dict] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            posts.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def do_GET(self):  # noqa: N802 - the "site": never maint's page
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"the site")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        name, _ = make_lb()
        (tmp_path / "maint.toml").write_text(
            f'region = "{REGION}"\n[notify]\nwebhooks = ["{base}/hook"]\n'
            f'[services.shop]\nload_balancers = ["{name}"]\nurl = "{base}/"\n'
        )
        client = maint.Client(endpoint_url=moto_endpoint, config=tmp_path / "maint.toml")
        until = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(hours=1)
        client.arm("shop", reason="release 2.4", until=until, headers={"X-Maintenance": "yes"})
        assert len(posts) == 1
        with pytest.raises(TimeoutError):
            client.enter("shop", wait=True, wait_timeout=1.5)
        assert len(posts) == 2, posts
        assert posts[1]["command"] == "enter"
        [status] = client.status("shop")
        assert status.state == "maintenance"
        assert status.reason == "release 2.4"
        assert status.until == until
        client.exit("shop")
        client.disarm("shop")
    finally:
        server.shutdown()
