"""The measuring half of scripts/bench (run from the project's .venv python
as `python -m bench` with scripts/lib on the path; the entry is
__main__.py).

scripts/bench starts moto and tests/moto/latency_proxy.py in front of it, runs
the allowlist micro-benchmarks, builds the CLI, then runs this package, which:

1. for each N: resets moto, seeds N ALBs in us-east-1 (tests/moto/seed.py,
   straight to moto, so seeding is neither delayed nor counted), then runs the
   real `maint` CLI through the proxy: cold enter, repeated enter, allowlist
   add, status, exit; wall time per command (median over the runs) and AWS API
   calls per target from the proxy's counts;
2. under AWS WAF's call-rate quotas (the quota proxy): a service of N ALBs
   through its cycle, then switching without associating: an armed window
   (`maint arm` first) and maint's rule injected into a security team's web
   ACL shared by the N ALBs, `enter` and `exit` timed (`--only-switch`: only
   these); a service of ALBs, API Gateway stages and a distribution
   (`--only-mixed`); an organisation, 4 accounts (roles assumed) x 2 Regions
   x N ALBs, switched in one command and one account at a time
   (`--only-org`);
3. the same cycle through the Python package (`import maint`), when it
   imports, and the package's call overhead over the Rust API;
4. writes BENCHMARKS.md (or --out) with the machine, settings, every figure,
   and the targets with whether each is met (the call targets are the `cli`
   budgets of tests/api-call-budgets.json).

One concern a module:

- __main__.py: the arguments, each measurement in the order above, the
  report, the exit status (1 when a measurement failed);
- harness.py: moto and the proxies (reset, counts), seeding, a config
  service's folder, a CLI run's environment, the shared workload;
- targets.py: the call budgets, the time targets, the verdicts;
- latency.py: the cycle under AWS-like latency (1, and 3's cycle), its tables;
- engines.py: the CLI and Python engines, the Python call overhead;
- quota.py: the quota model's cycle and table, the mixed service's (2);
- org.py: the organisation across accounts and Regions, its table (2);
- switching.py: the armed and injected scenarios and their tables (2);
- report.py: the machine, the report's text, the allowlist output read (4).

The proxy itself is tested by maint-py/tests/test_latency_proxy.py.
"""
