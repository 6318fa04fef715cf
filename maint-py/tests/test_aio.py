"""maint.aio.Client: the same calls as coroutines on the package's runtime,
through the project's AWS-like proxy with AWS WAF's call quotas (maint paces
itself, so a switch takes seconds): two services switched at once from one
loop, which stays responsive; a cancelled enter never leaves a target
half-switched without `status` saying so.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from conftest import REGION
from test_latency_proxy import start_proxy, unique  # noqa: F401 (a fixture)

import seed


@pytest.fixture
def paced():
    before = os.environ.get("MAINT_WAF_QUOTA_PERCENT")
    os.environ["MAINT_WAF_QUOTA_PERCENT"] = "100"
    yield
    if before is None:
        os.environ.pop("MAINT_WAF_QUOTA_PERCENT", None)
    else:
        os.environ["MAINT_WAF_QUOTA_PERCENT"] = before


def services(moto_endpoint, tmp_path, sizes):
    names = {}
    text = ""
    for size in sizes:
        service = unique("aio")
        lbs = [unique("aio-lb") for _ in range(size)]
        seed.create_load_balancers(moto_endpoint, lbs, region=REGION)
        names[service] = lbs
        quoted = ", ".join(f'"{n}"' for n in lbs)
        text += f"[services.{service}]\nload_balancers = [{quoted}]\n\n"
    config = tmp_path / "maint.toml"
    config.write_text(text)
    return names, config


def test_two_services_switch_at_once_from_one_loop(moto_endpoint, start_proxy, tmp_path, paced):
    import maint
    import maint.aio

    proxy = start_proxy("--delay-ms", "50", "--quotas")
    names, config = services(moto_endpoint, tmp_path, [2, 2])
    client = maint.aio.Client(region=REGION, endpoint_url=proxy.url, config=config)
    a, b = names

    async def main():
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.05)

        tick = asyncio.create_task(ticker())
        entered = await asyncio.gather(client.enter(a, allow=["192.0.2.0/24"]), client.enter(b))
        statuses = await client.status(a, b)
        exited = await asyncio.gather(client.exit(a), client.exit(b))
        done.set()
        await tick
        return entered, statuses, exited, ticks

    entered, statuses, exited, ticks = asyncio.run(main())
    assert all(r.ok and r.changed for results in entered for r in results), entered
    assert [s.state for s in statuses] == ["maintenance"] * 4
    assert all(r.ok for results in exited for r in results)
    # The loop kept running while AWS was waited on (each switch is paced to
    # one association every 2 s): it ticked all along.
    assert ticks >= 10, ticks


def test_a_cancelled_enter_is_finished_and_status_tells_the_truth(
    moto_endpoint, start_proxy, tmp_path, paced
):
    import maint.aio

    proxy = start_proxy("--delay-ms", "50", "--quotas")
    names, config = services(moto_endpoint, tmp_path, [3])
    [service] = names
    lbs = names[service]
    client = maint.aio.Client(region=REGION, endpoint_url=proxy.url, config=config)
    waf = seed.client("wafv2", moto_endpoint, REGION)
    elb = seed.client("elbv2", moto_endpoint, REGION)
    arns = {
        lb["LoadBalancerName"]: lb["LoadBalancerArn"]
        for lb in elb.describe_load_balancers(Names=lbs)["LoadBalancers"]
    }

    def on_the_wire(name):
        return "WebACL" in waf.get_web_acl_for_resource(ResourceArn=arns[name])

    async def main():
        task = asyncio.create_task(client.enter(service, allow=["192.0.2.0/24"]))
        await asyncio.sleep(1.0)  # the first association is made, others wait on the quota
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        seen = []
        for _ in range(40):
            # The switch goes on while status reads: what AWS holds just
            # before and just after status's own read bound what it can see.
            before = {lb: on_the_wire(lb) for lb in lbs}
            statuses = await client.status(service)
            after = {lb: on_the_wire(lb) for lb in lbs}
            seen.append([s.state for s in statuses])
            # What status says agrees with AWS, at every moment.
            for s in statuses:
                lb = s.target.split("/", 1)[1]
                assert (s.state == "maintenance") in (before[lb], after[lb]), (s, seen)
            if all(s.state == "maintenance" for s in statuses):
                return seen
            await asyncio.sleep(0.5)
        return seen

    seen = asyncio.run(main())
    # Cancelling stopped the waiting, not the switch: it went on to the end.
    assert seen[-1] == ["maintenance"] * 3, seen
    results = maint.Client(region=REGION, endpoint_url=proxy.url, config=config).exit(service)
    assert all(r.ok for r in results)
