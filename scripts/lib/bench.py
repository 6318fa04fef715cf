"""The measuring half of scripts/bench (run from the project's .venv python).

scripts/bench starts moto and tests/moto/latency_proxy.py in front of it, runs
the allowlist micro-benchmarks, builds the CLI, then calls this script, which:

1. for each N: resets moto, seeds N ALBs in us-east-1 (tests/moto/seed.py,
   straight to moto, so seeding is neither delayed nor counted), then runs the
   real `maint` CLI through the proxy: cold enter, repeated enter, allowlist
   add, status, exit; wall time per command (median over the runs) and AWS API
   calls per target from the proxy's counts;
2. under AWS WAF's call-rate quotas (the quota proxy): a service of N ALBs
   through its cycle, then switching without associating: an armed window
   (`maint arm` first) and maint's rule injected into a security team's web
   ACL shared by the N ALBs, `enter` and `exit` timed (`--only-switch`: only
   these);
3. the same cycle through the Python package (`import maint`), when it imports;
4. writes BENCHMARKS.md (or --out) with the machine, settings, every figure,
   and the targets with whether each is met (the call targets are the `cli`
   budgets of tests/api-call-budgets.json).

The proxy itself is tested by maint-py/tests/test_latency_proxy.py.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "moto"))
import seed  # noqa: E402 (tests/moto/seed.py: the one moto seeding helper)

REGION = seed.REGION
ALLOW = "203.0.113.0/24"  # IPv4-only allowlist, as the call-count targets assume
ADDED = "198.51.100.7"
OPS = ["cold enter", "repeated enter", "allowlist add", "status", "exit"]

# AWS API call budgets (shared with tests/tests/api_calls.rs): calls per
# target, not counting at most `region_wide.max` region-wide list calls per
# command. Each entry of the file says why.
BUDGETS = json.loads((ROOT / "tests" / "api-call-budgets.json").read_text(encoding="utf-8"))
REGION_WIDE = tuple(BUDGETS["region_wide"]["operations"])
REGION_WIDE_MAX = BUDGETS["region_wide"]["max"]
CALL_TARGETS = {op: entry["max"] for op, entry in BUDGETS["cli"].items()}
# Targets (from the benchmarks issue): ratio T(50)/T(1) at 100 ms per call.
RATIO_TARGETS = {"cold enter": 3.0, "exit": 3.0}
FOLD_TARGET_MS = 5.0


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


# --------------------------------------------------------------------------
# the quota model: one service of N ALBs, AWS WAF's call-rate quotas

QUOTA_OPS = ["enter", "re-enter", "allowlist add", "allowlist disable", "status", "exit"]
# AWS WAF allows one AssociateWebACL (and one DisassociateWebACL) every 2 s
# per account and Region: N fresh associations take at least 2(N-1) s.
ASSOCIATE_PERIOD_S = 2.0


def quota_floor(op, n):
    """The least time AWS's call-rate quotas allow for `op` on a service of
    n ALBs (the per-call latency aside)."""
    return ASSOCIATE_PERIOD_S * (n - 1) if op in ("enter", "exit") else 0.0


def run_quota_cycles(binary, moto, proxy, ns, log):
    """For each N: moto reset, N ALBs seeded, one config service `bench`
    holding them, then the real CLI (paced to 100% of the quotas) through
    the quota proxy: enter, re-enter (another reason: one write), allowlist
    add, allowlist disable, status, exit. Per command: wall time, calls,
    throttled calls, failed targets, writes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MAINT_"))}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION, "AWS_ENDPOINT_URL": proxy, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent/maint-bench/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/maint-bench/credentials",
    })
    args = {
        "enter": ["enter", "bench", "--allow", ALLOW, "--reason", "benchmark"],
        "re-enter": ["enter", "bench", "--reason", "benchmark, again"],
        "allowlist add": ["allowlist", "add", "bench", ADDED],
        "allowlist disable": ["allowlist", "disable", "bench"],
        "status": ["status", "bench"],
        "exit": ["exit", "bench"],
    }
    results = {}
    for n in ns:
        names = seed_albs(moto, n, prefix="quota-alb")
        cwd = tempfile.mkdtemp(prefix="maint-quota-")
        quoted = ", ".join(f'"{name}"' for name in names)
        Path(cwd, "maint.toml").write_text(f'[services.bench]\nload_balancers = [{quoted}]\n')
        per = {}
        for op in QUOTA_OPS:
            time.sleep(ASSOCIATE_PERIOD_S + 0.2)  # the quotas refill between commands
            proxy_reset(proxy)
            started = time.perf_counter()
            p = subprocess.run([binary, "--json", *args[op]], env=env, cwd=cwd,
                               capture_output=True, text=True, timeout=1800)
            wall = time.perf_counter() - started
            counts = proxy_counts(proxy)
            try:
                out = json.loads(p.stdout)
            except ValueError:
                raise RuntimeError(f"`maint {' '.join(args[op])}` (N={n}) exited {p.returncode}: "
                                   f"{p.stderr[-2000:]}") from None
            if "summary" in out:
                failed = out["summary"]["failed"]
            else:
                failed = sum(1 for t in out["targets"] if t["error"] or t["state"] != "maintenance")
            writes = sum(v for k, v in counts["calls"].items()
                         if k.split(":", 1)[1].startswith(("Create", "Update", "Delete", "Put")))
            # The proxy's own time answering ListResourcesForWebACL from moto
            # (it asks moto about every ALB; AWS answers in one round trip).
            emulation = counts.get("emulation_seconds", 0.0)
            per[op] = {"wall": wall - emulation, "raw_wall": wall, "emulation": emulation,
                       "counts": counts, "failed": failed, "writes": writes, "code": p.returncode}
            log(f"  quota model N={n} {op}: {wall:.2f} s (floor {quota_floor(op, n):.0f} s), "
                f"{counts['total']} calls, {counts['throttled']} throttled, {failed} failed")
        results[n] = per
    return results


