"""The emulator's plumbing: moto and the latency proxies in front of it
(reset, call counts), seeding ALBs (tests/moto/seed.py, straight to moto, so
seeding is neither delayed nor counted), a config service's folder, the
environment of a `maint` run, and the workload every measurement shares."""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "moto"))
import seed  # noqa: E402 (tests/moto/seed.py: the one moto seeding helper)

REGION = seed.REGION
ALLOW = "203.0.113.0/24"  # IPv4-only allowlist, as the call-count targets assume
ADDED = "198.51.100.7"


# --------------------------------------------------------------------------
# small HTTP helpers


def http(method, url, timeout=30):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, resp.read()


def proxy_counts(proxy):
    return json.loads(http("GET", proxy + "/_proxy/counts")[1])


def proxy_reset(proxy):
    return json.loads(http("POST", proxy + "/_proxy/reset")[1])


def moto_reset(moto):
    status, _ = http("POST", moto + "/moto-api/reset")
    assert status == 200, f"moto reset answered {status}"


# --------------------------------------------------------------------------
# seeding (tests/moto/seed.py, straight to moto)


def seed_albs(moto, n, prefix="bench-alb"):
    """Resets moto and creates n application load balancers; returns names."""
    moto_reset(moto)
    names = [f"{prefix}-{i:03d}" for i in range(n)]
    seed.create_load_balancers(moto, names, region=REGION)
    return names


def service_folder(prefix, names, extra=""):
    """A fresh folder whose maint.toml holds one config service `bench` of
    the ALBs `names` (`extra`: more lines of that service); returns it."""
    cwd = tempfile.mkdtemp(prefix=prefix)
    quoted = ", ".join(f'"{name}"' for name in names)
    Path(cwd, "maint.toml").write_text(f'[services.bench]\nload_balancers = [{quoted}]\n{extra}')
    return cwd


# --------------------------------------------------------------------------
# running things


def cli_env(proxy, drop=("AWS_", "MAINT_")):
    """The environment of a CLI run through `proxy` with dummy credentials:
    the caller's, less the variables starting with one of `drop`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION, "AWS_ENDPOINT_URL": proxy, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent/maint-bench/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/maint-bench/credentials",
    })
    return env


def sh(cmd):
    """A command's stdout, stripped; "?" when it cannot run."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001
        return "?"
