"""Switching without associating (issue 10), under AWS WAF's call-rate
quotas (the quota proxy): an armed window, maint's rule injected into a
security team's web ACL shared by the N ALBs, and a second service scoped
to its own host on ALBs another service is in (issue 21: its part added to
that service's web ACL); `enter` and `exit` timed, and their tables."""

from .harness import ALLOW, REGION, cli_env, moto_reset, seed, seed_albs, service_folder
from .quota import quota_floor, run_paced

SWITCH_SCENARIOS = ["armed", "injected", "shared"]
# The target: at 100 ms per call, enter and exit under 1 s whatever N, one
# web ACL write per ACL (the service's one ACL), nothing throttled.
SWITCH_TARGET_S = 1.0
WAF_WRITES = ("Create", "Update", "Delete", "Put", "Associate", "Disassociate", "Tag", "Untag")
MAINT_RULE = "maint-maintenance"
MAINT_BODIES = ("maint-page", "maint-state")


def run_counted(binary, args, env, cwd, proxy, n):
    """Runs `maint --json ARGS` once through the quota proxy after the quotas
    have refilled; its wall time (less the proxy's emulation time), calls,
    writes (every WAF mutating call) and web ACL writes, throttled calls and
    failed targets."""
    p, wall, counts, out = run_paced(binary, args, env, cwd, proxy, n)
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
      after enter, maint's rule at priority 2 with the security rules below
      the first run of three free priorities moved up by three
      (injected_rules) and maint's response bodies added; after exit,
      exactly the original rules and bodies back.

    {n: {command: figures}}, figures as run_counted's plus, for the injected
    commands, `check`: what the ACL looked like (None: as expected)."""
    env = cli_env(proxy)
    results = {}
    enter = ["enter", "bench", "--allow", ALLOW, "--reason", "benchmark"]
    for n in ns:
        if scenario == "armed":
            names = seed_albs(moto, n, prefix="armed-alb")
            cwd = service_folder("maint-armed-", names)
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
        elif scenario == "shared":
            names = seed_albs(moto, n, prefix="shared-alb")
            quoted = ", ".join(f'"{name}"' for name in names)
            cwd = service_folder("maint-shared-", names,
                                 'hosts = ["bench.example.com"]\n\n[services.other]\n'
                                 f'load_balancers = [{quoted}]\nhosts = ["other.example.com"]\n')
            # bench in maintenance first (associating each ALB: not timed).
            setup = run_counted(binary, enter, env, cwd, proxy, n)
            waf = seed.client("wafv2", moto, REGION)
            listed = waf.list_web_acls(Scope="REGIONAL", Limit=100)["WebACLs"]
            arn = next((a["ARN"] for a in listed if a["Name"] == "maint-svc-bench"), None)
            before = rules_of(moto, arn) if arn else None
            per = {}
            other = ["enter", "other", "--allow", ALLOW, "--reason", "benchmark"]
            for op, args in (("enter", other), ("exit", ["exit", "other"])):
                per[op] = r = run_counted(binary, args, env, cwd, proxy, n)
                after = rules_of(moto, arn) if arn else None
                if setup["failed"] or setup["code"] or before is None:
                    r["check"] = f"setup: enter bench failed: {setup['error']}"
                elif op == "enter":
                    # other's part first, its own maint-p<id>- rules; bench's
                    # rules all kept (moved down to make room, as an
                    # injection moves a web ACL's rules).
                    added = [name for _, name in after[0] if name.startswith("maint-p")]
                    kept = sorted(name for _, name in after[0] if not name.startswith("maint-p"))
                    first = min(after[0])[1] if after[0] else ""
                    ok = added and first.startswith("maint-p") and kept == sorted(n for _, n in before[0])
                    r["check"] = None if ok else f"rules {after[0]}"
                else:
                    r["check"] = None if after == before else f"rules {after[0]}, bodies {after[1]}"
                log(f"  shared N={n} {op}: {r['wall']:.2f} s, {r['counts']['total']} calls, "
                    f"{r['acl_writes']} web ACL writes ({r['writes']} in all), {r['counts']['throttled']} "
                    f"throttled, {r['failed']} failed, exit {r['code']}"
                    + (f": {r['error']}" if r["error"] else "")
                    + ("" if r["check"] is None else f"; the ACL is not as expected: {r['check']}"))
            run_counted(binary, ["exit", "bench"], env, cwd, proxy, n)
            results[n] = per
        else:
            moto_reset(moto)
            names = [f"inject-alb-{i:03d}" for i in range(n)]
            arns = seed.create_load_balancers(moto, names, region=REGION)
            security = seed.create_security_web_acl(moto, "security-team-acl", associate=arns, region=REGION)
            before = rules_of(moto, security["arn"])
            cwd = service_folder("maint-inject-", names, 'existing_web_acl = "inject"\n')
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
