"""The cycle under AWS-like latency, without quotas: for each N, moto reset,
N ALBs seeded, then cold enter, repeated enter, allowlist add, status, exit
through the latency proxy by an engine (the CLI or the Python package);
wall time per command (median over the runs) and AWS API calls per target
from the proxy's counts; the cycle's tables, and the CLI's part of the
report (with the same cycle at `--concurrency N`, and the notes on missed
targets)."""

import statistics

from .engines import CliEngine
from .harness import proxy_reset, seed_albs
from .targets import CALL_TARGETS, RATIO_TARGETS, REGION_WIDE, REGION_WIDE_MAX, WHY_MORE_CALLS

OPS = ["cold enter", "repeated enter", "allowlist add", "status", "exit"]


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


def measure_cli(binary, moto, proxy, ns, runs, conc, sections, log):
    """The CLI's cycle into `sections`, step by step (what is done stays
    there if a later step raises): `cli` (its tables, then the same cycle at
    `--concurrency N` when the default `conc` is below the largest N),
    `ratios`, `worst`, and a note in `target_notes` for each missed target."""
    results = run_cycles(CliEngine(binary, proxy), moto, proxy, ns, runs, log)
    table, ratios, worst = cycle_tables(results, ns, runs)
    sections.update(cli=table, ratios=ratios, worst=worst)
    n_hi = ns[-1]
    wide = None
    if conc and n_hi > conc and len(ns) > 1:
        # The same cycle with every target at once, to show what the
        # default --concurrency costs at this N.
        log(f"CLI cycle with --concurrency {n_hi}: N = {n_hi}, {runs} run(s)")
        engine = CliEngine(binary, proxy, ["--concurrency", str(n_hi)])
        wide = run_cycles(engine, moto, proxy, [n_hi], runs, log)
        rows = [f"\nThe same cycle for N={n_hi} with `--concurrency {n_hi}` (every target at once; "
                f"the default is {conc}), T(1) from the table above:\n",
                f"| operation | N={n_hi}, --concurrency {n_hi} | T({n_hi})/T({ns[0]}) | calls in all | most in flight |",
                "|---|---:|---:|---:|---:|"]
        for op in OPS:
            ts = wide[n_hi][op]["times"]
            lo = statistics.median(results[ns[0]][op]["times"])
            c = wide[n_hi][op]["counts"][0]
            rows.append(f"| {op} | {fmt_s(statistics.median(ts))}"
                        + (f" [{fmt_s(min(ts))}–{fmt_s(max(ts))}]" if len(ts) > 1 else "")
                        + f" | {statistics.median(ts) / lo:.2f} | {c['total']} | {c['max_in_flight']} |")
        sections["cli"] += "\n" + "\n".join(rows)
    for op in RATIO_TARGETS:
        if ratios[op] > RATIO_TARGETS[op]:
            inflight = results[n_hi][op]["counts"][0]["max_in_flight"]
            note = (f"- {op}, T({n_hi})/T({ns[0]}) = {ratios[op]:.2f}: at most {inflight} calls were in "
                    f"flight at once for N={n_hi}")
            if conc and inflight <= conc < n_hi:
                waves = -(-n_hi // conc)
                note += (f", the CLI's default `--concurrency {conc}`: {n_hi} targets go in {waves} waves "
                         f"of up to {conc}, each wave a full round of sequential calls")
            if wide is not None:
                t_wide = statistics.median(wide[n_hi][op]["times"])
                lo = statistics.median(results[ns[0]][op]["times"])
                note += f". With `--concurrency {n_hi}`: T({n_hi})/T({ns[0]}) = {t_wide / lo:.2f}"
            sections["target_notes"].append(note + ".")
    for op, limit in CALL_TARGETS.items():
        if worst[op] > limit:
            c = results[ns[0]][op]["counts"][0]
            t = 1 if op == "allowlist add" else ns[0]
            pt, _ = per_target(c, t)
            dlb = sum(v for k, v in c["calls"].items() if k.endswith(":DescribeLoadBalancers"))
            by_op = ", ".join(f"{k.split(':', 1)[1]} {v}" for k, v in c["calls"].items())
            sections["target_notes"].append(
                f"- {op}: {worst[op]:.2f} calls per target (limit {limit}). For N={ns[0]}: {by_op}. "
                f"Without resolving the target name (DescribeLoadBalancers, one call per 20 names): "
                f"{pt - dlb / t:.2f} per target. {WHY_MORE_CALLS.get(op, '')}".rstrip())
