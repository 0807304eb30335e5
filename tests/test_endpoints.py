import pytest

from constructs_lib.endpoints import InterfaceEndpoints, InterfaceEndpointsProps
from tests.support import only, ref, resources, synth_construct


def props(**overrides) -> InterfaceEndpointsProps:
    return InterfaceEndpointsProps(
        **{
            "name": "t",
            "region": "eu-west-1",
            "vpc_id": "vpc-1",
            "subnet_ids": ["subnet-a", "subnet-b"],
            "services": ["ssm", "kms"],
            "client_security_group_ids": ["sg-function"],
            **overrides,
        }
    )


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(lambda stack: InterfaceEndpoints(stack, "endpoints", props()))


def test_one_private_dns_interface_endpoint_per_service(synthesized):
    endpoints = resources(synthesized, "aws_vpc_endpoint").values()
    assert {e["service_name"] for e in endpoints} == {
        "com.amazonaws.eu-west-1.ssm",
        "com.amazonaws.eu-west-1.kms",
    }
    group = ref(synthesized, "aws_security_group", "endpoints", "id")
    for endpoint in endpoints:
        assert endpoint["vpc_endpoint_type"] == "Interface"
        assert endpoint["private_dns_enabled"] is True
        assert endpoint["subnet_ids"] == ["subnet-a", "subnet-b"]
        assert endpoint["security_group_ids"] == [group]


def test_only_https_from_the_client_group_gets_in(synthesized):
    group = only(synthesized, "aws_security_group")
    assert "egress" not in group and "ingress" not in group
    rule = only(synthesized, "aws_vpc_security_group_ingress_rule")
    assert rule["security_group_id"] == ref(synthesized, "aws_security_group", "endpoints", "id")
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 443, 443)
    assert rule["referenced_security_group_id"] == "sg-function"
    assert "cidr_ipv4" not in rule
    assert not resources(synthesized, "aws_vpc_security_group_egress_rule")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"services": []}, "at least one"),
        ({"services": ["ssm", "ssm"]}, "twice"),
        ({"services": ["s3"]}, "gateway"),
        ({"services": ["SSM!"]}, "service"),
        ({"subnet_ids": []}, "subnet"),
        ({"client_security_group_ids": []}, "client"),
    ],
)
def test_props_are_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        props(**overrides)
