"""What the measurements are held to: the AWS API call budgets shared with
tests/tests/api_calls.rs (tests/api-call-budgets.json), the benchmarks
issue's time targets, and the verdict the report writes next to each."""

import json

from .harness import ROOT

# AWS API call budgets (shared with tests/tests/api_calls.rs): calls per
# target, not counting at most `region_wide.max` region-wide list calls per
# command. Each entry of the file says why.
BUDGETS = json.loads((ROOT / "tests" / "api-call-budgets.json").read_text(encoding="utf-8"))
REGION_WIDE = tuple(BUDGETS["region_wide"]["operations"])
REGION_WIDE_MAX = BUDGETS["region_wide"]["max"]
CALL_TARGETS = {op: entry["max"] for op, entry in BUDGETS["cli"].items()}
# Why an operation makes the calls it makes beyond its target (design
# choices, not sequencing): stated in the report next to the miss. From the
# `over_by_design` of the budgets file.
WHY_MORE_CALLS = {op: e["over_by_design"] for op, e in BUDGETS["cli"].items() if e.get("over_by_design")}
# Targets (from the benchmarks issue): ratio T(50)/T(1) at 100 ms per call.
RATIO_TARGETS = {"cold enter": 3.0, "exit": 3.0}
FOLD_TARGET_MS = 5.0


def verdict(measured, limit, unit=""):
    if measured is None:
        return "not measured"
    if measured <= limit:
        return f"**met** ({limit - measured:.2f}{unit} to spare)"
    if limit == 0:
        return f"**missed** ({measured}{unit})"
    return f"**missed** by {measured - limit:.2f}{unit} ({measured / limit:.2f}× the target)"
