"""The report (BENCHMARKS.md or --out): the machine it ran on, the settings,
the targets with their verdicts, then a section per measurement, from what
the measurements left in `sections`; and the allowlist micro-benchmarks'
output (maint-core/benches/allowlist.rs) read for it."""

import datetime
import os
import platform
import re

from .harness import ADDED, ALLOW, sh
from .org import ORG_INTRO
from .switching import MAINT_BODIES, MAINT_RULE, SWITCH_SCENARIOS, SWITCH_TARGET_S
from .targets import CALL_TARGETS, FOLD_TARGET_MS, RATIO_TARGETS, verdict


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
        L.append(f"| enter and exit without associating (armed, injected, shared) | – | "
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
    L.append("## Switching without associating: an armed window, an injected rule, a shared load balancer (under the quotas)\n")
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
             f"(after enter: `{MAINT_RULE}` at priority 2 (0-1 kept free for maint's bypass and client-address "
             "rules), the security rules at 3-6 and 10000000, bodies "
             f"{' and '.join(f'`{b}`' for b in MAINT_BODIES)} added; after exit: exactly the original rules "
             "and bodies); **shared** (issue 21): `bench` scoped to `bench.example.com` is in maintenance "
             "on the N ALBs (entered first, not timed), and a second service `other` scoped to "
             "`other.example.com` on the same ALBs enters and exits (timed): its part added to bench's web ACL "
             "and taken out, one UpdateWebACL each, no association (after enter: its own `maint-p...` rules "
             "first, bench's all kept, moved down to make room; after exit: exactly bench's rules, "
             "priorities and bodies). *Web ACL writes*: Create/Update/Delete/Associate/Disassociate of a web ACL; *all "
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
    if sections.get("mixed"):
        L.append("## Targets other than load balancers: ALBs and API Gateway stages in one service (under the quotas)\n")
        L.append("Issue 22. The same quota proxy and pacing. For each N, one config service `bench` of N regional "
                 "targets: half of them (at least one) API Gateway REST API stages named by ARN, the rest ALBs "
                 f"by name; `enter bench --allow {ALLOW} --reason benchmark`, `allowlist add bench {ADDED}`, "
                 "`status bench`, `exit bench`. AWS's AssociateWebACL quota (one call per 2 s) is per account "
                 "and Region whatever the resource, so the floor is the quota model's: 2(N-1) s for enter and "
                 "exit of the regional targets. A stage is looked up with GetWebACLForResource (one per second), "
                 "not through ELB. From N = 3 one target is a CloudFront distribution named by its domain "
                 "name: a window of its own (scope CLOUDFRONT), set through CloudFront side by side with the "
                 "regional window; the proxy forwards CloudFront's calls unpaced and uncounted (AWS publishes "
                 "no rate; maint paces its writes at one per second), and the floor counts the N-1 regional "
                 "targets.\n")
        L.append(sections["mixed"])
        L.append("")

    if sections.get("org"):
        L.append("## Many accounts and Regions: an organisation-wide switch (under the quotas)\n")
        L.append(ORG_INTRO)
        L.append(sections["org"])
        L.append("")

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


def read_allowlist(summary_path, divan_path):
    """The allowlist micro-benchmarks' figures for the report: `metrics`
    (the summary's METRIC lines), `allowlist_summary` (the summary without
    them) and `divan` (divan's table), each when its file exists."""
    found = {}
    if summary_path and os.path.exists(summary_path):
        text = open(summary_path).read()
        found["metrics"] = read_metrics(text)
        found["allowlist_summary"] = re.sub(r"\n*METRIC .*", "", text).strip()
    if divan_path and os.path.exists(divan_path):
        divan = open(divan_path).read()
        m = re.search(r"^allowlist\s+fastest", divan, re.M)  # divan's table (its first line goes to stderr)
        found["divan"] = divan[m.start():] if m else divan
    return found
