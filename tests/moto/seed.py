"""Seed a moto server with load balancers: `seed.py ENDPOINT NAME[:TYPE]...`.

TYPE is application (default) or network. Prints one ARN per line. Used by
the demo and the CLI tests (the Rust harness seeds through the SDK).
"""
import sys

import boto3

REGION = "us-east-1"


def client(service, endpoint):
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def two_subnets(endpoint):
    ec2 = client("ec2", endpoint)
    by_az = {}
    for subnet in ec2.describe_subnets()["Subnets"]:
        by_az.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    if len(by_az) < 2:
        raise SystemExit(f"moto has subnets in {len(by_az)} AZ(s); two are needed")
    return sorted(by_az.values())[:2]


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    endpoint, specs = argv[1], argv[2:]
    subnets = two_subnets(endpoint)
    elb = client("elbv2", endpoint)
    for spec in specs:
        name, _, kind = spec.partition(":")
        out = elb.create_load_balancer(Name=name, Subnets=subnets, Type=kind or "application")
        print(out["LoadBalancers"][0]["LoadBalancerArn"])


if __name__ == "__main__":
    main(sys.argv)
