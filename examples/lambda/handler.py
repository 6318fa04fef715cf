"""An AWS Lambda function that puts services into maintenance and back with
`maint`, driven by an event: an EventBridge Scheduler schedule, a chat-ops
webhook (a Lambda function URL: the JSON is the request's body), a Step
Functions state...

The event:

    {"action": "enter", "service": "shop", "reason": "release 2.4",
     "allow": ["203.0.113.0/24"], "for_minutes": 90, "bypass": true}
    {"action": "exit", "service": "shop"}
    {"action": "exit_expired"}                      # every overdue window
    {"action": "allowlist", "service": "shop", "op": "disable"}
    {"action": "allowlist", "service": "shop", "op": "add", "entries": ["198.51.100.7"]}
    {"action": "status", "service": "shop"}

("services": [...] names several; "dry_run": true plans only.) The function
returns the JSON report: one entry per load balancer, as `maint --json`
prints it. The config file `maint.toml` is packaged with the function
(`package.sh`); its services, allowlists and webhooks apply.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import maint

CONFIG = os.environ.get("MAINT_CONFIG") or os.path.join(os.path.dirname(__file__), "maint.toml")
ALLOWLIST_OPS = ("enable", "disable", "add", "remove", "set")


class BadEvent(ValueError):
    """The event asks for something the function does not do."""


def _targets(event: dict[str, Any]) -> list[str]:
    targets = event.get("services") or ([event["service"]] if event.get("service") else [])
    if not all(isinstance(t, str) and t for t in targets):
        raise BadEvent("'service' must be a name, 'services' a list of names")
    return targets


def run(event: dict[str, Any], client: maint.Client) -> dict[str, Any]:
    """Does what `event` asks with `client`; returns the report."""
    action = event.get("action")
    targets = _targets(event)
    dry_run = bool(event.get("dry_run", False))
    if action in ("enter", "exit", "allowlist", "status") and not targets:
        raise BadEvent(f"action {action!r} needs 'service' or 'services'")
    if action == "enter":
        until = None
        if event.get("for_minutes") is not None:
            until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=float(event["for_minutes"]))
        results = client.enter(
            *targets,
            allow=event.get("allow"),
            reason=event.get("reason"),
            until=until,
            bypass=event.get("bypass"),
            dry_run=dry_run,
        )
    elif action == "exit":
        results = client.exit(*targets, dry_run=dry_run)
    elif action == "exit_expired":
        results = client.exit_expired(*targets, dry_run=dry_run)
    elif action == "allowlist":
        op = event.get("op")
        if op not in ALLOWLIST_OPS:
            raise BadEvent(f"'op' must be one of {', '.join(ALLOWLIST_OPS)}")
        if op in ("enable", "disable"):
            results = getattr(client, f"allowlist_{op}")(*targets, dry_run=dry_run)
        else:
            if len(targets) != 1:
                raise BadEvent(f"allowlist {op} takes one service")
            results = getattr(client, f"allowlist_{op}")(targets[0], event.get("entries") or [], dry_run=dry_run)
    elif action == "status":
        return {"action": action, "targets": [s.to_dict() for s in client.status(*targets)]}
    else:
        raise BadEvent("'action' must be enter, exit, exit_expired, allowlist or status")
    report = [r.to_dict() for r in results]
    return {
        "action": action,
        "dry_run": dry_run,
        "ok": all(r["result"] == "ok" for r in report),
        "results": report,
    }


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """The Lambda entry point."""
    if isinstance(event.get("body"), str):  # a function URL or API Gateway request
        event = json.loads(event["body"])
    try:
        client = maint.Client(config=CONFIG, region=event.get("region"), raise_on_error=False)
        return run(event, client)
    except (BadEvent, maint.InvalidInputError, maint.TargetNotFoundError) as e:
        return {"ok": False, "error": {"kind": "invalid_input", "message": str(e)}}
