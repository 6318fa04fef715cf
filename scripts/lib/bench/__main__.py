"""The entry of the bench package (`python -m bench`, run by scripts/bench):
parses the arguments, runs each measurement in turn, each one's failure
kept for the report's Errors section, writes the report; exits 1 when a
measurement failed."""

import argparse
import re
import sys
import traceback

from .engines import PythonEngine, python_overhead_section, python_package_available, run_python_overhead
from .harness import sh
from .latency import cycle_tables, measure_cli, run_cycles
from .org import org_table, run_org_cycles
from .quota import mixed_table, quota_tables, run_mixed_cycles, run_quota_cycles
from .report import read_allowlist, write_report
from .switching import SWITCH_SCENARIOS, run_switch_cycles, switch_tables


def parse_args():
    p = argparse.ArgumentParser(prog="bench")
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
    p.add_argument("--only-mixed", action="store_true",
                   help="run only the mixed service (ALBs, API stages, a distribution) through the quota proxy")
    p.add_argument("--only-org", action="store_true",
                   help="run only the organisation (4 accounts x 2 Regions x N ALBs) through the quota proxy")
    a = p.parse_args()
    a.ns = [int(x) for x in a.ns.split(",") if x.strip()]
    a.only = a.only_switch or a.only_mixed or a.only_org
    return a


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def main():
    a = parse_args()
    sections = {"errors": [], "target_notes": []}
    sections.update(read_allowlist(a.allowlist_summary, a.allowlist_divan))

    # The CLI under AWS-like latency, without quotas.
    if a.only:
        a.no_python = True
        given = next(f for f, on in (("--only-switch", a.only_switch), ("--only-mixed", a.only_mixed),
                                     ("--only-org", a.only_org)) if on)
        sections["cli_note"] = sections["quota_note"] = f"{given} given"
    if a.maint and not a.only:
        log(f"CLI cycle: N = {a.ns}, {a.runs} run(s)")
        m = re.search(r"--concurrency\b[^\[]*\[default: (\d+)\]", sh([a.maint, "--help"]))
        sections["cli_concurrency"] = m.group(1) if m else None
        try:
            conc = int(sections["cli_concurrency"] or 0)
            measure_cli(a.maint, a.moto, a.proxy, a.ns, a.runs, conc, sections, log)
        except Exception:  # noqa: BLE001
            sections["cli_note"] = "the CLI cycle failed, see Errors"
            sections["errors"].append("CLI cycle:\n" + traceback.format_exc())
    elif not a.only:
        sections["cli_note"] = a.cli_note or "no maint binary given"

    # The quota model, the default: one service of N ALBs.
    if a.only:
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

    # A service of ALBs and API Gateway stages (issue 22), under the quotas.
    if a.maint and a.quota_proxy and not (a.only_switch or a.only_org):
        log(f"mixed service (ALBs, API stages, a distribution): N = {a.ns}")
        try:
            sections["mixed"] = mixed_table(run_mixed_cycles(a.maint, a.moto, a.quota_proxy, a.ns, log), a.ns)
        except Exception:  # noqa: BLE001
            sections["errors"].append("mixed service:\n" + traceback.format_exc())

    # Many accounts and Regions (issue 23), under the quotas: with
    # --only-org, N from --ns; else the N up to 10 (N = 50 would be 400
    # ALBs), and in quick mode only the largest N (CI: the scenario runs).
    if a.maint and a.quota_proxy and not (a.only_switch or a.only_mixed):
        if a.only_org:
            org_ns = a.ns
        elif a.mode == "quick":
            org_ns = a.ns[-1:]
        else:
            org_ns = [n for n in a.ns if n <= 10]
        log(f"organisation (4 accounts x 2 Regions): N = {org_ns} per account-Region")
        try:
            sections["org"] = org_table(run_org_cycles(a.maint, a.moto, a.quota_proxy, org_ns, log), org_ns)
        except Exception:  # noqa: BLE001
            sections["errors"].append("organisation:\n" + traceback.format_exc())
    if a.only_mixed or a.only_org:
        write_report(a, sections)
        log(f"wrote {a.out}")
        for e in sections["errors"]:
            log(e)
        return 1 if sections["errors"] else 0

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

    # HOOK: the Python package (see engines.PythonEngine).
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
            sections["python_overhead"] = python_overhead_section(rows, n)
        except Exception:  # noqa: BLE001
            sections["errors"].append("Python call overhead:\n" + traceback.format_exc())

    write_report(a, sections)
    log(f"wrote {a.out}")
    for e in sections["errors"]:
        log(e)
    return 1 if sections["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
