"""Seeds a moto server with load balancers: the one implementation, for every
test, the demo and the benchmarks.

As a module (put tests/moto on sys.path, then `import seed`):

    client(service, endpoint, region=REGION, **config)  # boto3 client on moto
    two_subnets(endpoint, region=REGION)                 # [subnet id, subnet id]
    create_load_balancers(endpoint, names, kind="application", region=REGION)
                                                         # [ARN, ...]
    create_web_acl(endpoint, name, region=REGION, tags=None, associate=None)
                                                         # ARN (no rules)
    create_security_web_acl(endpoint, name, associate=(), region=REGION)
                                                         # {"arn", "ip_set_arn", ...}

As a command (from any python with boto3, e.g. the project's .venv):

    seed.py [--region REGION] ENDPOINT NAME[:TYPE]...
        creates the load balancers (TYPE: application, the default, or
        network) and prints one ARN per line, in order;
    seed.py [--region REGION] --subnets ENDPOINT
        prints the two subnet ids load balancers are put in, one per line;
    seed.py [--region REGION] --security-acl NAME ENDPOINT [ALB_ARN...]
        creates a security team's web ACL like production ones (see
        create_security_web_acl), associates it with the ALBs, and prints
        what create_security_web_acl returns as one line of JSON;
    seed.py --api-stage NAME ENDPOINT / --stage-web-acl STAGE_ARN ENDPOINT
        creates a REST API deployed to stage prod (prints the stage ARN) /
        prints the web ACL the stage records;
    seed.py --distribution ALIAS ENDPOINT / --distribution-info ID ENDPOINT /
    seed.py --set-comment ID COMMENT ENDPOINT
        creates a CloudFront distribution serving ALIAS (prints {"arn", "id",
        "status"}) / prints its {"web_acl_id", "comment"} / changes its
        comment, as another writer would.

    seed.py --account ID ...
        does any of the above in account ID: as moto's role ID/maint-seed
        (moto acts in a role's account with the credentials AssumeRole
        gives);
    seed.py [--account ID] [--region REGION] --account-state ENDPOINT
        prints that account and region's web ACLs and IP sets, and the web
        ACL of each load balancer, as JSON ({"web_acls", "ip_sets", "by_lb"}).

REGION defaults to us-east-1. Used by ./scripts/demo, the Rust test harness
(`tests/src/moto.rs`, for the subnets; it creates load balancers through the
SDK), maint-py/tests/conftest.py and scripts/lib/bench/harness.py.
"""

from __future__ import annotations

import sys
import time

REGION = "us-east-1"

# The tag of the VPC two_subnets makes in a region without a default VPC.
SEED_TAG = "maint-test-seed"

# The account id moto reports.
ACCOUNT_ID = "123456789012"

# moto accepts any credentials; these never reach a real AWS account.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# The account clients act in (None: moto's default, ACCOUNT_ID); see
# in_account.
_ACCOUNT: str | None = None
_ASSUMED: dict[tuple[str, str], dict] = {}


def in_account(account: str | None) -> None:
    """Makes every client after this act in `account` (None: moto's
    default), with the credentials of moto's AssumeRole of role
    `maint-seed` there."""
    global _ACCOUNT
    _ACCOUNT = None if account in (None, ACCOUNT_ID) else account


def _credentials(endpoint: str) -> dict:
    if _ACCOUNT is None:
        return CREDENTIALS
    key = (endpoint, _ACCOUNT)
    if key not in _ASSUMED:
        import boto3

        sts = boto3.client("sts", region_name=REGION, endpoint_url=endpoint, **CREDENTIALS)
        c = sts.assume_role(
            RoleArn=f"arn:aws:iam::{_ACCOUNT}:role/maint-seed", RoleSessionName="seed"
        )["Credentials"]
        _ASSUMED[key] = {
            "aws_access_key_id": c["AccessKeyId"],
            "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"],
        }
    return _ASSUMED[key]


def client(service: str, endpoint: str, region: str = REGION, **config):
    """A boto3 client for `service` on moto at `endpoint`, with dummy
    credentials. `config` goes to botocore's Config; retries are off unless
    it says otherwise (moto does not throttle, and a retry would be counted
    twice by a counting proxy)."""
    import boto3
    from botocore.config import Config

    config.setdefault("retries", {"total_max_attempts": 1})
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        config=Config(**config),
        **_credentials(endpoint),
    )


