"""The engines that run the cycle's commands: the `maint` CLI, and the Python
package (`import maint`) in this process; and the Python package's own cost
over the Rust API (the Python call overhead, logging on and off)."""

import json
import logging
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from .harness import ADDED, ALLOW, REGION, cli_env, seed_albs, sh


class CliEngine:
    name = "maint CLI"

    def __init__(self, binary, proxy, global_args=()):
        self.binary = binary
        self.global_args = list(global_args)
        if self.global_args:
            self.name += " " + " ".join(self.global_args)
        self.env = cli_env(proxy, drop=("AWS_",))
        # The latency model has no call-rate quotas to pace to.
        self.env["MAINT_WAF_QUOTA_PERCENT"] = "0"
        self.cwd = tempfile.mkdtemp(prefix="maint-bench-")  # no maint.toml here

    def args(self, op, targets):
        if op in ("cold enter", "repeated enter"):
            return ["enter", *targets, "--allow", ALLOW, "--reason", "benchmark"]
        if op == "allowlist add":
            return ["allowlist", "add", targets[0], ADDED]
        if op == "status":
            return ["status", *targets]
        if op == "exit":
            return ["exit", *targets]
        raise ValueError(op)

    def run(self, op, targets):
        cmd = [self.binary, *self.global_args, *self.args(op, targets)]
        t = time.perf_counter()
        p = subprocess.run(cmd, env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            shown = " ".join(shlex.quote(a) for a in cmd[:8]) + (" ..." if len(cmd) > 8 else "")
            raise RuntimeError(
                f"`{shown}` exited {p.returncode}\nstdout:\n{p.stdout[-2000:]}\nstderr:\n{p.stderr[-2000:]}"
            )
        return wall


# ==========================================================================
# HOOK: the same cycle through the Python package `import maint`.
# Runs only when `import maint` works in this (.venv) python; otherwise the
# report says it was skipped and why. API (maint-py):
#   maint.Client(region=None, endpoint_url=None)
#       .enter(*targets, allow=[...], reason=...)
#       .exit(*targets)
#       .status(*targets)
#       .allowlist_add(target, entries)
# ==========================================================================


class PythonEngine:
    name = "Python package (import maint)"

    def __init__(self, proxy):
        for k, v in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": proxy,
            "AWS_EC2_METADATA_DISABLED": "true",
            "MAINT_WAF_QUOTA_PERCENT": "0",
        }.items():
            os.environ[k] = v
        import maint  # noqa: F401 (checked by python_package_available)

        self.client = maint.Client(region=REGION, endpoint_url=proxy)

    def run(self, op, targets):
        c = self.client
        t = time.perf_counter()
        if op in ("cold enter", "repeated enter"):
            c.enter(*targets, allow=[ALLOW], reason="benchmark")
        elif op == "allowlist add":
            c.allowlist_add(targets[0], [ADDED])
        elif op == "status":
            c.status(*targets)
        elif op == "exit":
            c.exit(*targets)
        else:
            raise ValueError(op)
        return time.perf_counter() - t


def python_package_available():
    """(True, version) when `import maint` works here and has a Client, else
    (False, why)."""
    try:
        import maint
    except Exception as e:  # noqa: BLE001 (any import failure means skip)
        return False, f"`import maint` failed in {sys.executable}: {type(e).__name__}: {e}"
    if not hasattr(maint, "Client"):
        return False, f"`import maint` found {getattr(maint, '__file__', '?')} without a Client"
    return True, getattr(maint, "__version__", "?")


# --------------------------------------------------------------------------
# the Python call overhead


def run_python_overhead(status_loop, moto, n, log):
    """The Python package's cost over the engine: one `status` of one target,
    `n` times, through the Rust API (`maint-core/examples/status_loop.rs`,
    Fleet::status in one process) and through `maint.Client.status` in this
    process, with the `maint` logger off (WARNING, nothing at INFO) and on
    (DEBUG, every record built and dropped by a NullHandler). Both straight
    against moto, no latency added: the difference is the binding's cost.
    Returns the report's rows."""
    import maint

    os.environ["MAINT_WAF_QUOTA_PERCENT"] = "0"
    [name] = seed_albs(moto, 1, prefix="bench-py")
    client = maint.Client(region=REGION, endpoint_url=moto)
    client.enter(name, allow=[ALLOW], reason="benchmark")
    try:
        out = sh([status_loop, moto, REGION, name, str(n)])
        rust = json.loads(out.strip().splitlines()[-1])["median_us"]
        logger = logging.getLogger("maint")
        level = logger.level

        def python(log_level, call, count):
            logger.setLevel(log_level)
            records = []
            keeper = logging.Handler()
            keeper.emit = records.append
            logger.addHandler(keeper)
            try:
                for _ in range(2):
                    call()
                times = []
                for _ in range(count):
                    t = time.perf_counter()
                    call()
                    times.append((time.perf_counter() - t) * 1e6)
            finally:
                logger.removeHandler(keeper)
                logger.setLevel(level)
            return statistics.median(times), len(records) / (count + 2)

        status = lambda: client.status(name)  # noqa: E731

        def toggle():
            # Each rewrites the web ACL: the engine logs what it does.
            client.allowlist_disable(name)
            client.allowlist_enable(name)

        off, off_records = python(logging.WARNING, status, n)
        on, on_records = python(logging.DEBUG, status, n)
        m = max(5, n // 5)
        t_off, t_off_records = python(logging.WARNING, toggle, m)
        t_on, t_on_records = python(logging.DEBUG, toggle, m)
        log(f"  status: Rust API {rust:.0f} µs, Python {off:.0f} µs (logging off), {on:.0f} µs (on); "
            f"disable+enable: {t_off:.0f} µs (off), {t_on:.0f} µs (on, {t_on_records:.1f} records)")
        return [
            f"| `status` | Rust API (`Fleet::status`, `status_loop`) | {rust:.0f} µs | - | - |",
            f"| `status` | Python, logging off | {off:.0f} µs | {off - rust:+.0f} µs | {off_records:.1f} |",
            f"| `status` | Python, logging on (DEBUG) | {on:.0f} µs | {on - rust:+.0f} µs | {on_records:.1f} |",
            f"| `allowlist_disable` + `allowlist_enable` | Python, logging off | {t_off:.0f} µs | - | "
            f"{t_off_records:.1f} |",
            f"| `allowlist_disable` + `allowlist_enable` | Python, logging on (DEBUG) | {t_on:.0f} µs | "
            f"{t_on - t_off:+.0f} µs over logging off | {t_on_records:.1f} |",
        ]
    finally:
        client.exit(name)


def python_overhead_section(rows, n):
    """The report's Python call overhead section: what was measured, then
    run_python_overhead's rows."""
    return (
        f"One `status` of one target, {n} times after 5 warm-up calls, median, straight against "
        "moto (no latency added), both built in the dev profile. The difference is what the "
        "binding adds per call (argument conversion, the GIL released and taken back, the "
        "report's Python objects); logging on means the `maint` logger at DEBUG with a handler "
        "that keeps the records. moto answers a status in about 12 ms with a spread of a few ms "
        "from one batch of calls to the next: a difference smaller than that is noise, not the "
        "binding's cost (a `status` logs nothing, so logging on and off differ only by chance "
        "there).\n\n"
        "| call | API | median per call | over the Rust API | log records per call |\n"
        "|---|---|---:|---:|---:|\n"
        + "\n".join(rows))
