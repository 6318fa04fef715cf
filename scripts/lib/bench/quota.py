"""The quota model: one config service of N ALBs through its cycle under AWS
WAF's call-rate quotas (the quota proxy: tests/moto/latency_proxy.py
--quotas), and its table."""

import json
import subprocess
import time

from .harness import (ADDED, ALLOW, REGION, cli_env, moto_reset, proxy_counts, proxy_reset, seed,
                      seed_albs, service_folder)

QUOTA_OPS = ["enter", "re-enter", "allowlist add", "allowlist disable", "status", "exit"]
# AWS WAF allows one AssociateWebACL (and one DisassociateWebACL) every 2 s
# per account and Region: N fresh associations take at least 2(N-1) s.
ASSOCIATE_PERIOD_S = 2.0


def quota_floor(op, n):
    """The least time AWS's call-rate quotas allow for `op` on a service of
    n ALBs (the per-call latency aside)."""
    return ASSOCIATE_PERIOD_S * (n - 1) if op in ("enter", "exit") else 0.0


def run_paced(binary, args, env, cwd, proxy, n):
    """Runs `maint --json ARGS` once through the quota proxy after the quotas
    have refilled (N=n: for the error); (the finished process, its wall
    time, the proxy's counts of its calls, its JSON output)."""
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
    return p, wall, counts, out


def measure(binary, args, env, cwd, proxy, n):
    """One paced `maint --json ARGS` (see run_paced): its wall time less the
    emulator's own, the calls, the failed targets, the writes."""
    p, wall, counts, out = run_paced(binary, args, env, cwd, proxy, n)
    if "summary" in out:
        failed = out["summary"]["failed"]
    else:
        failed = sum(1 for t in out["targets"] if t["error"] or t["state"] != "maintenance")
    writes = sum(v for k, v in counts["calls"].items()
                 if k.split(":", 1)[1].startswith(("Create", "Update", "Delete", "Put")))
    # The proxy's own time answering ListResourcesForWebACL from moto (it
    # asks moto about every resource; AWS answers in one round trip).
    emulation = counts.get("emulation_seconds", 0.0)
    return {"wall": wall - emulation, "raw_wall": wall, "emulation": emulation,
            "counts": counts, "failed": failed, "writes": writes, "code": p.returncode}


def run_quota_cycles(binary, moto, proxy, ns, log):
    """For each N: moto reset, N ALBs seeded, one config service `bench`
    holding them, then the real CLI (paced to 100% of the quotas) through
    the quota proxy: enter, re-enter (another reason: one write), allowlist
    add, allowlist disable, status, exit. Per command: wall time, calls,
    throttled calls, failed targets, writes."""
    env = cli_env(proxy)
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
        cwd = service_folder("maint-quota-", names)
        per = {}
        for op in QUOTA_OPS:
            per[op] = r = measure(binary, args[op], env, cwd, proxy, n)
            log(f"  quota model N={n} {op}: {r['raw_wall']:.2f} s (floor {quota_floor(op, n):.0f} s), "
                f"{r['counts']['total']} calls, {r['counts']['throttled']} throttled, {r['failed']} failed")
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


MIXED_OPS = ["enter", "allowlist add", "status", "exit"]


def run_mixed_cycles(binary, moto, proxy, ns, log):
    """Issue 22: for each N, one config service `bench` of N targets: half
    of them (at least one) API Gateway REST API stages named by ARN, one
    CloudFront distribution by its domain name (from N = 3), and the rest
    ALBs, through the same quota proxy: enter, allowlist add, status, exit.
    AssociateWebACL's one call per 2 s is per account and Region, whatever
    the regional resource, so the floor is the quota model's for the
    regional targets; the distribution is a window of its own (scope
    CLOUDFRONT), set through CloudFront (AWS publishes no rate: maint paces
    its writes at one per second), side by side with the regional one."""
    env = cli_env(proxy)
    args = {
        "enter": ["enter", "bench", "--allow", ALLOW, "--reason", "benchmark"],
        "allowlist add": ["allowlist", "add", "bench", ADDED],
        "status": ["status", "bench"],
        "exit": ["exit", "bench"],
    }
    results = {}
    for n in ns:
        stages = max(1, n // 2)
        cdns = 1 if n >= 3 else 0
        albs = n - stages - cdns
        names = seed_albs(moto, albs, prefix="mixed-alb") if albs else []
        if not names:
            moto_reset(moto)
        arns = [seed.create_api_stage(moto, f"mixedapi{i:03d}", REGION) for i in range(stages)]
        aliases = [f"mixed{i}.example.com" for i in range(cdns)]
        for alias in aliases:
            seed.create_distribution(moto, alias)
        cwd = service_folder("maint-mixed-", names + arns + aliases)
        per = {}
        for op in MIXED_OPS:
            per[op] = r = measure(binary, args[op], env, cwd, proxy, n - cdns)
            r.update(albs=albs, stages=stages, cdns=cdns)
            log(f"  mixed N={n} ({albs} ALBs, {stages} stages, {cdns} distribution) {op}: "
                f"{r['raw_wall']:.2f} s (floor {quota_floor(op, n - cdns):.0f} s), "
                f"{r['counts']['total']} calls, {r['counts']['throttled']} throttled, "
                f"{r['failed']} failed")
        results[n] = per
    return results


def mixed_table(results, ns):
    """The mixed service's table: wall time against the quota floor."""
    rows = ["| N (ALBs + API stages + distributions) | command | wall time | quota floor | wall / floor "
            "| AWS calls | throttled | failed targets |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for n in ns:
        for op in MIXED_OPS:
            r = results[n][op]
            c = r["counts"]
            floor = quota_floor(op, n - r["cdns"])
            ratio = f"{r['wall'] / floor:.2f}" if floor > 0 else "–"
            rows.append(f"| {n} ({r['albs']} + {r['stages']} + {r['cdns']}) | {op} | {r['wall']:.2f} s | {floor:.0f} s | "
                        f"{ratio} | {c['total']} | {c['throttled']} | {r['failed']} |")
    return "\n".join(rows)