def two_subnets(endpoint: str, region: str = REGION) -> list[str]:
    """Two subnet ids in different availability zones (an ELBv2 load balancer
    needs two): of the region's default VPC, or, when moto has none there, of
    a VPC made (once: it is tagged SEED_TAG and found again) with one subnet
    in each of the region's first two zones."""
    ec2 = client("ec2", endpoint, region)
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    vpcs = vpcs or ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": [SEED_TAG]}])["Vpcs"]
    if vpcs:
        vpc = vpcs[0]["VpcId"]
    else:
        vpc = ec2.create_vpc(
            CidrBlock="10.0.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": SEED_TAG, "Value": "true"}]}],
        )["Vpc"]["VpcId"]
        zones = ec2.describe_availability_zones()["AvailabilityZones"]
        for i, zone in enumerate(sorted(z["ZoneName"] for z in zones)[:2]):
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    by_zone: dict[str, str] = {}
    for subnet in sorted(found, key=lambda s: (s["AvailabilityZone"], s["SubnetId"])):
        by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    if len(by_zone) < 2:
        raise RuntimeError(
            f"need subnets in two availability zones of {region}; moto has {sorted(by_zone.items())}"
        )
    return list(by_zone.values())[:2]


def create_load_balancers(
    endpoint: str,
    names,
    kind: str = "application",
    region: str = REGION,
    subnets: list[str] | None = None,
) -> list[str]:
    """Creates a load balancer of type `kind` for each name (in two subnets
    of `two_subnets`, or of `subnets` when given) and returns their ARNs in
    the order of `names`."""
    subnets = subnets or two_subnets(endpoint, region)
    elb = client("elbv2", endpoint, region)
    arns = []
    for name in names:
        out = elb.create_load_balancer(Name=name, Subnets=subnets, Type=kind)
        arns.append(out["LoadBalancers"][0]["LoadBalancerArn"])
    return arns


def create_web_acl(
    endpoint: str,
    name: str,
    region: str = REGION,
    tags: dict[str, str] | None = None,
    associate: str | None = None,
) -> str:
    """Creates a web ACL with no rule (default action Allow), tagged with
    `tags`, and associates it with the load balancer `associate` when
    given; returns its ARN. What a security team's ACL, or a leftover made
    to look like maint's, needs in a test."""
    waf = client("wafv2", endpoint, region)
    extra = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
    arn = waf.create_web_acl(
        Name=name,
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        Rules=[],
        VisibilityConfig={
            "SampledRequestsEnabled": False,
            "CloudWatchMetricsEnabled": False,
            "MetricName": name,
        },
        **extra,
    )["Summary"]["ARN"]
    if associate:
        waf.associate_web_acl(WebACLArn=arn, ResourceArn=associate)
    return str(arn)


# What moto 5.2.5 does with create_security_web_acl's web ACL (tried against
# its server): it accepts and stores every rule as given and validates no
# statement: a RuleGroupReferenceStatement or IPSetReferenceStatement naming
# an ARN that does not exist, two rules at the same priority, and a
# CustomResponseBodyKey the ACL does not define are all accepted (AWS refuses
# each with WAFNonexistentItemException or WAFInvalidParameterException); the
# Shield rule group is still made with CreateRuleGroup so that its ARN is
# real. It keeps the custom response bodies and the description, reports
# `Capacity` 3 whatever the rules (AWS: their WCU), and deletes an IP set a
# rule still references (AWS: WAFAssociatedItemException). It has no
# ListResourcesForWebACL and no CheckCapacity (HTTP 500 for both):
# latency_proxy.py and tests/src/faults.rs answer those.

# The WCU AWS prices these rules at (its CheckCapacity; the managed group's
# figure is AWS's published capacity of AWSManagedRulesCommonRuleSet).
SECURITY_ACL_WCU = 700 + 2 + 1 + 1 + 100