def quota_tables(results, ns):
    """The quota model's table, and the figures the targets need."""
    rows = ["| N | command | wall time | quota floor | wall / floor | AWS calls (per target) "
            "| writes | throttled | failed targets | emulator's own time |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    figures = {"ratio": {}, "failed": 0, "throttled": 0, "calls": 0, "hi": {}}
    for n in ns:
        for op in QUOTA_OPS:
            r = results[n][op]
            c = r["counts"]
            floor = quota_floor(op, n)
            ratio = r["wall"] / floor if floor > 0 else None
            if ratio is not None:
                figures["ratio"][(op, n)] = ratio
            figures["failed"] += r["failed"]
            figures["throttled"] += c["throttled"]
            figures["calls"] += c["total"]
            rows.append(f"| {n} | {op} | {r['wall']:.2f} s | {floor:.0f} s | "
                        f"{'–' if ratio is None else f'{ratio:.2f}'} | {c['total']} ({c['total'] / n:.2f}) | "
                        f"{r['writes']} | {c['throttled']} | {r['failed']} | {r['emulation']:.2f} s |")
        figures["hi"] = results[ns[-1]]
    return "\n".join(rows), figures


# --------------------------------------------------------------------------
# switching without associating (issue 10): an armed window, and maint's rule
# injected into a security team's web ACL shared by the N ALBs

SWITCH_SCENARIOS = ["armed", "injected"]
# The target: at 100 ms per call, enter and exit under 1 s whatever N, one
# web ACL write per ACL (the service's one ACL), nothing throttled.
SWITCH_TARGET_S = 1.0
WAF_WRITES = ("Create", "Update", "Delete", "Put", "Associate", "Disassociate", "Tag", "Untag")
MAINT_RULE = "maint-maintenance"
MAINT_BODIES = ("maint-page", "maint-state")


def quota_env(proxy):
    """The environment of a CLI run through `proxy` with dummy credentials
    and no AWS or maint settings of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MAINT_"))}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION, "AWS_ENDPOINT_URL": proxy, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent/maint-bench/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/maint-bench/credentials",
    })
    return env


def run_counted(binary, args, env, cwd, proxy, n):
    """Runs `maint --json ARGS` once through the quota proxy after the quotas
    have refilled; its wall time (less the proxy's emulation time), calls,
    writes (every WAF mutating call) and web ACL writes, throttled calls and
    failed targets."""
    time.sleep(ASSOCIATE_PERIOD_S + 0.2)  # the quotas refill between commands
    proxy_reset(proxy)
    started = time.perf_counter()
    p = subprocess.run([binary, "--json", *args], env=env, cwd=cwd,
                       capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    counts = proxy_counts(proxy)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        raise RuntimeError(f"`maint {' '.join(args)}` (N={n}) exited {p.returncode}: "
                           f"{p.stdout[-1000:]}{p.stderr[-2000:]}") from None
    if "summary" in out:
        failed = out["summary"]["failed"]
    else:
        failed = sum(1 for t in out.get("targets", out.get("results", [])) if t.get("error"))
    errors = [t["error"] for t in out.get("results", out.get("targets", [])) if t.get("error")]
    first_error = None
    if errors:
        e = errors[0]
        first_error = e.get("message", str(e)) if isinstance(e, dict) else str(e)
    ops = {k.split(":", 1)[1]: v for k, v in counts["calls"].items() if k.startswith("wafv2:")}
    writes = sum(v for op, v in ops.items() if op.startswith(WAF_WRITES))
    acl_writes = sum(v for op, v in ops.items() if op.startswith(WAF_WRITES) and "WebACL" in op)
    emulation = counts.get("emulation_seconds", 0.0)
    return {"wall": wall - emulation, "raw_wall": wall, "emulation": emulation, "counts": counts,
            "writes": writes, "acl_writes": acl_writes, "failed": failed, "code": p.returncode,
            "error": first_error,
            "stderr": p.stderr[-2000:] if p.returncode else ""}


def rules_of(moto, acl_arn):
    """(sorted (priority, name) pairs, custom response body keys) of a web
    ACL, read straight from moto (not counted)."""
    waf = seed.client("wafv2", moto, REGION)
    name, acl_id = acl_arn.split("/")[-2:]
    acl = waf.get_web_acl(Name=name, Scope="REGIONAL", Id=acl_id)["WebACL"]
    return (sorted((r["Priority"], r["Name"]) for r in acl.get("Rules") or []),
            sorted((acl.get("CustomResponseBodies") or {}).keys()))


# maint's rules hold priorities 0-2 at the front of a web ACL; without a
# bypass or a client address from a header only the maintenance rule (2).
MAINT_SLOTS = 3


def injected_rules(rules):
    """The (priority, name) pairs after maint's rules go in at priorities
    0-2: the rules below the first run of three free priorities move up by
    three."""
    taken = {p for p, _ in rules}
    run_end = 0
    while any(p in taken for p in range(run_end, run_end + MAINT_SLOTS)):
        run_end += 1
    moved = [(p + MAINT_SLOTS if p < run_end else p, name) for p, name in rules]
    return sorted([(MAINT_SLOTS - 1, MAINT_RULE)] + moved)


def run_switch_cycles(binary, moto, proxy, ns, log, scenario):
    """For each N, one config service `bench` of N ALBs through the quota
    proxy, in `scenario`:

    - armed: `arm bench --allow ... --reason ...` (prepared with enter's
      flags, as the README advises; not in the headline: its time against
      the quota floor of its associations), then `enter bench --allow ...` and
      `exit bench` (timed), then `disarm bench`;
    - injected: a security team's web ACL (tests/moto/seed.py
      create_security_web_acl) shared by the N ALBs, the service with
      `existing_web_acl = "inject"`; `enter bench --allow ...` and
      `exit bench` (timed). The ACL's rules are read from moto after each:
      maint's rule at priority 0 with the security rules' run from 0
      shifted up by one, then exactly the original rules and bodies back.

    {n: {command: figures}}, figures as run_counted's plus, for the injected
    commands, `check`: what the ACL looked like (None: as expected)."""
    env = quota_env(proxy)
    results = {}
    enter = ["enter", "bench", "--allow", ALLOW, "--reason", "benchmark"]
    for n in ns:
        if scenario == "armed":
            names = seed_albs(moto, n, prefix="armed-alb")
            cwd = tempfile.mkdtemp(prefix="maint-armed-")
            quoted = ", ".join(f'"{name}"' for name in names)
            Path(cwd, "maint.toml").write_text(f'[services.bench]\nload_balancers = [{quoted}]\n')
            per = {}
            for op, args in (("arm", ["arm", *enter[1:]]), ("enter", enter), ("exit", ["exit", "bench"]),
                             ("disarm", ["disarm", "bench"])):
                per[op] = run_counted(binary, args, env, cwd, proxy, n)
                r = per[op]
                log(f"  armed window N={n} {op}: {r['wall']:.2f} s, {r['counts']['total']} calls, "
                    f"{r['acl_writes']} web ACL writes ({r['writes']} in all), {r['counts']['throttled']} "
                    f"throttled, {r['failed']} failed, exit {r['code']}"
                    + (f": {r['error']}" if r["error"] else ""))
            results[n] = per
        else:
            moto_reset(moto)
            names = [f"inject-alb-{i:03d}" for i in range(n)]
            arns = seed.create_load_balancers(moto, names, region=REGION)
            security = seed.create_security_web_acl(moto, "security-team-acl", associate=arns, region=REGION)
            before = rules_of(moto, security["arn"])
            cwd = tempfile.mkdtemp(prefix="maint-inject-")
            quoted = ", ".join(f'"{name}"' for name in names)
            Path(cwd, "maint.toml").write_text(
                f'[services.bench]\nload_balancers = [{quoted}]\nexisting_web_acl = "inject"\n')
            per = {}
            for op, args in (("enter", enter), ("exit", ["exit", "bench"])):
                per[op] = r = run_counted(binary, args, env, cwd, proxy, n)
                rules, bodies = rules_of(moto, security["arn"])
                if op == "enter":
                    want = (injected_rules(before[0]), sorted(set(before[1]) | set(MAINT_BODIES)))
                    r["check"] = None if (rules, bodies) == want else f"rules {rules}, bodies {bodies}"
                else:
                    r["check"] = None if (rules, bodies) == before else f"rules {rules}, bodies {bodies}"
                log(f"  injected N={n} {op}: {r['wall']:.2f} s, {r['counts']['total']} calls, "
                    f"{r['acl_writes']} web ACL writes ({r['writes']} in all), {r['counts']['throttled']} "
                    f"throttled, {r['failed']} failed, exit {r['code']}"
                    + (f": {r['error']}" if r["error"] else "")
                    + ("" if r["check"] is None else f"; the ACL is not as expected: {r['check']}"))
            results[n] = per
    return results


def switch_tables(results, ns):
    """The switching section's table, the arm/disarm table, and the figures
    the targets need."""
    def verdict_row(r):
        misses = []
        if r["wall"] >= SWITCH_TARGET_S:
            misses.append(f"{r['wall']:.2f} s")
        if r["acl_writes"] != 1:
            misses.append(f"{r['acl_writes']} web ACL writes")
        if r["counts"]["throttled"]:
            misses.append(f"{r['counts']['throttled']} throttled")
        if r["failed"] or r["code"]:
            misses.append(f"{r['failed']} failed, exit {r['code']}"
                          + (f" ({r['error']})" if r["error"] else ""))
        if r.get("check"):
            misses.append("the ACL is not as expected")
        return "met" if not misses else "missed: " + ", ".join(misses)

    rows = ["| scenario | N | command | wall time | AWS calls | calls by operation | web ACL writes (all writes) "
            "| throttled | failed targets | most in flight | emulator's own time | target: < 1 s, one ACL write, 0 throttled |",
            "|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    figures = {"met": 0, "rows": 0, "worst": {}, "misses": []}
    for scenario in SWITCH_SCENARIOS:
        if scenario not in results:
            rows.append(f"| {scenario} | – | – | – | – | – | – | – | – | – | – | not measured: failed, see Errors |")
            figures["misses"].append(f"{scenario}: not measured")
            continue
        for n in ns:
            for op in ("enter", "exit"):
                r = results[scenario][n][op]
                c = r["counts"]
                by_op = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in c["calls"].items())
                v = verdict_row(r)
                figures["rows"] += 1
                figures["met"] += v == "met"
                if v != "met":
                    figures["misses"].append(f"{scenario} {op}, N={n}: {v[len('missed: '):]}")
                key = (scenario, op)
                figures["worst"][key] = max(figures["worst"].get(key, 0.0), r["wall"])
                rows.append(f"| {scenario} | {n} | {op} | {r['wall']:.2f} s | {c['total']} | {by_op} | "
                            f"{r['acl_writes']} ({r['writes']}) | {c['throttled']} | {r['failed']} | "
                            f"{c['max_in_flight']} | {r['emulation']:.2f} s | {v} |")
    arm_rows = ["| N | command | wall time | quota floor, 2(N-1) s | wall / floor | AWS calls | "
                "web ACL writes (all writes) | throttled | failed targets |",
                "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for n in ns if "armed" in results else []:
        for op in ("arm", "disarm"):
            r = results["armed"][n][op]
            floor = quota_floor("enter", n)
            ratio = f"{r['wall'] / floor:.2f}" if floor > 0 else "–"
            arm_rows.append(f"| {n} | {op} | {r['wall']:.2f} s | {floor:.0f} s | {ratio} | {r['counts']['total']} | "
                            f"{r['acl_writes']} ({r['writes']}) | {r['counts']['throttled']} | {r['failed']} |")
    return "\n".join(rows), ("\n".join(arm_rows) if "armed" in results else None), figures


# --------------------------------------------------------------------------
# the engines: the CLI, and the Python package


class CliEngine:
    name = "maint CLI"

    def __init__(self, binary, proxy, global_args=()):
        self.binary = binary
        self.global_args = list(global_args)
        if self.global_args:
            self.name += " " + " ".join(self.global_args)
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("AWS_"):
                del self.env[k]
        self.env.update({
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": proxy,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/nonexistent/maint-bench/config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/maint-bench/credentials",
            # The latency model has no call-rate quotas to pace to.
            "MAINT_WAF_QUOTA_PERCENT": "0",
        })
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


def run_python_overhead(status_loop, moto, n, log):
    """The Python package's cost over the engine: one `status` of one target,
    `n` times, through the Rust API (`maint-core/examples/status_loop.rs`,
    Fleet::status in one process) and through `maint.Client.status` in this
    process, with the `maint` logger off (WARNING, nothing at INFO) and on
    (DEBUG, every record built and dropped by a NullHandler). Both straight
    against moto, no latency added: the difference is the binding's cost.
    Returns the report's rows."""
    import logging

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
# the cycle


# Why an operation makes the calls it makes beyond its target (design
# choices, not sequencing): stated in the report next to the miss. From the
# `over_by_design` of the budgets file.
WHY_MORE_CALLS = {op: e["over_by_design"] for op, e in BUDGETS["cli"].items() if e.get("over_by_design")}


def per_target(counts, targets):
    """AWS calls per target, not counting at most REGION_WIDE_MAX region-wide
    list calls (REGION_WIDE: ListWebACLs, ListIPSets) of the command."""
    calls = counts["calls"]
    region_wide = sum(n for k, n in calls.items() if k.split(":", 1)[-1] in REGION_WIDE)
    excluded = min(region_wide, REGION_WIDE_MAX)
    return (counts["total"] - excluded) / targets, region_wide


def run_cycles(engine, moto, proxy, ns, runs, log):
    """{n: {op: {"times": [...], "counts": [counts of each run]}}}."""
    results = {}
    for n in ns:
        results[n] = {op: {"times": [], "counts": []} for op in OPS}
        for r in range(runs):
            names = seed_albs(moto, n)
            proxy_reset(proxy)
            for op in OPS:
                wall = engine.run(op, names)
                counts = proxy_reset(proxy)
                results[n][op]["times"].append(wall)
                results[n][op]["counts"].append(counts)
                log(f"  {engine.name}: N={n} run {r + 1}/{runs} {op}: {wall:.3f} s, "
                    f"{counts['total']} calls, {counts['max_in_flight']} in flight at most")
    return results


# --------------------------------------------------------------------------
# the report


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:  # noqa: BLE001
        return "?"


def machine(load_before=None):
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        import importlib.metadata as md

        moto_v = md.version("moto")
        boto_v = md.version("boto3")
    except Exception:  # noqa: BLE001
        moto_v = boto_v = "?"
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [("load average (1/5/15 min) at the start; at the end", f"{load_before or '?'}; {load}")]
    return rows + [
        ("nproc", sh(["nproc"]) or str(os.cpu_count())),
        ("memory", mem),
        ("CPU", cpu),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("rustc", sh(["rustc", "--version"])),
        ("python", platform.python_version()),
        ("moto", moto_v),
        ("boto3", boto_v),
    ]


def fmt_s(x):
    return f"{x:.3f} s" if x >= 0.1 else f"{x * 1000:.1f} ms"


def cycle_tables(results, ns, runs):
    out = []
    out.append("Wall time per command (median of %d run%s; min–max in brackets):\n" % (runs, "" if runs == 1 else "s"))
    out.append("| operation | " + " | ".join(f"N={n}" for n in ns) + f" | T({ns[-1]})/T({ns[0]}) |")
    out.append("|---|" + "---:|" * (len(ns) + 1))
    ratios = {}
    for op in OPS:
        cells = []
        for n in ns:
            ts = results[n][op]["times"]
            med = statistics.median(ts)
            cells.append(fmt_s(med) + (f" [{fmt_s(min(ts))}–{fmt_s(max(ts))}]" if len(ts) > 1 else ""))
        lo = statistics.median(results[ns[0]][op]["times"])
        hi = statistics.median(results[ns[-1]][op]["times"])
        ratios[op] = hi / lo if lo else float("nan")
        out.append(f"| {op} | " + " | ".join(cells) + f" | {ratios[op]:.2f} |")
    out.append("")
    out.append("AWS API calls (from the proxy's counts; `allowlist add` acts on one target, "
               f"the other commands on all N). *Per target* leaves out at most {REGION_WIDE_MAX} region-wide "
               f"list calls ({', '.join(REGION_WIDE)}) per command:\n")
    out.append("| operation | N | calls in all | region-wide lists | per target | per target without DescribeLoadBalancers | most in flight | calls by operation (run 1) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---|")
    worst = {}
    for op in OPS:
        for n in ns:
            runs_counts = results[n][op]["counts"]
            c = runs_counts[0]
            targets = 1 if op == "allowlist add" else n
            pt, rw = per_target(c, targets)
            pts = sorted({round(per_target(x, targets)[0], 2) for x in runs_counts})
            worst[op] = max(worst.get(op, 0), max(pts))
            by_op = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in c["calls"].items())
            varied = "" if len(pts) == 1 else f" (runs: {', '.join(f'{p:g}' for p in pts)})"
            dlb = sum(v for k, v in c["calls"].items() if k.endswith(":DescribeLoadBalancers"))
            out.append(f"| {op} | {n} | {c['total']} | {rw} | {pt:.2f}{varied} | {pt - dlb / targets:.2f} "
                       f"| {c['max_in_flight']} | {by_op} |")
    return "\n".join(out), ratios, worst


