#!/usr/bin/env python3
"""A release job that puts a service into maintenance with `maint`.

What a boto3 script used to do by hand (create a WAF web ACL and IP sets,
associate them with the load balancer, flip rules, clean up) is one call
per step:

1. enter maintenance, with the office allowlisted so testers can check the
   release before it opens;
2. deploy, and let QA test;
3. when QA finds a problem: disable the allowlist (nobody gets in while
   the fix is redeployed), redeploy, re-enable it, and QA again;
4. exit maintenance.

If anything fails the job stops and leaves the service in maintenance
(the safe side) with a message; rerunning it finishes the work, since every
step is idempotent.

Usage:
    release_job.py TARGET            # an ALB name, ARN or config service
    RELEASE_TARGET=shop-prod release_job.py

AWS settings follow the AWS CLI: AWS_REGION, AWS_PROFILE, and AWS_ENDPOINT_URL
(e.g. a local moto server). RELEASE_QA_FAILS_ONCE=1 makes the first QA round
find a problem, to walk through step 3.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import maint

OFFICE = ["203.0.113.0/24", "2001:db8:1::/48"]


def deploy(attempt: int) -> None:
    print(f"deploying (attempt {attempt})")  # your deployment goes here


def qa_passes(attempt: int) -> bool:
    # Your smoke tests go here, run from an allowlisted address.
    fails_once = os.environ.get("RELEASE_QA_FAILS_ONCE") == "1"
    return not (fails_once and attempt == 1)


def main(argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else os.environ.get("RELEASE_TARGET")
    if not target:
        print("usage: release_job.py TARGET (or set RELEASE_TARGET)", file=sys.stderr)
        return 2
    client = maint.Client(endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    try:
        for result in client.enter(
            target, allow=maint.Allowlist(OFFICE), reason="Release 2.1", until=until
        ):
            print(f"{result.target}: maintenance on ({'; '.join(result.changes) or 'unchanged'})")

        attempt = 1
        deploy(attempt)
        while not qa_passes(attempt):
            print("QA found a problem: closing the allowlist while we redeploy")
            client.allowlist_disable(target)
            attempt += 1
            deploy(attempt)
            client.allowlist_enable(target)
            print("allowlist open again for QA")

        for result in client.exit(target):
            print(f"{result.target}: maintenance off ({'; '.join(result.changes) or 'unchanged'})")
    except maint.InvalidInputError as e:
        print(f"bad input, nothing changed: {e}", file=sys.stderr)
        return 2
    except maint.ForeignWebAclError as e:
        print(f"{target} has a web ACL maint did not create ({e.web_acl_arn}); "
              "not touching it", file=sys.stderr)
        return 1
    except maint.MaintError as e:
        # Every target ran; e.results has each one's outcome.
        print(f"release stopped, service left in maintenance: {e}", file=sys.stderr)
        for outcome in e.results or []:
            print(f"  {outcome.target}: {'ok' if outcome.ok else outcome.error}", file=sys.stderr)
        return 1
    print("release done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
