"""Seeds a moto server with load balancers: the one implementation, for every
test, the demo and the benchmarks.

As a module (put tests/moto on sys.path, then `import seed`):

    client(service, endpoint, region=REGION, **config)  # boto3 client on moto
    two_subnets(endpoint, region=REGION)                 # [subnet id, subnet id]
    create_load_balancers(endpoint, names, kind="application", region=REGION)
                                                         # [ARN, ...]

As a command (from any python with boto3, e.g. the project's .venv):

    seed.py [--region REGION] ENDPOINT NAME[:TYPE]...
        creates the load balancers (TYPE: application, the default, or
        network) and prints one ARN per line, in order;
    seed.py [--region REGION] --subnets ENDPOINT
        prints the two subnet ids load balancers are put in, one per line.

REGION defaults to us-east-1. Used by ./scripts/demo, the Rust test harness
(`tests/src/moto.rs`, for the subnets; it creates load balancers through the
SDK), maint-py/tests/conftest.py and scripts/lib/bench.py.
"""

from __future__ import annotations

import sys

REGION = "us-east-1"

# The tag of the VPC two_subnets makes in a region without a default VPC.
SEED_TAG = "maint-test-seed"

# moto accepts any credentials; these never reach a real AWS account.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


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
        **CREDENTIALS,
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


def main(argv: list[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="seed.py",
        description="Seed a moto server with load balancers (see the module docstring).",
    )
    p.add_argument("--region", default=REGION, help=f"default {REGION}")
    p.add_argument("--subnets", action="store_true",
                   help="print the two subnet ids instead of creating anything")
    p.add_argument("endpoint", help="moto's URL, e.g. http://127.0.0.1:5000")
    p.add_argument("specs", nargs="*", metavar="NAME[:TYPE]",
                   help="TYPE: application (default) or network")
    a = p.parse_args(argv)
    if a.subnets:
        if a.specs:
            p.error("--subnets takes no load balancer names")
        print("\n".join(two_subnets(a.endpoint, a.region)))
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
