"""What a person sees, in a real browser: headless Chromium (Debian's
`chromium`, driven through Playwright's sync API) against a stand-in for the
ALB's edge (edge_standin.py) that answers each request as maint's live WAF
rules on moto say (`client.check`):

- the maintenance page on a phone and on a desktop: a 503 with the page's
  text visible and nothing wider than the screen (screenshots are saved);
- the bypass link: a tester who is not on the allowlist opens it, follows
  the redirect into the app and keeps a cookie (HttpOnly, SameSite=Lax,
  Secure, expiring by the window's end) that lets later visits through,
  while a browser without it gets the maintenance page;
- a rotated secret: the old cookie and link stop working, the new link works;
- a load balancer shared by two sites: a window scoped to
  `shop.example.com` shows the page there, while `api.example.com` on the
  same load balancer serves the app (Chromium resolves both names to the
  stand-in).

Like the moto tests, these fail, never skip, when Chromium or Playwright is
missing (./scripts/test installs both: scripts/lib/venv.sh's
ensure_browser). Playwright only drives the system's Chromium
(`executable_path`); it never downloads a browser.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from edge_standin import EdgeStandin

if TYPE_CHECKING:
    import maint
    from playwright.sync_api import Browser, BrowserContext, Page

UTC = dt.timezone.utc
CHROMIUM = Path(os.environ.get("MAINT_CHROMIUM", "/usr/bin/chromium"))
# Headless on a machine with no GPU and no way out: without the background
# networking flags Chromium keeps trying to reach Google's services.
# Playwright starts each browser with a new empty profile of its own.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

OFFICE = "203.0.113.0/24"  # the allowlist
IN_THE_OFFICE = "203.0.113.9"
TESTER = "198.51.100.7"  # a tester at home: not on the allowlist

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/148.0.0.0 Mobile Safari/537.36"
    ),
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1366, "height": 768}}

HEADING = "We'll be back soon"
APP_HEADING = "Shop is open"
LINK_PATH = re.compile(r"^/maint-bypass/([A-Za-z0-9_-]{22,64})$")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run ./scripts/test "
            "(scripts/lib/venv.sh's ensure_browser installs Debian's chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        pytest.fail(f"playwright is not installed ({e}): run ./scripts/test (it installs it into .venv)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def make_edge(client: maint.Client) -> Iterator[Callable[[str, str], EdgeStandin]]:
    """Starts edge stand-ins in front of a target: each request is decided by
    `client.check(target, ...)` as if it came from the edge's `client_ip`.
    Fails the test when a check raised."""
    edges: list[EdgeStandin] = []

    def make(target: str, client_ip: str) -> EdgeStandin:
        def decide(ip: str, headers: Any, path: str) -> Any:
            # One CheckResult per load balancer of the target: here one.
            [result] = client.check(target, ip=ip, headers=list(headers), path=path)
            if result.error is not None:
                raise result.error
            return result

        edge = EdgeStandin(decide, client_ip=client_ip)
        edges.append(edge)
        return edge

    yield make
    errors = [e for edge in edges for e in edge.errors]
    for edge in edges:
        edge.close()
    if errors:
        pytest.fail("client.check failed behind the edge:\n" + "\n".join(errors), pytrace=False)


def new_page(browser: Browser, device: dict[str, Any]) -> tuple[BrowserContext, Page]:
    context = browser.new_context(**device)
    context.set_default_timeout(20_000)
    return context, context.new_page()


def layout(page: Page) -> dict[str, Any]:
    """The viewport's width, the document's, and every element that reaches
    outside the viewport sideways."""
    return page.evaluate(
        """() => {
            const w = window.innerWidth;
            const outside = [...document.querySelectorAll('body, body *')]
                .filter(e => { const r = e.getBoundingClientRect();
                               return r.left < -0.5 || r.right > w + 0.5; })
                .map(e => e.outerHTML.slice(0, 80));
            return {innerWidth: w, innerHeight: window.innerHeight,
                    scrollWidth: document.documentElement.scrollWidth, outside};
        }"""
    )


def bypass_cookie(context: BrowserContext, url: str) -> dict[str, Any]:
    cookies = [c for c in context.cookies(url) if c["name"] == "maint_bypass"]
    assert len(cookies) == 1, context.cookies(url)
    return dict(cookies[0])


def assert_maintenance_page(page: Page, response: Any) -> None:
    assert response is not None and response.status == 503, response and response.status
    assert page.locator("h1").inner_text() == HEADING
    assert page.get_by_text("This service is undergoing scheduled maintenance.").is_visible()
    assert page.locator("h1").is_visible()


def assert_app(page: Page, response: Any) -> None:
    assert response is not None and response.status == 200, response and response.status
    assert page.locator("h1").inner_text() == APP_HEADING


def test_the_maintenance_page_on_a_phone_and_a_desktop(
    browser, client, make_lb, make_edge, tmp_path, capsys
):
    name, _ = make_lb(prefix="browser")
    until = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    [entered] = client.enter(name, allow=[OFFICE], reason="release", until=until)
    assert entered.ok, entered.error
    edge = make_edge(name, TESTER)
    shots = []
    for device_name, device in (("phone", PHONE), ("desktop", DESKTOP)):
        context, page = new_page(browser, device)
        response = page.goto(edge.url + "/")
        assert_maintenance_page(page, response)
        assert response is not None
        # AWS WAF's TEXT_HTML (the page declares its own charset).
        content_type = response.header_value("content-type") or ""
        assert content_type.split(";")[0].strip() == "text/html", content_type
        assert response.header_value("cache-control") == "no-store"
        assert response.header_value("retry-after"), response.all_headers()
        assert page.get_by_text("Expected back by").is_visible()
        assert page.title() == "Scheduled maintenance"

        box = layout(page)
        width = device["viewport"]["width"]
        # The page's viewport meta is honoured: a phone lays it out at its
        # own width, not at a 980 px desktop width scaled down.
        assert box["innerWidth"] == width, (device_name, box)
        assert box["scrollWidth"] <= box["innerWidth"], (device_name, box)
        assert box["outside"] == [], (device_name, box)
        # The heading and the text are on the first screen, unscrolled.
        for locator in (page.locator("h1"), page.get_by_text("Expected back by")):
            b = locator.bounding_box()
            assert b is not None, device_name
            assert 0 <= b["y"] and b["y"] + b["height"] <= box["innerHeight"], (device_name, b)
            assert 0 <= b["x"] and b["x"] + b["width"] <= width, (device_name, b)
        heading_px = float(page.locator("h1").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        assert heading_px >= 20, (device_name, heading_px)

        shot = tmp_path / f"maintenance-{device_name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000
        shots.append(shot)
        context.close()

    # The same edge lets the office through to the app.
    edge.client_ip = IN_THE_OFFICE
    context, page = new_page(browser, DESKTOP)
    assert_app(page, page.goto(edge.url + "/"))
    context.close()
    assert {(x.ip, x.verdict) for x in edge.exchanges if x.path == "/"} == {
        (TESTER, "maintenance"), (IN_THE_OFFICE, "let_through")
    }
    with capsys.disabled():
        print(f"\nscreenshots of the maintenance page: {', '.join(map(str, shots))}")


def test_the_bypass_link_lets_a_tester_in_with_a_cookie(browser, client, make_lb, make_edge):
    name, _ = make_lb(prefix="browser")
    until = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    [entered] = client.enter(name, allow=[OFFICE], bypass=True, until=until)
    assert entered.ok, entered.error
    edge = make_edge(name, TESTER)
    link = client.bypass_link(name, base_url=edge.url)
    path = client.bypass_link(name)
    assert link == edge.url + path
    secret = LINK_PATH.fullmatch(path)
    assert secret, path
    secret = secret.group(1)

    context, page = new_page(browser, DESKTOP)
    # Without the link the tester gets the maintenance page.
    assert_maintenance_page(page, page.goto(edge.url + "/"))
    assert context.cookies(edge.url) == []

    # The link: a 302 to / that sets the cookie; the browser follows it into the app.
    started = dt.datetime.now(UTC)
    response = page.goto(link)
    assert_app(page, response)
    assert response is not None and response.url == edge.url + "/"
    redirect = response.request.redirected_from
    assert redirect is not None and redirect.url == link
    first = redirect.response()
    assert first is not None and first.status == 302
    assert first.header_value("location") == "/"
    assert first.header_value("cache-control") == "no-store"
    set_cookie = first.header_value("set-cookie") or ""
    assert set_cookie.startswith(f"maint_bypass={secret};"), set_cookie

    cookie = bypass_cookie(context, edge.url)
    assert cookie["value"] == secret
    assert cookie["httpOnly"] is True and cookie["secure"] is True
    assert cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert cookie["domain"] == "localhost"
    # Chromium reads Expires relative to the response's Date header (whole
    # seconds), so the stored expiry can be up to a second past it.
    assert started.timestamp() < cookie["expires"] < until.timestamp() + 1, (cookie, until)
    # HttpOnly: the page's scripts cannot read it.
    assert "maint_bypass" not in page.evaluate("document.cookie")

    # Later visits carry the cookie and get the app.
    assert_app(page, page.goto(edge.url + "/"))
    assert_app(page, page.goto(edge.url + "/cart"))
    last = [x for x in edge.exchanges if x.path == "/cart"][-1]
    assert last.verdict == "let_through" and last.ip == TESTER
    assert f"Cookie: maint_bypass={secret}" in last.headers, last.headers
    context.close()

    # A browser without the cookie gets the maintenance page; so does a
    # wrong link, which sets nothing.
    context, page = new_page(browser, PHONE)
    assert_maintenance_page(page, page.goto(edge.url + "/"))
    assert_maintenance_page(page, page.goto(edge.url + "/maint-bypass/" + "x" * 32))
    assert context.cookies(edge.url) == []
    context.close()
    verdicts = [(x.path, x.verdict) for x in edge.exchanges if x.path != "/favicon.ico"]
    assert (path, "bypass_link") in verdicts and ("/", "maintenance") in verdicts, verdicts


def test_a_rotated_secret_shuts_out_the_old_cookie_and_link(browser, client, make_lb, make_edge):
    name, _ = make_lb(prefix="browser")
    [entered] = client.enter(name, allow=[OFFICE], bypass=True)
    assert entered.ok, entered.error
    edge = make_edge(name, TESTER)
    old_link = client.bypass_link(name, base_url=edge.url)

    context, page = new_page(browser, DESKTOP)
    assert_app(page, page.goto(old_link))
    old = bypass_cookie(context, edge.url)
    # Without until: the cookie still expires, in the future.
    assert old["expires"] > dt.datetime.now(UTC).timestamp(), old
    assert_app(page, page.goto(edge.url + "/"))

    [rotated] = client.enter(name, rotate_bypass=True)
    assert rotated.ok, rotated.error
    new_link = client.bypass_link(name, base_url=edge.url)
    assert new_link != old_link

    # The browser still sends the old cookie; it no longer gets through.
    assert bypass_cookie(context, edge.url)["value"] == old["value"]
    assert_maintenance_page(page, page.goto(edge.url + "/"))
    last = [x for x in edge.exchanges if x.path == "/"][-1]
    assert f"Cookie: maint_bypass={old['value']}" in last.headers, last.headers
    assert last.verdict == "maintenance"
    # Nor does the old link.
    assert_maintenance_page(page, page.goto(old_link))

    # The new link replaces the cookie and lets the tester in again.
    assert_app(page, page.goto(new_link))
    new = bypass_cookie(context, edge.url)
    assert new["value"] != old["value"] and new_link.endswith("/" + new["value"])
    assert_app(page, page.goto(edge.url + "/"))
    context.close()

    # The office is let through throughout, link or not.
    edge.client_ip = IN_THE_OFFICE
    context, page = new_page(browser, PHONE)
    assert_app(page, page.goto(edge.url + "/"))
    context.close()


def test_a_window_scoped_to_one_host_leaves_the_other_site_of_its_load_balancer_open(
    browser, client, make_lb, make_edge
):
    name, _ = make_lb(prefix="browser")
    [entered] = client.enter(name, hosts=["shop.example.com"], open_paths=["/healthz"])
    assert entered.ok, entered.error
    edge = make_edge(name, TESTER)
    # Both sites' names lead to the stand-in, as DNS leads both to the ALB.
    rules = "MAP shop.example.com 127.0.0.1, MAP api.example.com 127.0.0.1"
    # A browser of its own: the name mapping is a launch flag.
    resolving = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"],
    )
    try:
        context, page = new_page(resolving, DESKTOP)
        shop = f"http://shop.example.com:{edge.port}"
        api = f"http://api.example.com:{edge.port}"
        assert_maintenance_page(page, page.goto(shop + "/checkout"))
        assert_app(page, page.goto(api + "/checkout"))
        # The uptime monitor's path stays open on the shop too.
        assert_app(page, page.goto(shop + "/healthz"))
        context.close()
    finally:
        resolving.close()
    seen = {(x.path, x.verdict) for x in edge.exchanges if x.path in ("/checkout", "/healthz")}
    assert seen == {("/checkout", "maintenance"), ("/checkout", "let_through"),
                    ("/healthz", "let_through")}, seen
    hosts = {h for x in edge.exchanges for h in x.headers if h.startswith("Host: ")}
    assert hosts == {"Host: shop.example.com", "Host: api.example.com"}, hosts


def test_two_services_on_one_load_balancer_each_show_their_own_page(
    browser, moto_endpoint, make_lb, make_edge, tmp_path
):
    import maint

    from conftest import REGION

    name, _ = make_lb(prefix="browser")
    (tmp_path / "api.html").write_text(
        "<!doctype html><html><head><meta name=viewport content='width=device-width'>"
        "<title>API</title></head><body><h1>The API is paused</h1></body></html>"
    )
    (tmp_path / "maint.toml").write_text(
        f'region = "{REGION}"\n'
        "[services.shop]\n"
        f'load_balancers = ["{name}"]\n'
        'hosts = ["shop.example.com"]\n'
        "[services.api]\n"
        f'load_balancers = ["{name}"]\n'
        'hosts = ["api.example.com"]\n'
        'page = "api.html"\n'
    )
    services = maint.Client(endpoint_url=moto_endpoint, config=tmp_path / "maint.toml")
    shop, api = services.enter("shop", "api")
    assert shop.ok and api.ok, (shop, api)
    edge = make_edge(name, TESTER)
    rules = "MAP shop.example.com 127.0.0.1, MAP api.example.com 127.0.0.1"
    resolving = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"],
    )
    try:
        context, page = new_page(resolving, PHONE)
        shop_url = f"http://shop.example.com:{edge.port}/"
        api_url = f"http://api.example.com:{edge.port}/"
        # One load balancer, one web ACL: each host its own window's page.
        assert_maintenance_page(page, page.goto(shop_url))
        response = page.goto(api_url)
        assert response is not None and response.status == 503, response and response.status
        assert page.locator("h1").inner_text() == "The API is paused"
        # shop leaves: its site is back, the API still paused.
        [left] = services.exit("shop")
        assert left.ok, left
        assert_app(page, page.goto(shop_url))
        assert page.goto(api_url).status == 503
        assert page.locator("h1").inner_text() == "The API is paused"
        [left] = services.exit("api")
        assert left.ok, left
        assert_app(page, page.goto(api_url))
        context.close()
    finally:
        resolving.close()
