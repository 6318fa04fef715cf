"""Many accounts and Regions (issue 23): an organisation-wide switch under
AWS WAF's call-rate quotas. ORG_ACCOUNTS accounts (each assumed through its
role, `[accounts.NAME] role_arn`) x ORG_REGIONS Regions x N ALBs, one config
service an account (no `region` of its own: the same N names in each Region
of its account), through the quota proxy (tests/moto/latency_proxy.py
--quotas, which paces and counts per account and Region): one command
across the organisation, then the accounts one after another; and its
table."""

import tempfile
from pathlib import Path

from .harness import ALLOW, cli_env, moto_reset, seed
from .quota import quota_floor, run_paced
from .targets import verdict

# Twelve-digit account ids of the organisation's member accounts (moto acts
# in a role's account with the credentials AssumeRole gives).
ORG_ACCOUNTS = ["100000000000", "200000000000", "300000000000", "400000000000"]
ORG_REGIONS = ["us-east-1", "eu-west-1"]
# Target: the org-wide command within 15% of the slowest account-Region's
# floor, and at most 5% of any account-Region's WAF calls throttled.
ORG_RATIO_TARGET = 1.15
ORG_THROTTLED_SHARE_TARGET = 0.05
ORG_OPS = ["enter", "exit"]


def org_services():
    """The config services, one an account: [(service, account id)]."""
    return [(f"org{i}", account) for i, account in enumerate(ORG_ACCOUNTS)]


def alb_names(service, n):
    """The n ALB names of `service` (the same in each of its Regions)."""
    return [f"{service}-alb-{j:03d}" for j in range(n)]


def seed_org(moto, n):
    """Resets moto and creates each service's n ALBs in each Region of its
    account (tests/moto/seed.py in_account: as role maint-seed there),
    straight to moto."""
    moto_reset(moto)
    try:
        for service, account in org_services():
            seed.in_account(account)
            for region in ORG_REGIONS:
                seed.create_load_balancers(moto, alb_names(service, n), region=region)
    finally:
        seed.in_account(None)


def org_folder(n):
    """A fresh folder whose maint.toml names the accounts (role maint in
    each, both Regions) and a service of n ALB names in each; returns it."""
    regions = ", ".join(f'"{r}"' for r in ORG_REGIONS)
    lines = []
    for i, account in enumerate(ORG_ACCOUNTS):
        lines += [f"[accounts.acct{i}]", f'role_arn = "arn:aws:iam::{account}:role/maint"',
                  f"regions = [{regions}]"]
    for i, (service, _) in enumerate(org_services()):
        quoted = ", ".join(f'"{name}"' for name in alb_names(service, n))
        lines += [f"[services.{service}]", f'account = "acct{i}"', f"load_balancers = [{quoted}]"]
    cwd = tempfile.mkdtemp(prefix="maint-org-")
    Path(cwd, "maint.toml").write_text("\n".join(lines) + "\n")
    return cwd


def org_measure(binary, args, env, cwd, proxy, n, targets):
    """One paced `maint --json ARGS` through the quota proxy (quota.run_paced)
    over `targets` targets, checked: `failed` counts the summary's failed
    targets and every result that is not "ok" or is missing. The wall time
    is the whole process's: the emulator's own ListResourcesForWebACL time
    (`emulation`) is summed over calls that overlap across account-Regions,
    so taking it off, as quota.measure does, would take off too much."""
    p, wall, counts, out = run_paced(binary, args, env, cwd, proxy, n)
    results = out.get("results", [])
    not_ok = sum(1 for t in results if t.get("result") != "ok") + max(0, targets - len(results))
    failed = max(out.get("summary", {}).get("failed", 0), not_ok)
    emulation = counts.get("emulation_seconds", 0.0)
    return {"wall": wall, "emulation": emulation, "counts": counts, "failed": failed,
            "code": p.returncode}


def merge_counts(runs):
    """The proxy's counts over several commands: total, throttled, and
    by_place summed."""
    merged = {"total": 0, "throttled": 0, "by_place": {}}
    for r in runs:
        c = r["counts"]
        merged["total"] += c["total"]
        merged["throttled"] += c["throttled"]
        for place, v in c.get("by_place", {}).items():
            m = merged["by_place"].setdefault(place, {"calls": 0, "throttled": 0})
            m["calls"] += v["calls"]
            m["throttled"] += v["throttled"]
    return merged


def worst_place(counts):
    """(place, throttled share) of the account-Region whose WAF calls were
    throttled the most, as a share of its calls; (None, 0.0) without any."""
    worst, share = None, 0.0
    for place, v in sorted(counts.get("by_place", {}).items()):
        s = v["throttled"] / v["calls"] if v["calls"] else 0.0
        if worst is None or s > share:
            worst, share = place, s
    return worst, share


