"""The CLI and the Python package are two thin front ends over one engine:
the same scenario gives the same outcome, the same error kind, and the CLI
exit code that matches the Python exception. Each scenario runs the real
`maint` binary (built by `cargo test --workspace`, or $MAINT_CLI) and
`maint.Client` against the same moto server.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import maint
import seed
from conftest import REGION, ROOT

OTHER_REGION = "eu-west-1"

# The README's exit codes, and the exception each stands for in Python.
EXIT_FAILED, EXIT_BAD_INPUT = 1, 2


def cli_binary() -> Path:
    explicit = os.environ.get("MAINT_CLI")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = Path(explicit) if explicit else target / "debug" / "maint"
    if not binary.is_file():
        pytest.fail(f"{binary} is missing: run ./scripts/test (cargo test builds it) or set MAINT_CLI")
    return binary


def cli(moto_endpoint: str, cwd: Path, *args: str) -> tuple[int, Any, str]:
    """Runs `maint --json ARGS`; returns (exit code, parsed stdout or None, stderr)."""
    env = {
        key: value for key, value in os.environ.items() if key.startswith(("AWS_", "MAINT_", "PATH", "HOME"))
    }
    env.update(AWS_ENDPOINT_URL=moto_endpoint, AWS_REGION=REGION, NO_COLOR="1")
    done = subprocess.run(
        [str(cli_binary()), "--json", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    out = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, out, done.stderr


def client(moto_endpoint: str, **options: Any) -> maint.Client:
    return maint.Client(region=REGION, endpoint_url=moto_endpoint, **options)


def exception_of(call: Any) -> maint.MaintError:
    with pytest.raises(maint.MaintError) as caught:
        call()
    return caught.value


def test_a_service_with_an_unknown_load_balancer_is_refused_alike(moto_endpoint, make_lb, tmp_path):
    good, _ = make_lb(prefix="agree-good")
    config = tmp_path / "maint.toml"
    config.write_text(
        f'[services.shop]\nload_balancers = ["{good}", "agree-no-such-lb"]\n', encoding="utf-8"
    )
    code, out, stderr = cli(moto_endpoint, tmp_path, "enter", "shop")
    error = exception_of(lambda: client(moto_endpoint, config=config).enter("shop"))

    assert code == EXIT_BAD_INPUT and out is None, stderr
    assert isinstance(error, maint.TargetNotFoundError)
    assert error.kind == "target_not_found" and error.target == "agree-no-such-lb"
    for text in (stderr, str(error)):
        assert "nothing was changed" in text and "shop/agree-no-such-lb" in text
    # Neither front end touched the load balancer that exists.
    _, status, _ = cli(moto_endpoint, tmp_path, "status", good)
    assert status["targets"][0]["state"] == "normal"
    # status reads what it can and reports the rest, alike.
    code, out, _ = cli(moto_endpoint, tmp_path, "status", "shop")
    lenient = client(moto_endpoint, config=config, raise_on_error=False).status("shop")
    assert code == EXIT_BAD_INPUT
    assert out["targets"] == [s.to_dict() for s in lenient]
    assert [t["state"] for t in out["targets"]] == ["normal", "error"]


def test_a_foreign_web_acl_on_one_target_fails_alike(moto_endpoint, make_lb, tmp_path, aws):
    (a, _), (b, b_arn) = make_lb(prefix="agree-a"), make_lb(prefix="agree-b")
    foreign = seed.create_web_acl(moto_endpoint, f"team-{b}", associate=b_arn)

    code, out, stderr = cli(moto_endpoint, tmp_path, "enter", a, b, "--allow", "192.0.2.1")
    assert code == EXIT_FAILED, stderr
    cli(moto_endpoint, tmp_path, "exit", a)
    error = exception_of(lambda: client(moto_endpoint).enter(a, b, allow=["192.0.2.1"]))
    assert isinstance(error, maint.ForeignWebAclError) and error.kind == "foreign_web_acl"
    assert error.web_acl_arn == foreign
    python = [r.to_dict() for r in error.results]
    # Alike but for how each front end words the consent to inject: the
    # CLI's flag, Python's keyword argument.
    cli_message = out["results"][1]["error"]["message"]
    assert "--inject," in cli_message and "inject=True" not in cli_message, cli_message
    assert "inject=True," in python[1]["error"]["message"], python[1]["error"]["message"]
    out["results"][1]["error"]["message"] = cli_message.replace("--inject,", "inject=True,")
    assert out["results"] == python
    assert out["results"][1]["error"]["kind"] == "foreign_web_acl"
    assert out["summary"] == {"targets": 2, "changed": 1, "unchanged": 0, "failed": 1}
    client(moto_endpoint).exit(a)


def test_a_dry_run_plans_alike_and_changes_nothing(moto_endpoint, make_lb, tmp_path, aws):
    name, _ = make_lb(prefix="agree-dry")
    code, out, stderr = cli(moto_endpoint, tmp_path, "enter", name, "--allow", "192.0.2.1", "--dry-run")
    python = client(moto_endpoint).enter(name, allow=["192.0.2.1"], dry_run=True)
    assert code == 0, stderr
    assert out["dry_run"] is True
    assert out["results"] == [r.to_dict() for r in python]
    assert python[0].dry_run and python[0].changed
    acls = aws["wafv2"].list_web_acls(Scope="REGIONAL", Limit=100)["WebACLs"]  # type: ignore[attr-defined]
    assert not [acl for acl in acls if name in acl["Name"]], "a dry run creates nothing"


def test_cleanup_covers_both_regions_of_the_config_alike(moto_endpoint, make_lb, tmp_path):
    here, here_arn = make_lb(prefix="agree-here")
    there = f"agree-there-{here[-8:]}"
    [there_arn] = seed.create_load_balancers(moto_endpoint, [there], region=OTHER_REGION)
    config = tmp_path / "maint.toml"
    config.write_text(
        f'region = "{REGION}"\n'
        f'[services.here]\nload_balancers = ["{here}"]\n'
        f'[services.there]\nload_balancers = ["{there}"]\nregion = "{OTHER_REGION}"\n',
        encoding="utf-8",
    )
    # Leftovers of a crashed run in each region (tagged as maint's, with no
    # creation time: older than cleanup's grace period).
    mine = {}
    for region, lb in ((REGION, here_arn), (OTHER_REGION, there_arn)):
        name = f"maint-agree-{region}-{here[-8:]}"
        mine[name] = seed.create_web_acl(
            moto_endpoint, name, region, tags={"maint:managed-by": "maint", "maint:load-balancer": lb}
        )

    code, out, stderr = cli(moto_endpoint, tmp_path, "--config", str(config), "cleanup", "--dry-run")
    assert code == 0, stderr
    assert out["regions"] == [REGION, OTHER_REGION] and out["errors"] == []
    python = client(moto_endpoint, config=config).cleanup(dry_run=True)
    cli_found = sorted((r["region"], r["name"]) for r in out["resources"] if r["name"] in mine)
    python_found = sorted((l.region, l.name) for l in python if l.name in mine)
    assert cli_found == python_found == sorted(
        (region, name) for name in mine for region in (REGION, OTHER_REGION) if region in name
    )

    deleted = client(moto_endpoint, config=config).cleanup()
    assert {l.name for l in deleted} >= set(mine)
    _, again, _ = cli(moto_endpoint, tmp_path, "--config", str(config), "cleanup", "--dry-run")
    assert not [r for r in again["resources"] if r["name"] in mine]