def security_acl_rules(ip_set_arn: str, shield_group_arn: str | None = None,
                       shield_rule_name: str | None = None) -> list[dict]:
    """The rules of a production-like security web ACL: AWS's common managed
    rule group at priority 0, a rate-based rule at 1, an IP-set block at 2, a
    geo block at 3, and, when `shield_group_arn` is given, Shield Advanced's
    automatic-mitigation rule group (which Shield adds itself, named
    `ShieldMitigationRuleGroup_<account>_<web ACL id>_<suffix>`) at 10000000."""

    def visibility(metric):
        return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}

    rules = [
        {
            "Name": "AWS-AWSManagedRulesCommonRuleSet",
            "Priority": 0,
            "Statement": {"ManagedRuleGroupStatement": {
                "VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet",
                "ExcludedRules": [{"Name": "SizeRestrictions_BODY"}],
            }},
            "OverrideAction": {"None": {}},
            "VisibilityConfig": visibility("AWS-AWSManagedRulesCommonRuleSet"),
        },
        {
            "Name": "rate-limit-per-ip",
            "Priority": 1,
            "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}},
            "Action": {"Block": {"CustomResponse": {
                "ResponseCode": 429, "CustomResponseBodyKey": "security-rate-limited",
                "ResponseHeaders": [{"Name": "Retry-After", "Value": "300"}],
            }}},
            "VisibilityConfig": visibility("rate-limit-per-ip"),
        },
        {
            "Name": "blocked-addresses",
            "Priority": 2,
            "Statement": {"IPSetReferenceStatement": {"ARN": ip_set_arn}},
            "Action": {"Block": {"CustomResponse": {
                "ResponseCode": 403, "CustomResponseBodyKey": "security-blocked",
            }}},
            "VisibilityConfig": visibility("blocked-addresses"),
        },
        {
            "Name": "blocked-countries",
            "Priority": 3,
            "Statement": {"GeoMatchStatement": {"CountryCodes": ["KP", "IR"]}},
            "Action": {"Block": {}},
            "VisibilityConfig": visibility("blocked-countries"),
        },
    ]
    if shield_group_arn is None:
        return rules
    return rules + [
        {
            "Name": shield_rule_name,
            "Priority": 10000000,
            "Statement": {"RuleGroupReferenceStatement": {"ARN": shield_group_arn}},
            "OverrideAction": {"None": {}},
            "VisibilityConfig": visibility(shield_rule_name),
        },
    ]


SECURITY_BODIES = {
    "security-blocked": {
        "ContentType": "TEXT_HTML",
        "Content": "<html><body><h1>Access denied</h1><p>Your address is blocked.</p></body></html>",
    },
    "security-rate-limited": {
        "ContentType": "APPLICATION_JSON",
        "Content": '{"error": "too many requests"}',
    },
}


def create_security_web_acl(endpoint: str, name: str, associate=(), region: str = REGION) -> dict:
    """Creates a security team's web ACL as production ones look (scope
    REGIONAL, default action Allow, a description, the rules of
    `security_acl_rules`, the two custom response bodies of
    `SECURITY_BODIES`, its own IPv4 IP set `<name>-blocked`), associates it
    with every load balancer ARN in `associate`, and returns
    `{"arn", "id", "name", "ip_set_arn", "shield_rule_group_arn",
    "shield_rule_name", "rule_names", "wcu"}`.

    Shield Advanced adds its rule group to a web ACL that already exists, so
    the ACL is created with the first four rules and then updated (one
    UpdateWebACL) with the Shield rule added, named after the ACL's id."""
    waf = client("wafv2", endpoint, region)
    ip_set = waf.create_ip_set(
        Name=f"{name}-blocked", Scope="REGIONAL", IPAddressVersion="IPV4",
        Addresses=["192.0.2.0/24", "198.51.100.66/32"],
        Description="addresses the security team blocks",
    )["Summary"]
    visibility = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}
    created = waf.create_web_acl(
        Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}},
        Description="Security team: managed rules, rate limit, blocked addresses and countries",
        Rules=security_acl_rules(ip_set["ARN"]),
        CustomResponseBodies=SECURITY_BODIES, VisibilityConfig=visibility,
        Tags=[{"Key": "owner", "Value": "security-team"}],
    )["Summary"]
    suffix = created["Id"].replace("-", "")[:12]
    group_name = f"ShieldMitigationRuleGroup_{ACCOUNT_ID}_{created['Id']}_{suffix}"
    group = waf.create_rule_group(
        Name=group_name, Scope="REGIONAL", Capacity=100, Rules=[],
        Description="Shield Advanced automatic application layer DDoS mitigation",
        VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                          "MetricName": "ShieldMitigationRuleGroup"},
    )["Summary"]
    rules = security_acl_rules(ip_set["ARN"], group["ARN"], group_name)
    current = waf.get_web_acl(Name=name, Scope="REGIONAL", Id=created["Id"])
    acl = current["WebACL"]
    waf.update_web_acl(
        Name=name, Scope="REGIONAL", Id=created["Id"], LockToken=current["LockToken"],
        DefaultAction=acl["DefaultAction"], Description=acl["Description"], Rules=rules,
        CustomResponseBodies=SECURITY_BODIES, VisibilityConfig=acl["VisibilityConfig"],
    )
    for arn in associate:
        waf.associate_web_acl(WebACLArn=created["ARN"], ResourceArn=arn)
    return {
        "arn": created["ARN"], "id": created["Id"], "name": name,
        "ip_set_arn": ip_set["ARN"], "shield_rule_group_arn": group["ARN"],
        "shield_rule_name": group_name, "rule_names": [r["Name"] for r in rules],
        "wcu": SECURITY_ACL_WCU,
    }