def verdict(measured, limit, unit=""):
    if measured is None:
        return "not measured"
    if measured <= limit:
        return f"**met** ({limit - measured:.2f}{unit} to spare)"
    if limit == 0:
        return f"**missed** ({measured}{unit})"
    return f"**missed** by {measured - limit:.2f}{unit} ({measured / limit:.2f}× the target)"


def write_report(a, sections):
    path = a.out
    L = []
    L.append("# Benchmarks\n")
    L.append(f"Written by `./scripts/bench{' --quick' if a.mode == 'quick' else ''}` on "
             f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
             f"{a.mode} mode. Measured on one machine in one run: compare figures from the same machine only "
             "(and mind the load average below: other work on this 2-core class of machine slows the allowlist "
             "figures most). No test asserts these times.\n")
    L.append("## How to rerun\n")
    L.append("```sh\n"
             "./scripts/bench                 # full: N = 1, 10, 50 ALBs, 5 runs each; writes BENCHMARKS.md\n"
             "./scripts/bench --quick --out /tmp/b.md   # CI: N = 1, 2, one run, a few minutes\n"
             "./scripts/bench --help          # --delay-ms, --write-rate, --ns, --runs, --release\n"
             "cargo bench -p maint-core --no-default-features --bench allowlist   # the allowlist benchmarks alone\n"
             "```\n")
    L.append("## Machine\n")
    L.append("| | |\n|---|---|")
    for k, v in machine(a.load_before):
        L.append(f"| {k} | {v} |")
    L.append("")
    L.append("## Settings\n")
    L.append("| | |\n|---|---|")
    L.append(f"| latency per AWS API call | {a.delay_ms:g} ms, added by `tests/moto/latency_proxy.py` in front of moto "
             "(moto's own time comes on top) |")
    L.append(f"| WAF write cap | {'none' if not a.write_rate else f'{a.write_rate:g} calls/s (token bucket, burst 1)'} |")
    L.append(f"| N (ALBs per command) | {', '.join(map(str, a.ns))} |")
    L.append(f"| runs per N | {a.runs} (median reported) |")
    L.append(f"| CLI build | `{a.cli_build}` ({a.cli_profile} profile: the time is AWS round trips, not CPU) |")
    L.append(f"| allowlist benchmarks | `cargo bench` (optimized `bench` profile), maint-core without the `waf` feature"
             f"{'; quick: fewer iterations, divan `--max-time 0.1`' if a.mode == 'quick' else ''} |")
    L.append(f"| allowlist in the cycle | `--allow {ALLOW}` (IPv4 only); `allowlist add TARGET {ADDED}` |")
    if sections.get("cli_concurrency"):
        L.append(f"| CLI flags | defaults: `--concurrency` {sections['cli_concurrency']} (targets acted on at once) |")
    L.append("")

    # Targets
    L.append("## Targets\n")
    L.append("| target | measured | verdict |\n|---|---:|---|")
    qf = sections.get("quota_figures")
    n_hi = a.ns[-1]
    if qf is None:
        L.append(f"| quota model | – | not measured: {sections.get('quota_note', '?')} |")
    else:
        for op in ("enter", "exit"):
            for (o, n), ratio in sorted(qf["ratio"].items(), key=lambda kv: kv[0][1]):
                if o == op and n >= 10:
                    L.append(f"| {op}, a {n}-ALB service, within 1.1x of the quota floor | {ratio:.2f}x | "
                             f"{verdict(ratio, 1.1, 'x')} |")
        L.append(f"| failed targets under the quota model: 0 | {qf['failed']} | {verdict(qf['failed'], 0)} |")
        share = 100.0 * qf["throttled"] / max(qf["calls"], 1)
        L.append(f"| throttled calls at most 5% of calls | {qf['throttled']} of {qf['calls']} ({share:.1f}%) | "
                 f"{verdict(share, 5.0, '%')} |")
        hi = qf["hi"]
        for op, limit in (("allowlist add", 0.5), ("allowlist disable", 0.5), ("re-enter", None),
                          ("status", 1.0)):
            r = hi[op]
            if op == "status":
                L.append(f"| status of a {n_hi}-ALB service in maintenance under 1 s | {r['wall']:.2f} s | "
                         f"{verdict(r['wall'], limit, ' s') if n_hi >= 50 else 'measured at N=' + str(n_hi)} |")
                continue
            ok = r["writes"] == 1 and (limit is None or r["wall"] < limit)
            what = f"{r['writes']} write{'s' if r['writes'] != 1 else ''}, {r['wall']:.2f} s"
            goal = "one write" + (f", under {limit:g} s" if limit else "")
            L.append(f"| {op} on a {n_hi}-ALB service: {goal} | {what} | "
                     f"{('met' if ok else 'missed') if n_hi >= 50 else 'measured at N=' + str(n_hi)} |")
    sf = sections.get("switch_figures")
    if sf is None:
        L.append(f"| enter and exit without associating (armed, injected) | – | "
                 f"not measured: {sections.get('switch_note', '?')} |")
    else:
        for scenario in SWITCH_SCENARIOS:
            for op in ("enter", "exit"):
                worst = sf["worst"].get((scenario, op))
                shown = "–" if worst is None else f"{worst:.2f} s (slowest N)"
                L.append(f"| {op}, {scenario} window, any N, under {SWITCH_TARGET_S:g} s | {shown} | "
                         f"{verdict(worst, SWITCH_TARGET_S, ' s')} |")
        L.append(f"| switching: one web ACL write, 0 throttled, 0 failed, the ACL as expected, every row | "
                 f"{sf['met']} of {sf['rows']} rows | {'**met**' if sf['met'] == sf['rows'] else '**missed**: ' + '; '.join(sf['misses'])} |")
    ratios, worst = sections.get("ratios"), sections.get("worst")
    full_ns = a.ns[0] == 1 and a.ns[-1] == 50
    for op, limit in RATIO_TARGETS.items():
        if ratios is None:
            L.append(f"| T(50)/T(1) for {op} ≤ {limit:g} | – | not measured: {sections.get('cli_note', 'CLI not run')} |")
        elif not full_ns:
            L.append(f"| T(50)/T(1) for {op} ≤ {limit:g} | T({a.ns[-1]})/T({a.ns[0]}) = {ratios[op]:.2f} | "
                     f"not measured: this run's N are {', '.join(map(str, a.ns))} (the full mode measures it) |")
        else:
            L.append(f"| T(50)/T(1) for {op} ≤ {limit:g} | {ratios[op]:.2f} | {verdict(ratios[op], limit)} |")
    for op, limit in CALL_TARGETS.items():
        if worst is None:
            L.append(f"| AWS calls per target, {op} ≤ {limit} | – | not measured: {sections.get('cli_note', 'CLI not run')} |")
        else:
            L.append(f"| AWS calls per target, {op} ≤ {limit} | {worst[op]:.2f} (worst N) | {verdict(worst[op], limit)} |")
    fold = sections.get("metrics", {}).get("parse_fold_10000_ms")
    fold_only = sections.get("metrics", {}).get("fold_only_10000_ms")
    L.append(f"| 10,000-entry allowlist parsed and folded < {FOLD_TARGET_MS:g} ms | "
             f"{'–' if fold is None else f'{fold:.2f} ms'} | {verdict(fold, FOLD_TARGET_MS, ' ms')}"
             f"{'' if fold_only is None else f' (the fold alone, from parsed entries: {fold_only:.2f} ms)'} |")
    L.append("")
    if sections.get("target_notes"):
        L.append("\n".join(sections["target_notes"]) + "\n")

    # Allowlist
    L.append("## Allowlist micro-benchmarks\n")
    L.append("`maint-core/benches/allowlist.rs`. Generated data (fixed seed): 80% IPv4 / 20% IPv6, hosts written "
             "bare or with /32 or /128, /24 and /48 and /64 networks, adjacent /25 halves that merge, then "
             "duplicates and hosts inside a listed network up to the entry count. The distinct part is capped at "
             "9,000 entries, so **the 100,000-entry case folds to a valid allowlist** (over 90% of its entries "
             "are duplicates or covered); the **error path** is measured separately: 100,000 distinct IPv4 hosts, "
             "parsed and folded, then refused as over the 10,000-per-family WAF limit. *Peak heap* is the largest "
             "heap growth during one call (result included; inputs excluded), counted by a global allocator "
             "(`peak_alloc`) in the bench binary.\n")
    L.append(sections.get("allowlist_summary") or "_not run_")
    L.append("")
    if sections.get("divan"):
        L.append("<details><summary>divan's output (statistics over many samples)</summary>\n")
        L.append("```text\n" + sections["divan"].rstrip() + "\n```\n</details>\n")

    # The quota model
    L.append("## A service under AWS WAF's call-rate quotas (the default model)\n")
    L.append("`tests/moto/latency_proxy.py --quotas --answer-list-resources` in front of moto answers as AWS "
             "does under its published call-rate quotas per account and Region (one AssociateWebACL and one "
             "DisassociateWebACL every 2 s, one GetWebACLForResource/ListResourcesForWebACL per second, one "
             "call per second of each Create/Update action, five of each other Get/List; `ThrottlingException` "
             f"\"Rate exceeded\" above them), {a.delay_ms:g} ms per call. One config service `bench` holds the "
             "N ALBs (one window, one web ACL); the real CLI, paced to 100% of the quotas, runs: `enter bench "
             f"--allow {ALLOW}`, `enter bench --reason ...` (re-enter: one write), `allowlist add bench "
             f"{ADDED}`, `allowlist disable bench`, `status bench`, `exit bench`. The quota floor is the least "
             "time the quotas allow: 2(N-1) s of associations for enter (of disassociations for exit), "
             "about 0 for the others (one write each). Writes: Create/Update/Delete calls. *Wall time* is the "
             "command's, less the emulator's own time answering `ListResourcesForWebACL` (shown in the last "
             "column): moto lacks that call, so the proxy answers it by asking moto about every ALB, which AWS "
             "does not. The least a one-write command takes at 100 ms per call is about 0.4 s: resolving the "
             "names, reading one member's association (the window and its record), listing the members and "
             "reading the allowlist at once, then the write; plus the process's start.\n")
    L.append(sections.get("quota") or f"_not run: {sections.get('quota_note', '?')}_")
    L.append("")

    # Switching without associating
    L.append("## Switching without associating: an armed window, an injected rule (under the quotas)\n")
    L.append("The same quota proxy (`--quotas --answer-list-resources --answer-check-capacity`, "
             f"{a.delay_ms:g} ms per call; CheckCapacity, which moto lacks, answered with a WCU estimate of the "
             "rules). For each N, one config service `bench` of N ALBs: **armed**: "
             f"`maint arm bench --allow {ALLOW} --reason benchmark` first (prepared with enter's flags) "
             "(maint's web ACL associated in pass-through form; not in the headline, see below), then "
             f"`enter bench --allow {ALLOW} --reason benchmark` and `exit bench` are timed (then `disarm bench`); "
             "**injected**: a security team's web ACL like production ones (`tests/moto/seed.py` "
             "`create_security_web_acl`: AWSManagedRulesCommonRuleSet at priority 0, a rate-based rule at 1, "
             "an IP-set block at 2, a geo block at 3, a `ShieldMitigationRuleGroup_...` rule group at 10000000, "
             "two custom response bodies) shared by the N ALBs, the service with `existing_web_acl = "
             "\"inject\"`; the same `enter` and `exit` are timed, and the ACL is read from moto after each "
             f"(after enter: `{MAINT_RULE}` at priority 0, the security rules at 1-4 and 10000000, bodies "
             f"{' and '.join(f'`{b}`' for b in MAINT_BODIES)} added; after exit: exactly the original rules "
             "and bodies). *Web ACL writes*: Create/Update/Delete/Associate/Disassociate of a web ACL; *all "
             "writes* adds the IP sets'. Target: under 1 s for any N, one web ACL write per command (the "
             "service's one ACL), 0 throttled. Wall time less the emulator's own ListResourcesForWebACL time, "
             "as above.\n")
    L.append(sections.get("switch") or f"_not run: {sections.get('switch_note', '?')}_")
    L.append("")
    if sections.get("switch_arm"):
        L.append("`maint arm` and `maint disarm` (not in the headline: they associate and disassociate each "
                 "ALB, one AssociateWebACL or DisassociateWebACL every 2 s at most):\n")
        L.append(sections["switch_arm"])
        L.append("")

    # CLI
    L.append("## The CLI under AWS-like latency, without quotas (for comparison)\n")
    L.append(f"Each run: moto reset, N ALBs seeded (straight to moto, not counted), then the real `maint` binary "
             f"through the proxy: `enter T1..TN --allow {ALLOW}` twice (cold, then repeated: nothing to change), "
             f"`allowlist add T1 {ADDED}`, `status T1..TN`, `exit T1..TN`. Time is the process's wall time "
             f"(start-up included).\n")
    L.append(sections.get("cli") or f"_not run: {sections.get('cli_note', '?')}_")
    L.append("")

    L.append("## The Python package under AWS-like latency\n")
    L.append(sections.get("python") or f"_skipped: {sections.get('python_note', '?')}_")
    L.append("")

    L.append("## Python call overhead, and logging on and off\n")
    L.append(sections.get("python_overhead")
             or f"_skipped: {sections.get('python_note') or 'no status_loop example given'}_")
    L.append("")

    if sections.get("errors"):
        L.append("## Errors\n")
        for e in sections["errors"]:
            L.append("```text\n" + e.rstrip() + "\n```\n")
    with open(path, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


def read_metrics(text):
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^METRIC (\w+)=([\d.]+)$", text or "", re.M)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--moto", required=True)
    p.add_argument("--proxy", required=True)
    p.add_argument("--quota-proxy", help="the latency proxy in --quotas mode, for the quota model")
    p.add_argument("--maint", help="the maint binary; none: the CLI cycle is not run")
    p.add_argument("--cli-note", default="", help="why the CLI is not run")
    p.add_argument("--cli-build", default="cargo build -p maint-cli")
    p.add_argument("--cli-profile", default="dev")
    p.add_argument("--mode", choices=["quick", "full"], default="full")
    p.add_argument("--ns", default="1,10,50")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--delay-ms", type=float, default=100)
    p.add_argument("--write-rate", type=float, default=0)
    p.add_argument("--allowlist-summary")
    p.add_argument("--allowlist-divan")
    p.add_argument("--no-python", action="store_true")
    p.add_argument("--status-loop", help="maint-core's status_loop example, for the Python overhead")
    p.add_argument("--out", default="BENCHMARKS.md")
    p.add_argument("--load-before", help="load average when scripts/bench started")
    p.add_argument("--only-switch", action="store_true",
                   help="run only the switching scenarios (armed, injected) through the quota proxy")
    a = p.parse_args()
    a.ns = [int(x) for x in a.ns.split(",") if x.strip()]

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    sections = {"errors": [], "target_notes": []}
    if a.allowlist_summary and os.path.exists(a.allowlist_summary):
        text = open(a.allowlist_summary).read()
        sections["metrics"] = read_metrics(text)
        sections["allowlist_summary"] = re.sub(r"\n*METRIC .*", "", text).strip()
    if a.allowlist_divan and os.path.exists(a.allowlist_divan):
        divan = open(a.allowlist_divan).read()
        m = re.search(r"^allowlist\s+fastest", divan, re.M)  # divan's table (its first line goes to stderr)
        sections["divan"] = divan[m.start():] if m else divan

    if a.only_switch:
        a.no_python = True
        sections["cli_note"] = sections["quota_note"] = "--only-switch given"
    if a.maint and not a.only_switch:
        log(f"CLI cycle: N = {a.ns}, {a.runs} run(s)")
        m = re.search(r"--concurrency\b[^\[]*\[default: (\d+)\]", sh([a.maint, "--help"]))
        sections["cli_concurrency"] = m.group(1) if m else None
        try:
            results = run_cycles(CliEngine(a.maint, a.proxy), a.moto, a.proxy, a.ns, a.runs, log)
            table, ratios, worst = cycle_tables(results, a.ns, a.runs)
            sections.update(cli=table, ratios=ratios, worst=worst)
            n_hi = a.ns[-1]
            conc = int(sections["cli_concurrency"] or 0)
            wide = None
            if conc and n_hi > conc and len(a.ns) > 1:
                # The same cycle with every target at once, to show what the
                # default --concurrency costs at this N.
                log(f"CLI cycle with --concurrency {n_hi}: N = {n_hi}, {a.runs} run(s)")
                engine = CliEngine(a.maint, a.proxy, ["--concurrency", str(n_hi)])
                wide = run_cycles(engine, a.moto, a.proxy, [n_hi], a.runs, log)
                rows = [f"\nThe same cycle for N={n_hi} with `--concurrency {n_hi}` (every target at once; "
                        f"the default is {conc}), T(1) from the table above:\n",
                        f"| operation | N={n_hi}, --concurrency {n_hi} | T({n_hi})/T({a.ns[0]}) | calls in all | most in flight |",
                        "|---|---:|---:|---:|---:|"]
                for op in OPS:
                    ts = wide[n_hi][op]["times"]
                    lo = statistics.median(results[a.ns[0]][op]["times"])
                    c = wide[n_hi][op]["counts"][0]
                    rows.append(f"| {op} | {fmt_s(statistics.median(ts))}"
                                + (f" [{fmt_s(min(ts))}–{fmt_s(max(ts))}]" if len(ts) > 1 else "")
                                + f" | {statistics.median(ts) / lo:.2f} | {c['total']} | {c['max_in_flight']} |")
                sections["cli"] += "\n" + "\n".join(rows)
            for op in RATIO_TARGETS:
                if ratios[op] > RATIO_TARGETS[op]:
                    inflight = results[n_hi][op]["counts"][0]["max_in_flight"]
                    note = (f"- {op}, T({n_hi})/T({a.ns[0]}) = {ratios[op]:.2f}: at most {inflight} calls were in "
                            f"flight at once for N={n_hi}")
                    if conc and inflight <= conc < n_hi:
                        waves = -(-n_hi // conc)
                        note += (f", the CLI's default `--concurrency {conc}`: {n_hi} targets go in {waves} waves "
                                 f"of up to {conc}, each wave a full round of sequential calls")
                    if wide is not None:
                        t_wide = statistics.median(wide[n_hi][op]["times"])
                        lo = statistics.median(results[a.ns[0]][op]["times"])
                        note += f". With `--concurrency {n_hi}`: T({n_hi})/T({a.ns[0]}) = {t_wide / lo:.2f}"
                    sections["target_notes"].append(note + ".")
            for op, limit in CALL_TARGETS.items():
                if worst[op] > limit:
                    c = results[a.ns[0]][op]["counts"][0]
                    t = 1 if op == "allowlist add" else a.ns[0]
                    pt, _ = per_target(c, t)
                    dlb = sum(v for k, v in c["calls"].items() if k.endswith(":DescribeLoadBalancers"))
                    by_op = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in c["calls"].items())
                    sections["target_notes"].append(
                        f"- {op}: {worst[op]:.2f} calls per target (limit {limit}). For N={a.ns[0]}: {by_op}. "
                        f"Without resolving the target name (DescribeLoadBalancers, one call per 20 names): "
                        f"{pt - dlb / t:.2f} per target. {WHY_MORE_CALLS.get(op, '')}".rstrip())
        except Exception:  # noqa: BLE001
            sections["cli_note"] = "the CLI cycle failed, see Errors"
            sections["errors"].append("CLI cycle:\n" + traceback.format_exc())
    elif not a.only_switch:
        sections["cli_note"] = a.cli_note or "no maint binary given"

    # The quota model, the default: one service of N ALBs.
    if a.only_switch:
        pass
    elif a.maint and a.quota_proxy:
        log(f"quota model: N = {a.ns}")
        try:
            results = run_quota_cycles(a.maint, a.moto, a.quota_proxy, a.ns, log)
            table, figures = quota_tables(results, a.ns)
            sections.update(quota=table, quota_figures=figures)
        except Exception:  # noqa: BLE001
            sections["quota_note"] = "the quota model cycle failed, see Errors"
            sections["errors"].append("quota model:\n" + traceback.format_exc())
    else:
        sections["quota_note"] = "no maint binary or no quota proxy given"

    # Switching without associating: an armed window, an injected rule.
    if a.maint and a.quota_proxy:
        results = {}
        for scenario in SWITCH_SCENARIOS:
            log(f"switching without associating, {scenario}: N = {a.ns}")
            try:
                results[scenario] = run_switch_cycles(a.maint, a.moto, a.quota_proxy, a.ns, log, scenario)
            except Exception:  # noqa: BLE001
                sections["errors"].append(f"switching without associating, {scenario}:\n"
                                          + traceback.format_exc())
        if results:
            table, arm_table, figures = switch_tables(results, a.ns)
            sections.update(switch=table, switch_arm=arm_table, switch_figures=figures)
        else:
            sections["switch_note"] = "the switching scenarios failed, see Errors"
    else:
        sections["switch_note"] = "no maint binary or no quota proxy given"

    # HOOK: the Python package (see PythonEngine above).
    ok, info = (False, "--no-python given") if a.no_python else python_package_available()
    if ok:
        log(f"Python package cycle (maint {info})")
        try:
            results = run_cycles(PythonEngine(a.proxy), a.moto, a.proxy, a.ns, a.runs, log)
            table, _, _ = cycle_tables(results, a.ns, a.runs)
            sections["python"] = (f"`maint` {info}, the same cycle as the CLI's through `maint.Client(region, "
                                  f"endpoint_url=proxy)` in one Python process (time per call, no process start):\n\n"
                                  + table)
        except Exception:  # noqa: BLE001
            sections["python_note"] = "the Python cycle failed, see Errors"
            sections["errors"].append("Python package cycle:\n" + traceback.format_exc())
    else:
        sections["python_note"] = info

    # The Python package's own cost, and logging's.
    if ok and a.status_loop:
        n = 50 if a.mode == "quick" else 300
        log(f"Python call overhead: {n} status calls each way")
        try:
            rows = run_python_overhead(a.status_loop, a.moto, n, log)
            sections["python_overhead"] = (
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
        except Exception:  # noqa: BLE001
            sections["errors"].append("Python call overhead:\n" + traceback.format_exc())

    write_report(a, sections)
    log(f"wrote {a.out}")
    for e in sections["errors"]:
        log(e)
    return 1 if sections["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
