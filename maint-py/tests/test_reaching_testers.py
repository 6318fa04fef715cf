"""Reaching the right people during a window, with the real `maint` CLI (and
the Python client) through the project's AWS-like proxy with AWS's request
rules enforced (tests/moto/latency_proxy.py --validate: every WAF request is
checked against the WAFv2 API model, as AWS checks it, before moto sees it):

- a bypass: `maint check` says a stranger gets the 503 without it and gets
  through with the bypass header or cookie; the bypass link answers a 302
  to / that sets the cookie; rotating shuts out the old secret; `allowlist
  disable` shuts the bypass unless told to keep it; the secret never shows
  in `status` or in the logs, only in `bypass link`;
- a service behind CloudFront (`client_ip` from X-Forwarded-For, last
  position): the allowlisted viewer address gets through, a spoofed first
  entry and a request without the header do not.

Every request maint sent must pass the proxy's model validation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REGION
from test_front_ends_agree import cli
from test_latency_proxy import start_proxy, unique  # noqa: F401 (a fixture)

import seed

STRANGER = "198.51.100.7"
TESTER = "203.0.113.9"


def check(proxy_url: str, cwd: Path, target: str, *args: str) -> tuple[int, dict]:
    code, out, err = cli(proxy_url, cwd, "check", target, *args)
    assert out is not None, err
    [answer] = out["targets"]
    assert answer["error"] is None, answer
    return code, answer


def no_invalid_requests(proxy) -> None:
    counts = proxy.counts()
    assert counts["invalid"] == 0, counts["invalid_calls"]
    assert counts["settings"]["validate"] is True


def test_the_bypass_lets_testers_in_until_rotated_or_shut(moto_endpoint, start_proxy, tmp_path):
    proxy = start_proxy("--delay-ms", "0", "--validate")
    name = unique("bypass")
    seed.create_load_balancers(moto_endpoint, [name], region=REGION)

    code, entered, err = cli(
        proxy.url, tmp_path, "-vv", "enter", name, "--allow", "203.0.113.0/24", "--bypass",
        "--for", "2h",
    )
    assert code == 0, (entered, err)
    changes = [d["change"] for d in entered["results"][0]["details"]]
    assert changes == ["created_web_acl", "associated"], changes

    code, status, _ = cli(proxy.url, tmp_path, "status", name)
    [target] = status["targets"]
    assert target["bypass"] == "enabled" and target["client_ip_from"] == "the connection", target

    code, links, _ = cli(
        proxy.url, tmp_path, "bypass", "link", name, "--base-url", "https://shop.example.com/"
    )
    assert code == 0, links
    [link] = links["targets"]
    secret = link["secret"]
    assert link["link"] == f"https://shop.example.com/maint-bypass/{secret}"
    assert len(secret) >= 22
    # The secret is in no other output: not in status, not in -vv logs.
    assert secret not in str(status) and secret not in str(entered) and secret not in err

    code, answer = check(proxy.url, tmp_path, name, "--ip", STRANGER)
    assert (code, answer["verdict"]) == (3, "maintenance"), answer
    assert answer["response"]["status"] == 503
    assert any(w["reason"] == "not_allowlisted" for w in answer["why"]), answer
    code, answer = check(proxy.url, tmp_path, name, "--ip", TESTER)
    assert (code, answer["verdict"]) == (0, "let_through"), answer
    assert answer["why"][0] == {
        "reason": "allowlist_entry", "entry": "203.0.113.0/24", "address": TESTER,
        "from": "the connection",
    }
    code, answer = check(
        proxy.url, tmp_path, name, "--ip", STRANGER, "--header", f"x-maint-bypass: {secret}"
    )
    assert (code, answer["verdict"]) == (0, "let_through"), answer
    assert [w["reason"] for w in answer["why"]] == ["bypass_header"]
    cookie = f"Cookie: theme=dark; maint_bypass={secret}"
    code, answer = check(proxy.url, tmp_path, name, "--ip", STRANGER, "--header", cookie)
    assert (code, answer["verdict"]) == (0, "let_through"), answer
    assert [w["reason"] for w in answer["why"]] == ["bypass_cookie"]

    # The link: WAF answers a redirect that sets the cookie.
    code, answer = check(
        proxy.url, tmp_path, name, "--ip", STRANGER, "--path", f"/maint-bypass/{secret}"
    )
    assert (code, answer["verdict"]) == (0, "bypass_link"), answer
    response = answer["response"]
    headers = dict(response["headers"])
    assert response["status"] == 302 and headers["Location"] == "/", response
    set_cookie = headers["Set-Cookie"]
    assert set_cookie.startswith(f"maint_bypass={secret}; Path=/; Expires="), set_cookie
    assert set_cookie.endswith(" GMT; Secure; HttpOnly; SameSite=Lax"), set_cookie

    # Rotating: the old secret stops working, the new one works.
    code, rotated, err = cli(proxy.url, tmp_path, "enter", name, "--rotate-bypass")
    assert code == 0, (rotated, err)
    assert "bypass_rotated" in [d["change"] for d in rotated["results"][0]["details"]]
    code, answer = check(proxy.url, tmp_path, name, "--ip", STRANGER, "--header", cookie)
    assert (code, answer["verdict"]) == (3, "maintenance"), answer
    code, answer = check(
        proxy.url, tmp_path, name, "--ip", STRANGER, "--path", f"/maint-bypass/{secret}"
    )
    assert (code, answer["verdict"]) == (3, "maintenance"), answer
    code, links, _ = cli(proxy.url, tmp_path, "bypass", "link", name)
    new = links["targets"][0]["secret"]
    assert new != secret and links["targets"][0]["link"] == f"/maint-bypass/{new}"
    bypass = f"x-maint-bypass: {new}"
    code, answer = check(proxy.url, tmp_path, name, "--ip", STRANGER, "--header", bypass)
    assert code == 0, answer

    # Testing found a problem: disable shuts the bypass too...
    code, out, err = cli(proxy.url, tmp_path, "allowlist", "disable", name)
    assert code == 0, (out, err)
    code, answer = check(proxy.url, tmp_path, name, "--ip", STRANGER, "--header", bypass)
    assert (code, answer["verdict"]) == (3, "maintenance"), answer
    assert {"reason": "bypass_disabled"} in answer["why"], answer
    # ...unless told to keep it.
    cli(proxy.url, tmp_path, "allowlist", "enable", name)
    code, out, err = cli(proxy.url, tmp_path, "allowlist", "disable", name, "--keep-bypass")
    assert code == 0, (out, err)
    code, answer = check(proxy.url, tmp_path, name, "--ip", STRANGER, "--header", bypass)
    assert code == 0, answer
    code, answer = check(proxy.url, tmp_path, name, "--ip", TESTER)
    assert code == 3 and {"reason": "allowlist_disabled"} in answer["why"], answer

    code, out, err = cli(proxy.url, tmp_path, "exit", name)
    assert code == 0, (out, err)
    code, answer = check(proxy.url, tmp_path, name, "--ip", STRANGER, "--header", bypass)
    assert (code, answer["why"]) == (0, [{"reason": "not_in_maintenance"}]), answer
    no_invalid_requests(proxy)


def test_behind_cloudfront_the_viewer_address_counts_and_a_spoof_does_not(
    moto_endpoint, start_proxy, tmp_path
):
    proxy = start_proxy("--delay-ms", "0", "--validate")
    names = [unique("xff"), unique("xff")]
    seed.create_load_balancers(moto_endpoint, names, region=REGION)
    service = unique("shop")
    quoted = ", ".join(f'"{n}"' for n in names)
    (tmp_path / "maint.toml").write_text(
        f"[allowlists]\noffice = [\"203.0.113.0/24\"]\n\n"
        f"[services.{service}]\nload_balancers = [{quoted}]\nallowlists = [\"office\"]\n"
        f"url = \"https://shop.example.com\"\nbypass = true\n"
        f'client_ip = {{ header = "X-Forwarded-For", position = "last" }}\n'
    )
    code, entered, err = cli(proxy.url, tmp_path, "enter", service)
    assert code == 0, (entered, err)
    code, status, _ = cli(proxy.url, tmp_path, "status", service)
    for target in status["targets"]:
        assert target["client_ip_from"] == "header X-Forwarded-For (last address)", target
        assert target["bypass"] == "enabled", target

    edge = "10.0.0.1"  # the address CloudFront connects from
    viewer = f"X-Forwarded-For: {STRANGER}, {TESTER}"  # CloudFront appended the tester
    spoof = f"X-Forwarded-For: {TESTER}, {STRANGER}"  # the client claims the first entry
    code, out, _ = cli(proxy.url, tmp_path, "check", service, "--ip", edge, "--header", viewer)
    assert code == 0 and {t["verdict"] for t in out["targets"]} == {"let_through"}, out
    assert out["targets"][0]["why"][0]["from"] == "header X-Forwarded-For", out
    code, out, _ = cli(proxy.url, tmp_path, "check", service, "--ip", edge, "--header", spoof)
    assert code == 3 and {t["verdict"] for t in out["targets"]} == {"maintenance"}, out
    # Without the header WAF does not apply the labelling rule: no way in,
    # even from an allowlisted connection.
    code, out, _ = cli(proxy.url, tmp_path, "check", service, "--ip", TESTER)
    assert code == 3, out
    assert out["targets"][0]["why"][0] == {
        "reason": "no_client_address", "header": "X-Forwarded-For", "fallback": "not let through",
    }, out

    # The link printed with the service's url.
    code, links, _ = cli(proxy.url, tmp_path, "bypass", "link", service)
    assert links["targets"][0]["link"].startswith("https://shop.example.com/maint-bypass/")

    code, out, err = cli(proxy.url, tmp_path, "exit", service)
    assert code == 0, (out, err)
    no_invalid_requests(proxy)


def test_the_python_client_checks_and_keeps_the_secret_out_of_reports(
    moto_endpoint, start_proxy, tmp_path
):
    import maint

    proxy = start_proxy("--delay-ms", "0", "--validate")
    name = unique("pyby")
    seed.create_load_balancers(moto_endpoint, [name], region=REGION)
    client = maint.Client(region=REGION, endpoint_url=proxy.url)
    secret = "python-tester-secret-0123456789"
    with pytest.raises(maint.InvalidInputError):
        client.enter(name, bypass=True, bypass_secret=secret)
    with pytest.raises(maint.InvalidInputError):
        client.enter(name, bypass_secret="short")
    with pytest.raises(maint.InvalidInputError):
        client.enter(name, client_ip={"header": "X Forwarded", "position": "last"})
    [entered] = client.enter(name, allow=["203.0.113.0/24"], bypass_secret=secret)
    assert entered.ok and secret not in repr(entered.to_dict())
    [status] = client.status(name)
    assert status.bypass == "enabled" and secret not in repr(status.to_dict())
    assert client.bypass_link(name, base_url="https://x.example") == (
        f"https://x.example/maint-bypass/{secret}"
    )

    [blocked] = client.check(name, ip=STRANGER)
    assert blocked.verdict == "maintenance" and blocked.response is not None
    assert blocked.response.status == 503 and blocked.response.content_type == "text/html"
    assert "maintenance" in (blocked.response.body or "").lower()
    [through] = client.check(name, ip=STRANGER, headers=[f"Cookie: maint_bypass={secret}"])
    assert through.verdict == "let_through" and through.response is None
    assert through.why == [{"reason": "bypass_cookie"}]

    client.allowlist_disable(name, keep_bypass=True)
    [kept] = client.check(name, ip=STRANGER, headers=[f"x-maint-bypass: {secret}"])
    assert kept.verdict == "let_through"
    [off] = client.enter(name, bypass=False)
    assert "bypass_off" in [d["change"] for d in off.details]
    [shut] = client.check(name, ip=STRANGER, headers=[f"x-maint-bypass: {secret}"])
    assert shut.verdict == "maintenance"
    with pytest.raises(maint.ConflictError):
        client.bypass_link(name)
    client.exit(name)
    no_invalid_requests(proxy)


def test_a_window_of_sixty_load_balancers_keeps_within_wafs_body_quota(
    moto_endpoint, start_proxy, tmp_path
):
    """maint's record of a window names every member; for 60 ALBs that is
    more than one custom response body may hold (4 KB, AWS WAF's quota,
    which the proxy enforces): the record is written compact, in pieces."""
    proxy = start_proxy("--delay-ms", "0", "--validate")
    names = [f"{unique('sixty')}-{i:02d}" for i in range(60)]
    seed.create_load_balancers(moto_endpoint, names, region=REGION)
    service = unique("fleet")
    quoted = ", ".join(f'"{n}"' for n in names)
    (tmp_path / "maint.toml").write_text(
        f"[services.{service}]\nload_balancers = [{quoted}]\nbypass = true\n"
    )
    code, entered, err = cli(proxy.url, tmp_path, "enter", service, "--allow", "203.0.113.0/24")
    assert code == 0, (proxy.counts()["invalid_calls"], err)
    assert entered["summary"]["changed"] == 60
    waf = seed.client("wafv2", moto_endpoint, REGION)
    acl = waf.get_web_acl_for_resource(
        ResourceArn=entered["results"][0]["load_balancer_arn"]
    )["WebACL"]
    bodies = acl["CustomResponseBodies"]
    # Written the old way (every member's whole ARN) the record would be
    # over 6 KB; compact, it fits (a hundred long names go on in
    # maint-state-2: the unit tests of acl.rs).
    assert all(len(b["Content"].encode()) <= 4096 for b in bodies.values()), sorted(bodies)
    assert "member_prefix" in bodies["maint-state"]["Content"]
    code, status, _ = cli(proxy.url, tmp_path, "status", service)
    assert {t["state"] for t in status["targets"]} == {"maintenance"}, status
    code, out, err = cli(proxy.url, tmp_path, "exit", service)
    assert code == 0, (out, err)
    no_invalid_requests(proxy)


def test_wait_needs_a_url_and_exit_expired_finds_nothing_overdue(moto_endpoint, make_lb):
    import maint

    name, _ = make_lb()
    client = maint.Client(region=REGION, endpoint_url=moto_endpoint)
    # No URL to probe: bad input before any change, worded in Python's
    # keyword arguments (not the CLI's flags).
    with pytest.raises(maint.InvalidInputError, match="give wait_url,") as caught:
        client.enter(name, wait=True)
    assert "--wait" not in str(caught.value)
    with pytest.raises(maint.InvalidInputError, match="wait_timeout"):
        client.enter(name, wait_url="https://shop.example.com", wait_timeout=0)
    [status] = client.status(name)
    assert status.state == "normal"
    [entered] = client.enter(name, allow=["192.0.2.0/24"])
    assert entered.ok
    [status] = client.status(name)
    assert status.overdue is False and status.to_dict()["revision"]
    # Not overdue (no planned end): nothing to end, among the named or all.
    assert client.exit_expired(name) == []
    assert all(r.target != name for r in client.exit_expired(dry_run=True))
    client.exit(name)


def test_a_spoofable_client_address_is_a_user_warning(moto_endpoint, make_lb):
    """The core's warnings reach Python as they reach the CLI's stderr."""
    import maint

    name, _ = make_lb()
    client = maint.Client(region=REGION, endpoint_url=moto_endpoint)
    with pytest.warns(UserWarning) as warned:
        [result] = client.enter(
            name, dry_run=True, client_ip={"header": "X-Forwarded-For", "position": "first"}
        )
    assert result.ok
    messages = [str(w.message) for w in warned]
    assert any("the first address of X-Forwarded-For" in m for m in messages), messages
    assert any("the allowlist now trusts X-Forwarded-For" in m for m in messages), messages
