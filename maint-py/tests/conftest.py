"""Fixtures for the maint Python package tests: moto's server (started from
the venv on a free loopback port, through tests/moto/moto_wrapper.py so it
never outlives the test run), load balancers seeded by tests/moto/seed.py
(the project's one seeding helper), and a recording proxy in front of moto
that can add latency or inject AWS errors.

Like the Rust harness, these tests fail, never skip, when moto is missing.
`maint` is imported by the tests that use it (and by the `client` fixture),
not here, so tests of the test tools (test_latency_proxy.py) run without the
built extension.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[2]
MOTO_TOOLS = ROOT / "tests" / "moto"
WRAPPER = MOTO_TOOLS / "moto_wrapper.py"

sys.path.insert(0, str(MOTO_TOOLS))
import seed  # noqa: E402 (tests/moto/seed.py, found through the line above)

if TYPE_CHECKING:
    import maint

# Credentials and region for boto3 and for the Rust SDK inside maint, set
# before anything reads them; nothing may reach a real AWS account.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION=REGION,
    AWS_REGION=REGION,
    AWS_EC2_METADATA_DISABLED="true",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    # moto has no call-rate quotas: no pacing (tests of the quota model set
    # it back to 100).
    MAINT_WAF_QUOTA_PERCENT="0",
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def moto_server_path() -> Path:
    configured = os.environ.get("MAINT_MOTO_SERVER")
    path = Path(configured) if configured else Path(sys.executable).with_name("moto_server")
    if not path.is_file():
        pytest.fail(
            f"moto_server not found at {path}: run ./scripts/test (it installs moto into .venv)"
        )
    return path


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/moto-api/")
        conn.getresponse().read()
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    moto = moto_server_path()
    last = ""
    for attempt in range(3):  # the free port can be taken between probe and bind
        port = free_port()
        # moto's log goes to a file: a pipe nobody reads fills up (moto logs
        # a traceback for every call it lacks) and then blocks moto.
        log = tmp_path_factory.mktemp("moto") / f"moto-{attempt}.log"
        log_file = open(log, "wb")  # noqa: SIM115 (closed with the child)
        child = subprocess.Popen(
            [sys.executable, str(WRAPPER), str(moto), "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.PIPE,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.poll() is None:
            if _answers(port):
                break
            time.sleep(0.1)
        if child.poll() is None and _answers(port):
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                assert child.stdin is not None
                child.stdin.close()  # the wrapper stops moto
                child.wait(10)
            return
        child.kill()
        log_file.close()
        last = log.read_text(errors="replace")
    pytest.fail(f"moto did not start: {last[-2000:]}")


@pytest.fixture(scope="session")
def aws(moto_endpoint: str) -> dict[str, object]:
    """boto3 clients on moto."""
    return {name: seed.client(name, moto_endpoint, REGION) for name in ("ec2", "elbv2", "wafv2")}


@pytest.fixture(scope="session")
def subnets(moto_endpoint: str) -> list[str]:
    """Two subnets in different availability zones of REGION."""
    return seed.two_subnets(moto_endpoint, region=REGION)


@pytest.fixture
def make_lb(moto_endpoint: str, subnets: list[str]) -> Callable[..., tuple[str, str]]:
    """Creates a uniquely named load balancer; returns (name, ARN)."""

    def make(kind: str = "application", prefix: str = "py") -> tuple[str, str]:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        [arn] = seed.create_load_balancers(
            moto_endpoint, [name], kind=kind, region=REGION, subnets=subnets
        )
        return name, arn

    return make


@pytest.fixture
def client(moto_endpoint: str) -> maint.Client:
    import maint

    return maint.Client(region=REGION, endpoint_url=moto_endpoint)


def web_acl_names(aws: dict[str, object]) -> set[str]:
    acls = aws["wafv2"].list_web_acls(Scope="REGIONAL", Limit=100)["WebACLs"]  # type: ignore[attr-defined]
    return {a["Name"] for a in acls}


def ip_set_names(aws: dict[str, object]) -> set[str]:
    sets = aws["wafv2"].list_ip_sets(Scope="REGIONAL", Limit=100)["IPSets"]  # type: ignore[attr-defined]
    return {s["Name"] for s in sets}


@dataclass
class Exchange:
    """One request that went through the proxy."""

    start: float
    end: float
    target: str  # X-Amz-Target (JSON APIs) or "" (query APIs)
    body: str


class Proxy:
    """tests/recording_proxy.py in its own process, in front of moto: records
    every request with its in-flight interval, adds `delay` seconds to each,
    and answers requests whose X-Amz-Target contains `fail_target` with an
    AWS error."""

    def __init__(self, upstream: str, log: Path, delay: float = 0.0, fail_target: str = "") -> None:
        self._log = log
        self._child = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("recording_proxy.py")),
             upstream, str(delay), fail_target, str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdout is not None
        port = self._child.stdout.readline().strip()
        if not port:
            pytest.fail("the recording proxy did not start")
        self.url = f"http://127.0.0.1:{port}"

    @property
    def exchanges(self) -> list[Exchange]:
        if not self._log.exists():
            return []
        lines = self._log.read_text(encoding="utf-8").splitlines()
        return [Exchange(**json.loads(line)) for line in lines if line]

    def close(self) -> None:
        assert self._child.stdin is not None
        self._child.stdin.close()
        self._child.wait(10)


@pytest.fixture
def make_proxy(moto_endpoint: str, tmp_path: Path) -> Iterator[Callable[..., Proxy]]:
    """Starts recording proxies in front of moto; stops them after the test."""
    proxies: list[Proxy] = []

    def make(delay: float = 0.0, fail_target: str = "") -> Proxy:
        proxy = Proxy(moto_endpoint, tmp_path / f"proxy-{len(proxies)}.jsonl", delay, fail_target)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()
