"""A stand-in for an ALB's edge, for the browser tests (test_browser.py).

A threaded HTTP server on 127.0.0.1 (a free port) that asks, for every
request, a `decide(ip, headers, path)` callable what AWS WAF would do, and
answers as the load balancer would:

- `decide` returns a report with a `verdict` and a `response` (maint's
  `CheckResult`, from `client.check(target, ip=..., headers=..., path=...)`,
  whose list has one per load balancer of the target): when the response
  is None the request is let through and the stand-in serves "the app", a
  small 200 HTML page saying "Shop is open"; otherwise it answers with the
  response's status, headers, content type and body (the maintenance page,
  or the bypass link's redirect and cookie).
- `ip` is the pretend client address (`client_ip`, settable per test): the
  browser connects from 127.0.0.1, which WAF would only see for a local
  client, so a test says which address WAF sees, e.g. a tester who is not
  on the allowlist.
- `headers` are the request's `Cookie` and `x-maint-bypass` headers as
  "Name: value" strings (what maint's rule inspects), and its `Host`
  without the port (the stand-in listens on a free port; the ALB it stands
  in for listens on 443, where browsers send no port), for windows scoped
  to hosts; `path` is the request's path without the query string.

Every request is recorded (`exchanges`); a `decide` that raises is answered
with a 500 naming the error and kept in `errors`, so a test can fail on it
rather than on a confusing page.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import urlsplit

# The request headers maint's WAF rule looks at (compared case-insensitively).
INSPECTED_HEADERS = ("Cookie", "x-maint-bypass")

APP_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop</title>
</head>
<body>
<h1>Shop is open</h1>
<p>The app behind the load balancer.</p>
</body>
</html>
"""

Decide = Callable[[str, Sequence[str], str], Any]


@dataclass
class Exchange:
    """One request the stand-in answered."""

    method: str
    path: str
    ip: str  # the pretend client address given to decide
    headers: list[str]  # the inspected headers given to decide
    verdict: Optional[str]  # the report's verdict, None when decide failed
    status: int  # what the browser got


class EdgeStandin:
    """Start with `with EdgeStandin(decide) as edge:`; `edge.url` is
    `http://localhost:<port>` (Chromium treats `localhost` as a secure
    context, so a `Secure` cookie can be set over plain HTTP)."""

    def __init__(self, decide: Decide, client_ip: str = "127.0.0.1") -> None:
        self.decide = decide
        self.client_ip = client_ip
        self.exchanges: list[Exchange] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://localhost:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="edge-standin", daemon=True
        )
        self._thread.start()

    def _record(self, exchange: Exchange, error: Optional[str] = None) -> None:
        with self._lock:
            self.exchanges.append(exchange)
            if error is not None:
                self.errors.append(error)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def __enter__(self) -> EdgeStandin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _without_port(host: str) -> str:
    """`shop.example.com:8123` as `shop.example.com` (an IPv6 literal's
    brackets kept)."""
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and not name.endswith(":"):
        return name
    return host


def _handler_for(edge: EdgeStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as browsers expect

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer(send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            path = urlsplit(self.path).path or "/"
            wanted = {h.lower() for h in INSPECTED_HEADERS}
            headers = [f"{name}: {value}" for name, value in self.headers.items()
                       if name.lower() in wanted]
            host = self.headers.get("Host")
            if host:
                headers.append(f"Host: {_without_port(host)}")
            ip = edge.client_ip
            try:
                report = edge.decide(ip, headers, path)
                response = report.response
                verdict = str(report.verdict)
            except Exception:  # noqa: BLE001 (answered and recorded, not raised)
                error = f"decide({ip!r}, {headers!r}, {path!r}) failed:\n{traceback.format_exc()}"
                self._send(500, [], "text/plain; charset=utf-8", error, send_body)
                edge._record(Exchange(self.command, path, ip, headers, None, 500), error)
                return
            if response is None:
                status = 200
                self._send(200, [("Cache-Control", "no-store")], "text/html; charset=utf-8",
                           APP_PAGE, send_body)
            else:
                status = int(response.status)
                self._send(status, list(response.headers), response.content_type,
                           response.body, send_body)
            edge._record(Exchange(self.command, path, ip, headers, verdict, status))

        def _send(self, status: int, headers: list[tuple[str, str]],
                  content_type: Optional[str], body: Optional[str], send_body: bool) -> None:
            data = (body or "").encode("utf-8")
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "content-type"):
                    self.send_header(name, value)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if send_body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # exchanges are recorded instead

    return Handler