def create_api_stage(endpoint: str, name: str, region: str = REGION) -> str:
    """An API Gateway REST API `name` with one GET method on `/` (a mock
    integration) deployed to stage `prod`; returns the stage's ARN, the
    form AWS WAF associates (`arn:aws:apigateway:REGION::/restapis/ID/stages/prod`)."""
    api = client("apigateway", endpoint, region)
    rest = api.create_rest_api(name=name)
    root = api.get_resources(restApiId=rest["id"])["items"][0]["id"]
    api.put_method(restApiId=rest["id"], resourceId=root, httpMethod="GET",
                   authorizationType="NONE")
    api.put_integration(restApiId=rest["id"], resourceId=root, httpMethod="GET", type="MOCK")
    api.create_deployment(restApiId=rest["id"], stageName="prod")
    return f"arn:aws:apigateway:{region}::/restapis/{rest['id']}/stages/prod"


def stage_web_acl(endpoint: str, stage_arn: str, region: str = REGION) -> str:
    """The web ACL ARN API Gateway records on the stage (moto records an
    association there, as AWS shows it in GetStage), or "" when none."""
    rest_id, stage = stage_arn.split("/")[-3], stage_arn.split("/")[-1]
    got = client("apigateway", endpoint, region).get_stage(restApiId=rest_id, stageName=stage)
    return got.get("webAclArn", "")


def create_distribution(endpoint: str, alias: str) -> dict:
    """A CloudFront distribution serving alternate domain name `alias` from
    a custom origin; returns its ARN, ID and status as JSON-ready values."""
    cf = client("cloudfront", endpoint, "us-east-1")
    config = {
        "CallerReference": f"maint-test-{alias}-{time.time_ns()}",
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "origin", "DomainName": "origin.example.com",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                   "OriginProtocolPolicy": "https-only"},
        }]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "origin", "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
        "Comment": f"served at {alias}",
        "Enabled": True,
    }
    d = cf.create_distribution(DistributionConfig=config)["Distribution"]
    return {"arn": d["ARN"], "id": d["Id"], "status": d["Status"]}


def distribution_info(endpoint: str, dist_id: str) -> dict:
    """What a distribution's config says now: its web ACL ("" none) and
    comment."""
    cf = client("cloudfront", endpoint, "us-east-1")
    config = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]
    return {"web_acl_id": config.get("WebACLId", ""), "comment": config.get("Comment", "")}


def set_distribution_comment(endpoint: str, dist_id: str, comment: str) -> None:
    """Another writer's change to a distribution: its comment."""
    cf = client("cloudfront", endpoint, "us-east-1")
    got = cf.get_distribution_config(Id=dist_id)
    config = got["DistributionConfig"]
    config["Comment"] = comment
    cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=config)


def protect_distribution(endpoint: str, dist_id: str, name: str) -> str:
    """A team's own web ACL `name` (scope CLOUDFRONT, in us-east-1, one
    blocking rule `team-rule`) set on distribution `dist_id`; returns its ARN."""
    waf = client("wafv2", endpoint, "us-east-1")
    visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False}
    made = waf.create_web_acl(
        Name=name, Scope="CLOUDFRONT", DefaultAction={"Allow": {}},
        VisibilityConfig={**visibility, "MetricName": name},
        Rules=[{
            "Name": "team-rule", "Priority": 10, "Action": {"Block": {}},
            "Statement": {"ByteMatchStatement": {
                "SearchString": b"/admin", "FieldToMatch": {"UriPath": {}},
                "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                "PositionalConstraint": "STARTS_WITH",
            }},
            "VisibilityConfig": {**visibility, "MetricName": "team-rule"},
        }],
    )
    arn = made["Summary"]["ARN"]
    cf = client("cloudfront", endpoint, "us-east-1")
    got = cf.get_distribution_config(Id=dist_id)
    config = got["DistributionConfig"]
    config["WebACLId"] = arn
    cf.update_distribution(Id=dist_id, IfMatch=got["ETag"], DistributionConfig=config)
    return arn


