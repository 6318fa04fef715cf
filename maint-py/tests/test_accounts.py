"""Many accounts and Regions (issue 23) through `maint.Client(config=...)`,
against moto, where credentials from `AssumeRole` act in the role's account:
two accounts, each with an ALB of the same name in two Regions; one `enter`
puts both services into maintenance in their own accounts only, `status`
names the account of each target, `exit` leaves nothing anywhere. A role
that cannot be assumed (AccessDenied, answered on the wire by
tests/moto/latency_proxy.py --deny-role, since moto lets any role be
assumed) fails the change before anything changes in any account, naming
the role."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import maint
import seed  # tests/moto/seed.py, put on sys.path by conftest
from test_latency_proxy import LatencyProxy

ACCOUNTS = {"prod": "111111111111", "stage": "222222222222"}
REGIONS = ["us-east-1", "eu-west-1"]


def state(endpoint: str, account: str | None, region: str) -> dict:
    seed.in_account(account)
    try:
        return seed.account_state(endpoint, region)
    finally:
        seed.in_account(None)


def organisation(endpoint: str, tmp_path: Path, deny: str | None = None) -> tuple[Path, dict]:
    """An ALB `<svc>-lb` in each account and Region, a service per account
    (`<tag>-prod`, `<tag>-stage`), and the config naming both accounts'
    roles and Regions."""
    tag = f"org{uuid.uuid4().hex[:8]}"
    services = {account: f"{tag}-{account}" for account in ACCOUNTS}
    for account, account_id in ACCOUNTS.items():
        seed.in_account(account_id)
        try:
            for region in REGIONS:
                seed.create_load_balancers(endpoint, [f"{services[account]}-lb"], region=region)
        finally:
            seed.in_account(None)
    text = ""
    for account, account_id in ACCOUNTS.items():
        text += (
            f'[accounts.{account}]\nrole_arn = "arn:aws:iam::{account_id}:role/maint"\n'
            f"regions = {REGIONS!r}\n".replace("'", '"')
        )
    for account, service in services.items():
        text += f'[services.{service}]\naccount = "{account}"\nload_balancers = ["{service}-lb"]\n'
    path = tmp_path / "maint.toml"
    path.write_text(text, encoding="utf-8")
    return path, services


def windows_everywhere(endpoint: str, services: dict) -> dict:
    """Where each service's web ACL is: {(account id, region): [names]}."""
    wanted = {f"maint-svc-{s}" for s in services.values()}
    found = {}
    for account_id in [*ACCOUNTS.values(), None]:
        for region in REGIONS:
            names = [n for n in state(endpoint, account_id, region)["web_acls"] if n in wanted]
            if names:
                found[(account_id, region)] = names
    return found


def test_one_enter_reaches_two_accounts_in_two_regions_each_in_its_own_account(
    moto_endpoint, tmp_path
):
    config, services = organisation(moto_endpoint, tmp_path)
    client = maint.Client(region="us-east-1", endpoint_url=moto_endpoint, config=config)
    entered = client.enter(*services.values(), allow=["203.0.113.0/24"], reason="db upgrade")
    assert len(entered) == 4, [r.to_dict() for r in entered]
    assert all(r.ok and r.changed for r in entered), [r.to_dict() for r in entered]
    assert sorted(r.account for r in entered) == ["prod", "prod", "stage", "stage"]
    for r in entered:
        assert f":{ACCOUNTS[r.account]}:" in r.load_balancer_arn
    # Each account's window lands in that account only, in both Regions.
    assert windows_everywhere(moto_endpoint, services) == {
        (ACCOUNTS[account], region): [f"maint-svc-{service}"]
        for account, service in services.items()
        for region in REGIONS
    }
    shown = client.status(*services.values())
    assert {(s.account, s.state) for s in shown} == {
        ("prod", "maintenance"),
        ("stage", "maintenance"),
    }
    assert len(shown) == 4
    left = client.exit(*services.values())
    assert all(r.ok and r.changed for r in left), [r.to_dict() for r in left]
    assert windows_everywhere(moto_endpoint, services) == {}


def test_a_role_that_cannot_be_assumed_changes_nothing_in_any_account(moto_endpoint, tmp_path):
    config, services = organisation(moto_endpoint, tmp_path)
    denied = f"arn:aws:iam::{ACCOUNTS['stage']}:role/maint"
    proxy = LatencyProxy(
        moto_endpoint, tmp_path / "proxy.port", "--delay-ms", "0", "--deny-role", denied
    )
    try:
        client = maint.Client(region="us-east-1", endpoint_url=proxy.url, config=config)
        with pytest.raises(maint.AwsError) as raised:
            client.enter(*services.values(), allow=["203.0.113.0/24"])
        message = str(raised.value)
        assert denied in message, message
        assert "AccessDenied" in message, message
        assert "account stage" in message, message
        assert message.startswith("1 account could not be acted in, so nothing was changed"), message
        # Reported once, though the account has two Regions.
        assert message.count("cannot assume the role") == 1, message
        assert proxy.counts()["calls"].get("sts:AssumeRole") == 2  # prod once, stage once
        assert windows_everywhere(moto_endpoint, services) == {}
    finally:
        proxy.stop()
