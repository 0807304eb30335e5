import json

import pytest

from constructs_lib.vpc import FlowLogProps, Network, NetworkProps, Subnet
from tests.support import (
    TEST_KEY_ARN,
    data_sources,
    only,
    ref,
    resources,
    synth_construct,
    tagged,
)

PUBLIC = {
    "a": Subnet("a", cidr="10.0.1.0/24", az="us-east-1a"),
    "b": Subnet("b", cidr="10.0.2.0/24", az="us-east-1b"),
}
PRIVATE = {
    "a": Subnet("a", cidr="10.0.11.0/24", az="us-east-1a"),
    "b": Subnet("b", cidr="10.0.12.0/24", az="us-east-1b"),
}


def network_props(**overrides) -> dict:
    return {
        "name": "t",
        "region": "us-east-1",
        "cidr": "10.0.0.0/16",
        "public_subnets": list(PUBLIC.values()),
        "private_subnets": list(PRIVATE.values()),
        "nat_gateways": "single",
        "nat_subnet": None,
        "flow_logs": FlowLogProps(retention_days=60, kms_key_arn=TEST_KEY_ARN),
        **overrides,
    }


def network_json(**overrides) -> dict:
    props = NetworkProps(**network_props(**overrides))
    return synth_construct(lambda stack: Network(stack, "net", props))


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
    private_tables = [
        table
        for table in resources(per_az, "aws_route_table").values()
        if table["tags"]["Name"].startswith("t-private-")
    ]
    assert len(private_tables) == 2


def test_no_nat_means_no_default_route_for_private_subnets():
    none = network_json(nat_gateways="none")
    assert resources(none, "aws_nat_gateway") == {}
    assert all("nat_gateway_id" not in r for r in resources(none, "aws_route").values())


def test_default_security_group_is_managed_with_no_rules(single):
    default = only(single, "aws_default_security_group")
    assert default["vpc_id"] == ref(single, "aws_vpc", "net_vpc", "id")
    assert "ingress" not in default and "egress" not in default


def test_network_acls_cover_each_tier(single):
    acls = resources(single, "aws_network_acl")
    by_tier = {acl["tags"]["Name"]: acl for acl in acls.values()}
    assert sorted(by_tier["t-public"]["subnet_ids"]) == sorted(
        ref(single, "aws_subnet", f"public-subnet-{k}", "id") for k in PUBLIC
    )
    assert sorted(by_tier["t-private"]["subnet_ids"]) == sorted(
        ref(single, "aws_subnet", f"private-subnet-{k}", "id") for k in PRIVATE
    )


def test_no_acl_admits_remote_admin_ports_or_all_ports_from_anywhere(single):
    inbound = [r for r in resources(single, "aws_network_acl_rule").values() if not r["egress"]]
    assert inbound
    for rule in inbound:
        assert rule["protocol"] == "tcp", rule
        if rule["cidr_block"] == "0.0.0.0/0":
            for port in (20, 21, 22, 3389):
                assert not rule["from_port"] <= port <= rule["to_port"], rule


def test_flow_logs_to_an_encrypted_group_with_retention(single):
    flow_log = only(single, "aws_flow_log")
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination"] == ref(single, "aws_cloudwatch_log_group", "flow", "arn")
    group = only(single, "aws_cloudwatch_log_group")
    assert (group["retention_in_days"], group["kms_key_id"]) == (60, TEST_KEY_ARN)
    documents = data_sources(single, "aws_iam_policy_document")
    [delivery] = [
        doc for doc in documents.values() if doc["statement"][0].get("sid") == "DeliverFlowLogs"
    ]
    [statement] = delivery["statement"]
    group_arn = ref(single, "aws_cloudwatch_log_group", "flow", "arn")
    assert statement["resources"] == [group_arn, f"{group_arn}:*"]
    # The actions AWS documents for the flow-log role, nothing else.
    assert sorted(statement["actions"]) == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ]


def test_private_subnets_wait_for_lambda_network_interfaces_on_destroy(single):
    private = tagged(single, "aws_subnet", Tier="private")
    for rid, subnet in resources(single, "aws_subnet").items():
        # Lambda can take 20-40 minutes to release its network interfaces.
        expected = {"delete": "45m"} if rid in private else None
        assert subnet.get("timeouts") == expected, rid