def account_state(endpoint: str, region: str = REGION) -> dict:
    """The web ACLs and IP sets (names, REGIONAL) of the clients' account in
    `region`, and the web ACL name (or None) of each of its load
    balancers."""
    waf = client("wafv2", endpoint, region)
    elb = client("elbv2", endpoint, region)
    acls = waf.list_web_acls(Scope="REGIONAL", Limit=100)["WebACLs"]
    ip_sets = waf.list_ip_sets(Scope="REGIONAL", Limit=100)["IPSets"]
    by_lb = {}
    for lb in elb.describe_load_balancers()["LoadBalancers"]:
        arn = lb["LoadBalancerArn"]
        acl = waf.get_web_acl_for_resource(ResourceArn=arn).get("WebACL")
        by_lb[arn] = acl["Name"] if acl else None
    return {
        "web_acls": sorted(a["Name"] for a in acls),
        "ip_sets": sorted(i["Name"] for i in ip_sets),
        "by_lb": by_lb,
    }


def main(argv: list[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="seed.py",
        description="Seed a moto server with load balancers (see the module docstring).",
    )
    p.add_argument("--region", default=REGION, help=f"default {REGION}")
    p.add_argument("--account", metavar="ID",
                   help="act in account ID (through moto's AssumeRole); default moto's own")
    p.add_argument("--account-state", action="store_true",
                   help="print the account and region's web ACLs, IP sets and associations")
    p.add_argument("--subnets", action="store_true",
                   help="print the two subnet ids instead of creating anything")
    p.add_argument("--security-acl", metavar="NAME",
                   help="create a security team's web ACL NAME associated with the ALB ARNs given "
                        "in place of names; print it as JSON")
    p.add_argument("--api-stage", metavar="NAME",
                   help="create a REST API NAME deployed to stage prod; print the stage's ARN")
    p.add_argument("--stage-web-acl", metavar="STAGE_ARN",
                   help="print the web ACL ARN the stage records (empty line: none)")
    p.add_argument("--distribution", metavar="ALIAS",
                   help="create a CloudFront distribution serving ALIAS; print its ARN, ID and "
                        "status as JSON")
    p.add_argument("--distribution-info", metavar="ID",
                   help="print the distribution's web ACL and comment as JSON")
    p.add_argument("--protect-distribution", nargs=2, metavar=("ID", "NAME"),
                   help="set a team's own CLOUDFRONT web ACL NAME on the distribution; "
                        "print its ARN")
    p.add_argument("--set-comment", nargs=2, metavar=("ID", "COMMENT"),
                   help="change the distribution's comment (another writer)")
    p.add_argument("endpoint", help="moto's URL, e.g. http://127.0.0.1:5000")
    p.add_argument("specs", nargs="*", metavar="NAME[:TYPE]",
                   help="TYPE: application (default) or network")
    a = p.parse_args(argv)
    in_account(a.account)
    if a.account_state:
        import json

        print(json.dumps(account_state(a.endpoint, a.region)))
        return 0
    if a.subnets:
        if a.specs:
            p.error("--subnets takes no load balancer names")
        print("\n".join(two_subnets(a.endpoint, a.region)))
        return 0
    if a.api_stage:
        print(create_api_stage(a.endpoint, a.api_stage, a.region))
        return 0
    if a.protect_distribution:
        print(protect_distribution(a.endpoint, *a.protect_distribution))
        return 0
    if a.distribution or a.distribution_info or a.set_comment:
        import json

        if a.distribution:
            print(json.dumps(create_distribution(a.endpoint, a.distribution)))
        elif a.distribution_info:
            print(json.dumps(distribution_info(a.endpoint, a.distribution_info)))
        else:
            set_distribution_comment(a.endpoint, *a.set_comment)
        return 0
    if a.stage_web_acl:
        print(stage_web_acl(a.endpoint, a.stage_web_acl, a.region))
        return 0
    if a.security_acl:
        import json

        print(json.dumps(create_security_web_acl(a.endpoint, a.security_acl, a.specs, a.region)))
        return 0
    if not a.specs:
        p.error("name at least one load balancer (NAME[:TYPE])")
    subnets = two_subnets(a.endpoint, a.region)
    for spec in a.specs:
        name, _, kind = spec.partition(":")
        [arn] = create_load_balancers(
            a.endpoint, [name], kind or "application", a.region, subnets
        )
        print(arn)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
