import pytest

from constructs_lib.config import SubnetConfig
from constructs_lib.vpc import Network, NetworkProps
from tests.support import only, ref, resources, synth_construct

PUBLIC = {
    "a": SubnetConfig(cidr="10.0.1.0/24", az="us-east-1a"),
    "b": SubnetConfig(cidr="10.0.2.0/24", az="us-east-1b"),
}
PRIVATE = {
    "a": SubnetConfig(cidr="10.0.11.0/24", az="us-east-1a"),
    "b": SubnetConfig(cidr="10.0.12.0/24", az="us-east-1b"),
}


def network_json(**overrides) -> dict:
    props = {
        "name": "t",
        "cidr": "10.0.0.0/16",
        "public_subnets": PUBLIC,
        "private_subnets": PRIVATE,
        "load_balancer_name": "t-alb",
        **overrides,
    }
    return synth_construct(lambda stack: Network(stack, "net", NetworkProps(**props)))


@pytest.fixture(scope="module")
def single() -> dict:
    return network_json()


def test_vpc_has_configured_cidr_and_dns(single):
    vpc = only(single, "aws_vpc")
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["enable_dns_support"] is True
    assert vpc["enable_dns_hostnames"] is True


def test_subnets_follow_the_maps(single):
    subnets = resources(single, "aws_subnet").values()
    by_cidr = {s["cidr_block"]: s for s in subnets}
    assert set(by_cidr) == {"10.0.1.0/24", "10.0.2.0/24", "10.0.11.0/24", "10.0.12.0/24"}
    assert by_cidr["10.0.12.0/24"]["availability_zone"] == "us-east-1b"
    assert by_cidr["10.0.1.0/24"]["tags"]["Tier"] == "public"
    assert all(s["vpc_id"] == ref(single, "aws_vpc", "net_vpc", "id") for s in subnets)


def test_public_route_goes_to_internet_gateway(single):
    routes = resources(single, "aws_route").values()
    igw = ref(single, "aws_internet_gateway", "igw", "id")
    public = [r for r in routes if r.get("gateway_id") == igw]
    assert len(public) == 1 and public[0]["destination_cidr_block"] == "0.0.0.0/0"
    public_rt = ref(single, "aws_route_table", "public-rt", "id")
    assert public[0]["route_table_id"] == public_rt
    assocs = [a for a in resources(single, "aws_route_table_association").values()]
    assert sum(a["route_table_id"] == public_rt for a in assocs) == len(PUBLIC)


def test_single_nat_in_first_public_subnet_with_vpc_eip(single):
    nat = only(single, "aws_nat_gateway")
    assert nat["subnet_id"] == ref(single, "aws_subnet", "public-subnet-a", "id")
    assert nat["allocation_id"] == ref(single, "aws_eip", "nat-eip", "id")
    assert only(single, "aws_eip")["domain"] == "vpc"


def test_nat_subnet_is_chosen_from_config():
    chosen = network_json(nat_subnet="b")
    nat = only(chosen, "aws_nat_gateway")
    assert nat["subnet_id"] == ref(chosen, "aws_subnet", "public-subnet-b", "id")


def test_private_subnets_route_through_nat(single):
    nat = ref(single, "aws_nat_gateway", "nat-shared", "id")
    private_routes = [r for r in resources(single, "aws_route").values() if "nat_gateway_id" in r]
    assert [r["nat_gateway_id"] for r in private_routes] == [nat]
    private_rt = private_routes[0]["route_table_id"]
    assocs = resources(single, "aws_route_table_association").values()
    assert sum(a["route_table_id"] == private_rt for a in assocs) == len(PRIVATE)


def test_one_nat_and_route_table_per_az():
    per_az = network_json(nat_gateways="one_per_az")
    nats = resources(per_az, "aws_nat_gateway").values()
    assert sorted(n["subnet_id"] for n in nats) == sorted(
        ref(per_az, "aws_subnet", f"public-subnet-{k}", "id") for k in PUBLIC
    )
    assert len(resources(per_az, "aws_eip")) == 2
    private_tables = [rid for rid in resources(per_az, "aws_route_table") if "private" in rid]
    assert len(private_tables) == 2


def test_no_nat_means_no_default_route_for_private_subnets():
    none = network_json(nat_gateways="none")
    assert resources(none, "aws_nat_gateway") == {}
    assert all("nat_gateway_id" not in r for r in resources(none, "aws_route").values())


def test_lb_security_group_allows_80_443_in_and_all_out(single):
    group = ref(single, "aws_security_group", "lb-sg", "id")
    ingress = resources(single, "aws_vpc_security_group_ingress_rule").values()
    assert sorted(r["from_port"] for r in ingress) == [80, 443]
    assert all(r["security_group_id"] == group and r["cidr_ipv4"] == "0.0.0.0/0" for r in ingress)
    egress = only(single, "aws_vpc_security_group_egress_rule")
    assert egress["ip_protocol"] == "-1" and egress["security_group_id"] == group


def test_load_balancer_is_public_application_lb_in_public_subnets(single):
    lb = only(single, "aws_lb")
    assert lb["name"] == "t-alb"
    assert lb["internal"] is False
    assert lb["load_balancer_type"] == "application"
    assert lb["security_groups"] == [ref(single, "aws_security_group", "lb-sg", "id")]
    assert sorted(lb["subnets"]) == sorted(
        ref(single, "aws_subnet", f"public-subnet-{k}", "id") for k in PUBLIC
    )
