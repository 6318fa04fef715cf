"""maint's Python logging and progress: its events reach `logging` under the
`maint` logger hierarchy (nothing printed behind the caller's back), and
`on_progress` receives the engine's own progress, in order, through the
project's AWS-like proxy with AWS WAF's call quotas
(tests/moto/latency_proxy.py --quotas).
"""

from __future__ import annotations

import logging
import os

import pytest

from conftest import REGION
from test_latency_proxy import start_proxy, unique  # noqa: F401 (a fixture)

import seed


@pytest.fixture
def unpaced_then_paced():
    """maint paces itself to AWS's quotas unless told otherwise; the
    conftest turns pacing off for moto. Each test sets what it needs."""
    before = os.environ.get("MAINT_WAF_QUOTA_PERCENT")
    yield
    if before is None:
        os.environ.pop("MAINT_WAF_QUOTA_PERCENT", None)
    else:
        os.environ["MAINT_WAF_QUOTA_PERCENT"] = before


def test_a_throttled_then_successful_enter_logs_under_maint(
    moto_endpoint, start_proxy, caplog, unpaced_then_paced
):
    import maint

    # Unpaced against AWS's quotas: associations get throttled, then retried.
    os.environ["MAINT_WAF_QUOTA_PERCENT"] = "0"
    proxy = start_proxy("--delay-ms", "20", "--quotas")
    names = [unique("logs") for _ in range(4)]
    seed.create_load_balancers(moto_endpoint, names, region=REGION)
    client = maint.Client(region=REGION, endpoint_url=proxy.url, concurrency=8)
    with caplog.at_level(logging.INFO, logger="maint"):
        results = client.enter(*names, allow=["192.0.2.0/24"])
    assert all(r.ok for r in results), results
    assert proxy.counts()["throttled"] > 0, "the quota model throttled nothing"
    records = [r for r in caplog.records if r.name.startswith("maint")]
    assert records, "no log record from maint"
    assert all(r.name == "maint" or r.name.startswith("maint.") for r in records)
    throttled = [r for r in records if getattr(r, "aws_error_code", None) == "ThrottlingException"]
    assert throttled, [(r.name, r.levelname, r.getMessage()) for r in records][:20]
    assert all(r.levelno == logging.WARNING for r in throttled)
    assert {r.name for r in throttled} == {"maint.backend.waf.calls"}
    assert any(r.levelno == logging.INFO for r in records), "info records at INFO"
    assert any(getattr(r, "maint_target", None) for r in records), "records name their target"
    client.exit(*names)


def test_with_logging_off_nothing_is_recorded_or_printed(
    moto_endpoint, make_lb, caplog, capfd
):
    import maint

    name, _ = make_lb()
    client = maint.Client(region=REGION, endpoint_url=moto_endpoint)
    with caplog.at_level(logging.CRITICAL, logger="maint"):
        client.enter(name, allow=["192.0.2.0/24"])
        client.exit(name)
    assert [r for r in caplog.records if r.name.startswith("maint")] == []
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out, err)


def test_progress_events_come_in_order_for_a_five_alb_service(
    moto_endpoint, start_proxy, tmp_path, caplog, unpaced_then_paced
):
    import maint

    # Paced to AWS's quotas: the engine says what it waits on.
    os.environ["MAINT_WAF_QUOTA_PERCENT"] = "100"
    proxy = start_proxy("--delay-ms", "20", "--quotas")
    names = [unique("prog") for _ in range(5)]
    seed.create_load_balancers(moto_endpoint, names, region=REGION)
    service = unique("svc")
    quoted = ", ".join(f'"{n}"' for n in names)
    config = tmp_path / "maint.toml"
    config.write_text(f"[services.{service}]\nload_balancers = [{quoted}]\n")
    client = maint.Client(region=REGION, endpoint_url=proxy.url, config=config)
    events: list[maint.ProgressEvent] = []
    results = client.enter(service, on_progress=events.append)
    assert all(r.ok for r in results)
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and events[0].total == 5, kinds
    done = [e for e in events if e.kind == "target_done"]
    assert sorted(e.index for e in done) == [0, 1, 2, 3, 4]
    assert all(e.ok and e.changed and e.target.startswith(f"{service}/") for e in done)
    assert "waiting" in kinds, kinds
    assert kinds.index("waiting") < kinds.index("target_done"), "waits come before the results"
    assert all(isinstance(e, maint.ProgressEvent) and e.message for e in events)

    # A callback that raises is logged; the switch goes on and completes.
    def broken(event):
        raise RuntimeError("the caller's bug")

    with caplog.at_level(logging.ERROR, logger="maint"):
        results = client.exit(service, on_progress=broken)
    assert all(r.ok and r.changed for r in results), results
    raised = [r for r in caplog.records if "on_progress raised" in r.getMessage()]
    assert raised and raised[0].exc_info is not None
    assert [s.state for s in client.status(service)] == ["normal"] * 5
