"""examples/lambda/handler.py invoked locally against moto, as Lambda would
invoke it: enter and exit from events (and from a function URL's body),
the JSON report back, bad events answered without touching AWS."""

from __future__ import annotations

import importlib.util
import json
import os

from conftest import REGION, ROOT

import seed

HANDLER = ROOT / "examples" / "lambda" / "handler.py"


def load_handler(config):
    os.environ["MAINT_CONFIG"] = str(config)
    spec = importlib.util.spec_from_file_location("maint_lambda_handler", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lambda_handler_enters_and_exits_from_events(moto_endpoint, subnets, tmp_path):
    names = [f"lambda-{os.getpid()}-{i}" for i in range(2)]
    seed.create_load_balancers(moto_endpoint, names, region=REGION, subnets=subnets)
    quoted = ", ".join(f'"{n}"' for n in names)
    config = tmp_path / "maint.toml"
    config.write_text(f"[services.shop]\nload_balancers = [{quoted}]\n")
    os.environ["AWS_ENDPOINT_URL"] = moto_endpoint
    try:
        module = load_handler(config)
        entered = module.handler({
            "action": "enter", "service": "shop", "reason": "release 2.4",
            "allow": ["203.0.113.0/24"], "for_minutes": 90,
        })
        assert entered["ok"] is True, entered
        assert [r["changed"] for r in entered["results"]] == [True, True]
        json.dumps(entered)  # the report is plain JSON

        status = module.handler({"action": "status", "service": "shop"})
        assert {t["state"] for t in status["targets"]} == {"maintenance"}
        assert status["targets"][0]["reason"] == "release 2.4"

        # A chat-ops webhook through a function URL: the JSON is the body.
        disabled = module.handler({"body": json.dumps(
            {"action": "allowlist", "service": "shop", "op": "disable"})})
        assert disabled["ok"], disabled

        bad = module.handler({"action": "reboot", "service": "shop"})
        assert bad == {"ok": False, "error": {
            "kind": "invalid_input",
            "message": "'action' must be enter, exit, exit_expired, allowlist or status"}}
        unknown = module.handler({"action": "enter", "service": "no-such-service"})
        assert unknown["ok"] is False and "no-such-service" in unknown["error"]["message"]

        exited = module.handler({"action": "exit", "service": "shop"})
        assert exited["ok"] and all(r["changed"] for r in exited["results"])
        status = module.handler({"action": "status", "service": "shop"})
        assert {t["state"] for t in status["targets"]} == {"normal"}
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ.pop("MAINT_CONFIG", None)