def run_org_cycles(binary, moto, proxy, ns, log):
    """For each N (ALBs per account-Region): the organisation seeded
    (seed_org) and configured (org_folder), then through the quota proxy
    with the real CLI, each command paced (the quotas refill first):
    **org-wide**: `enter org0..org3 --allow ALLOW --reason benchmark` in one
    command, then `exit org0..org3`; **one account at a time**: `enter
    orgI ...` for each service in turn, then `exit orgI` for each (the
    runs of each kept). {n: {(run, op): [measurement, ...]}}."""
    env = cli_env(proxy)
    services = [service for service, _ in org_services()]
    enter = ["--allow", ALLOW, "--reason", "benchmark"]
    results = {}
    for n in ns:
        seed_org(moto, n)
        cwd = org_folder(n)
        every = len(ORG_ACCOUNTS) * len(ORG_REGIONS) * n
        per = {}
        for op in ORG_OPS:
            args = ["enter", *services, *enter] if op == "enter" else ["exit", *services]
            r = org_measure(binary, args, env, cwd, proxy, n, every)
            per[("org-wide", op)] = [r]
            log(f"  org N={n} org-wide {op}: {r['wall']:.2f} s (floor {quota_floor(op, n):.0f} s), "
                f"{r['counts']['total']} calls, {r['counts']['throttled']} throttled, {r['failed']} failed; "
                f"by place {place_summary(r['counts'])}")
        for op in ORG_OPS:
            runs = per[("one account at a time", op)] = []
            for service in services:
                args = ["enter", service, *enter] if op == "enter" else ["exit", service]
                runs.append(r := org_measure(binary, args, env, cwd, proxy, n, every // len(services)))
                log(f"  org N={n} {op} {service}: {r['wall']:.2f} s, {r['counts']['total']} calls, "
                    f"{r['counts']['throttled']} throttled, {r['failed']} failed")
        results[n] = per
    return results


def place_summary(counts):
    """The proxy's WAF calls per account-Region, in short: `PLACE calls/throttled`."""
    return ", ".join(f"{place} {v['calls']}/{v['throttled']}"
                     for place, v in sorted(counts.get("by_place", {}).items()))


def org_table(results, ns):
    """The organisation's table (wall time against the slowest
    account-Region's quota floor, calls, throttled, failed targets) and the
    targets' lines, with their verdicts."""
    rows = ["| ALBs per account-Region (targets) | run | command | wall time | quota floor | wall / floor "
            "| AWS calls | throttled | worst account-Region throttled | failed targets | emulator's own time |",
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    worst_share, worst_ratio, failed = 0.0, None, 0
    for n in ns:
        every = len(ORG_ACCOUNTS) * len(ORG_REGIONS) * n
        for (run, op), runs in results[n].items():
            c = merge_counts(runs)
            wall = sum(r["wall"] for r in runs)
            floor = quota_floor(op, n)
            ratio = wall / floor if floor > 0 else None
            if run == "org-wide" and op == "enter" and ratio is not None:
                worst_ratio = max(worst_ratio or 0.0, ratio)
            place, share = worst_place(c)
            worst_share = max(worst_share, share)
            fails = sum(r["failed"] for r in runs)
            failed += fails
            shown = f"{wall:.2f} s"
            if len(runs) > 1:
                shown += " (" + " + ".join(f"{r['wall']:.2f}" for r in runs) + ")"
            rows.append(f"| {n} ({every}) | {run} | {op} | {shown} | {floor:.0f} s | "
                        f"{'–' if ratio is None else f'{ratio:.2f}'} | {c['total']} | {c['throttled']} | "
                        f"{c['by_place'].get(place, {}).get('throttled', 0)} of "
                        f"{c['by_place'].get(place, {}).get('calls', 0)} ({share:.1%}, {place or '–'}) | "
                        f"{fails} | {sum(r['emulation'] for r in runs):.2f} s |")
    targets = [
        "", "| target | measured | verdict |", "|---|---:|---|",
        f"| org-wide enter ≤ {ORG_RATIO_TARGET:g}× the quota floor | "
        f"{'–' if worst_ratio is None else f'{worst_ratio:.2f}×'} | {verdict(worst_ratio, ORG_RATIO_TARGET, 'x')} |",
        f"| throttled share of any account-Region ≤ {ORG_THROTTLED_SHARE_TARGET:.0%} | {worst_share:.1%} | "
        f"{verdict(worst_share * 100, ORG_THROTTLED_SHARE_TARGET * 100, '%')} |",
        f"| failed targets: 0 | {failed} | {verdict(failed, 0)} |",
    ]
    return "\n".join(rows + targets)


# The report's paragraph before the table (report.py; BENCHMARKS.md).
ORG_INTRO = (
    "Issue 23. The same quota proxy and pacing; it paces and counts each account and Region on its own "
    "(the access keys of the AssumeRole answers it relays are tied to the role's account; its `by_place` "
    "counts). Four member accounts (`100000000000` to `400000000000`), each `[accounts.acctI]` with "
    "`role_arn = \"arn:aws:iam::ID:role/maint\"` (assumed with STS) and `regions = [\"us-east-1\", "
    "\"eu-west-1\"]`; one service each (`org0` to `org3`) of N ALB names and no `region` of its own, so the "
    "same names are looked up in both Regions of its account: 8N targets (the ALBs seeded straight to "
    "moto in each account and Region, as its role `maint-seed`). **org-wide**: one "
    f"`enter org0 org1 org2 org3 --allow {ALLOW} --reason benchmark`, then one `exit org0 org1 org2 org3`; "
    "**one account at a time**: `enter orgI ...` for each account in turn, then `exit orgI` for each (the sum "
    "of the four wall times, each in brackets); each command after the quotas have refilled. The quota "
    "floor is the slowest account-Region's: AssociateWebACL (DisassociateWebACL) allows one call every 2 s "
    "per account and Region, so N associations in one account-Region take 2(N-1) s (18 s for N = 10), "
    "however many account-Regions go side by side; the sum one account at a time is shown against the same "
    "floor (its own floor is four times it). AWS calls include STS's AssumeRole (one per account); "
    "*throttled* is over WAF's calls, the worst account-Region's share beside it. *Wall time* is the "
    "whole command's: unlike above, the emulator's own ListResourcesForWebACL time (last column, summed over "
    "calls that overlap across account-Regions) is not taken off. Targets: org-wide enter within "
    f"{ORG_RATIO_TARGET:g}x the floor, at most {ORG_THROTTLED_SHARE_TARGET:.0%} of any account-Region's "
    "WAF calls throttled, no failed target (every result \"ok\").\n"
)
