"""Targets other than load balancers (issue 22) from Python: an API Gateway
REST API stage, by ARN, beside an ALB in one call; the stage records the
association as AWS's GetStage shows it, and ends as it began; an ARN of a
resource AWS WAF does not protect is bad input, nothing changed; a CloudFront
distribution by its domain name enters and exits, its status saying Deployed or
InProgress."""

from __future__ import annotations

import uuid

import pytest
import seed
from conftest import REGION, web_acl_names

import maint


def test_an_api_stage_and_an_alb_enter_and_exit_together(client, make_lb, moto_endpoint):
    name, arn = make_lb()
    stage = seed.create_api_stage(moto_endpoint, f"py{uuid.uuid4().hex[:10]}", REGION)
    entered = client.enter(name, stage, allow=["203.0.113.0/24"], reason="api migration")
    assert [r.ok for r in entered] == [True, True], entered
    assert {(r.load_balancer_arn, r.resource_kind) for r in entered} == {
        (arn, "load_balancer"),
        (stage, "api_gateway_stage"),
    }
    assert seed.stage_web_acl(moto_endpoint, stage, REGION).startswith("arn:aws:wafv2:")

    statuses = client.status(stage, name)
    assert [s.state for s in statuses] == ["maintenance", "maintenance"]
    assert statuses[0].allowlist == ["203.0.113.0/24"]
    # Named without a service, each is a window of its own.
    assert statuses[0].window != statuses[1].window

    exited = client.exit(name, stage)
    assert all(r.ok and r.changed for r in exited), exited
    assert seed.stage_web_acl(moto_endpoint, stage, REGION) == ""
    assert client.status(stage)[0].state == "normal"


def test_a_resource_aws_waf_does_not_protect_is_bad_input(client, make_lb, aws):
    name, _ = make_lb()
    before = web_acl_names(aws)
    with pytest.raises(maint.InvalidInputError) as refused:
        client.enter(name, "arn:aws:s3:::release-artifacts")
    assert "AWS WAF protects" in str(refused.value)
    assert web_acl_names(aws) == before
    assert client.status(name)[0].state == "normal"


def test_a_cloudfront_distribution_by_domain_name_enters_and_exits(client, moto_endpoint):
    alias = f"py{uuid.uuid4().hex[:10]}.example.com"
    made = seed.create_distribution(moto_endpoint, alias)
    [entered] = client.enter(alias, reason="edge cut-over")
    assert entered.ok and entered.changed, entered
    assert (entered.load_balancer_arn, entered.resource_kind) == (
        made["arn"],
        "cloudfront_distribution",
    )
    acl = seed.distribution_info(moto_endpoint, made["id"])["web_acl_id"]
    assert ":global/webacl/" in acl, acl

    [status] = client.status(alias)
    assert status.state == "maintenance"
    assert status.deployment in ("Deployed", "InProgress")
    assert status.to_dict()["deployment"] == status.deployment

    [exited] = client.exit(alias)
    assert exited.ok and exited.changed, exited
    assert seed.distribution_info(moto_endpoint, made["id"])["web_acl_id"] == ""


def test_a_domain_name_no_distribution_serves_is_not_found(client):
    with pytest.raises(maint.MaintError) as refused:
        client.enter("nobody-serves-this.example.net")
    assert "CloudFront distribution not found" in str(refused.value)
