"""A recording HTTP proxy in front of moto, run as its own process (so a
call that held the GIL could not starve it: the test would fail, not hang).

Every request is forwarded to UPSTREAM after DELAY seconds, or, when its
X-Amz-Target contains FAIL_TARGET, answered with an AWS AccessDenied error.
Each exchange is appended to LOG as a JSON line: start and end (monotonic
seconds), X-Amz-Target, and the request body. The first line on stdout is
the port. The proxy exits when its standard input closes.

Usage: python recording_proxy.py UPSTREAM DELAY FAIL_TARGET LOG
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import sys
import threading
import time


def main() -> None:
    upstream, delay_text, fail_target, log_path = sys.argv[1:5]
    delay = float(delay_text)
    host, port = upstream.removeprefix("http://").split(":")
    lock = threading.Lock()
    log = open(log_path, "a", encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _forward(self) -> None:
            start = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            target = self.headers.get("X-Amz-Target", "")
            if delay:
                time.sleep(delay)
            if fail_target and fail_target in target:
                payload = b'{"__type":"AccessDeniedException","Message":"injected by the test"}'
                status, headers = 400, {
                    "Content-Type": "application/x-amz-json-1.1",
                    "x-amzn-RequestId": "injected-request-id",
                }
            else:
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                forward = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=forward)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                headers = {
                    k: v
                    for k, v in response.getheaders()
                    if k.lower() not in ("content-length", "transfer-encoding", "connection")
                }
                conn.close()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            record = {
                "start": start,
                "end": time.monotonic(),
                "target": target,
                "body": body.decode("utf-8", errors="replace"),
            }
            with lock:
                log.write(json.dumps(record) + "\n")
                log.flush()

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