def test_flow_logs_can_be_turned_off():
    assert resources(network_json(flow_logs=None), "aws_flow_log") == {}


@pytest.mark.parametrize("traffic", ["ACCEPT", "REJECT"])
def test_flow_log_records_the_traffic_it_is_given(traffic):
    props = FlowLogProps(retention_days=60, kms_key_arn=TEST_KEY_ARN, traffic_type=traffic)
    assert only(network_json(flow_logs=props), "aws_flow_log")["traffic_type"] == traffic


@pytest.mark.parametrize("traffic", ["all", "NONE", ""])
def test_flow_log_traffic_is_one_of_aws_types(traffic):
    with pytest.raises(ValueError, match=r"traffic_type .*: one of ALL, ACCEPT, REJECT"):
        FlowLogProps(retention_days=60, kms_key_arn=TEST_KEY_ARN, traffic_type=traffic)


def test_gateway_endpoints_for_s3_and_dynamodb_on_private_tables():
    per_az = network_json(nat_gateways="one_per_az")
    endpoints = {e["service_name"]: e for e in resources(per_az, "aws_vpc_endpoint").values()}
    assert set(endpoints) == {"com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.dynamodb"}
    private_tables = sorted(
        f"${{aws_route_table.{rid}.id}}"
        for rid, table in resources(per_az, "aws_route_table").items()
        if table["tags"]["Name"].startswith("t-private-")
    )
    for endpoint in endpoints.values():
        assert endpoint["vpc_endpoint_type"] == "Gateway"
        assert sorted(endpoint["route_table_ids"]) == private_tables


def test_internet_access_is_the_attached_and_routed_gateway():
    paths: list[str] = []

    def build(stack):
        network = Network(stack, "net", NetworkProps(**network_props()))
        paths.extend(resource.node.path for resource in network.internet_access)

    synth_construct(build)
    assert paths == ["test/net/igw", "test/net/public-default-route"]


ZONE_IDS = {"a": "use1-az1", "b": "use1-az6"}


def by_id(subnets: dict[str, Subnet]) -> list[Subnet]:
    return [Subnet(key, subnet.cidr, ZONE_IDS[key]) for key, subnet in subnets.items()]


def test_subnets_named_by_az_id_are_placed_by_id():
    """An AZ id names the same physical zone in every account; AWS resolves it."""
    synthesized = network_json(
        public_subnets=by_id(PUBLIC), private_subnets=by_id(PRIVATE), nat_gateways="one_per_az"
    )
    subnets = resources(synthesized, "aws_subnet").values()
    assert sorted(s["availability_zone_id"] for s in subnets) == sorted(2 * list(ZONE_IDS.values()))
    assert not [s for s in subnets if "availability_zone" in s]
    # One NAT gateway per zone, as with names.
    assert len(resources(synthesized, "aws_nat_gateway")) == 2


@pytest.mark.parametrize(
    ("public", "filter_name", "found"),
    [
        (list(PUBLIC.values()), "zone-name", "self.names"),
        (by_id(PUBLIC), "zone-id", "self.zone_ids"),
    ],
    ids=["names", "ids"],
)
def test_plan_fails_when_the_account_lacks_a_subnet_zone(public, filter_name, found):
    private = list(PRIVATE.values()) if filter_name == "zone-name" else by_id(PRIVATE)
    synthesized = network_json(public_subnets=public, private_subnets=private)
    [zones] = data_sources(synthesized, "aws_availability_zones").values()
    wanted = sorted({subnet.az for subnet in public})
    assert zones["filter"] == [{"name": filter_name, "values": wanted}]
    [check] = zones["lifecycle"]["postcondition"]
    missing = f"setsubtract({json.dumps(wanted)}, {found})"
    assert check["condition"] == f"${{length({missing}) == 0}}"
    assert check["error_message"].startswith(f'Availability zone(s) ${{join(", ", {missing})}} ')


def test_zone_names_and_ids_cannot_be_mixed():
    with pytest.raises(ValueError, match="mix AZ names and AZ ids"):
        NetworkProps(**network_props(public_subnets=by_id(PUBLIC)))


def test_flow_log_waits_for_its_roles_policy(single):
    [policy_id] = resources(single, "aws_iam_role_policy")
    assert only(single, "aws_flow_log")["depends_on"] == [f"aws_iam_role_policy.{policy_id}"]
