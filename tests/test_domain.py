import pytest

from constructs_lib.domain import AliasTarget, ApiDomain, ApiDomainProps
from tests.support import (
    build_api,
    build_function,
    build_load_balancer,
    data_sources,
    only,
    ref,
    resources,
    route_load_balancer,
    synth_construct,
)

ZONE = "Z0123456789ABCDEFGHIJ"


def build(stack, **overrides) -> ApiDomain:
    fn = build_function(stack)
    api = build_api(stack, fn)
    props = {"domain_name": "api.example.com", "hosted_zone_id": ZONE, **overrides}
    domain = ApiDomain(stack, "domain", api, ApiDomainProps(**props))
    # The load balancer's HTTPS listener serves the same, validated certificate.
    balancer = build_load_balancer(stack, certificate_arn=domain.certificate_arn)
    route_load_balancer(balancer, fn)
    return domain


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(build)


def test_certificate_is_validated_by_dns_in_the_zone(synthesized):
    certificate = only(synthesized, "aws_acm_certificate")
    assert certificate["domain_name"] == "api.example.com"
    assert certificate["validation_method"] == "DNS"
    assert certificate["lifecycle"]["create_before_destroy"] is True
    [record] = [r for rid, r in resources(synthesized, "aws_route53_record").items()
                if "validation" in rid]  # fmt: skip
    assert record["zone_id"] == ZONE
    options = "tolist(aws_acm_certificate.domain_certificate_B29D45B6.domain_validation_options)"
    assert record["name"] == f"${{{options}.0.resource_record_name}}"
    assert record["type"] == f"${{{options}.0.resource_record_type}}"
    assert record["records"] == [f"${{{options}.0.resource_record_value}}"]
    validation = only(synthesized, "aws_acm_certificate_validation")
    assert validation["certificate_arn"] == ref(synthesized, "aws_acm_certificate", "domain", "arn")
    assert validation["validation_record_fqdns"] == [
        ref(synthesized, "aws_route53_record", "validation-record-0", "fqdn")
    ]


def test_one_validation_record_per_name():
    synthesized = synth_construct(
        lambda stack: build(stack, alternative_names=["www.example.com", "*.example.com"])
    )
    assert only(synthesized, "aws_acm_certificate")["subject_alternative_names"] == [
        "www.example.com",
        "*.example.com",
    ]
    validation = only(synthesized, "aws_acm_certificate_validation")
    assert len(validation["validation_record_fqdns"]) == 3


def test_regional_custom_domain_with_tls_1_2_on_the_validated_certificate(synthesized):
    domain = only(synthesized, "aws_api_gateway_domain_name")
    assert domain["domain_name"] == "api.example.com"
    assert domain["endpoint_configuration"] == {"types": ["REGIONAL"]}
    assert domain["security_policy"] == "TLS_1_2"
    assert domain["regional_certificate_arn"] == ref(
        synthesized, "aws_acm_certificate_validation", "domain", "certificate_arn"
    )
    assert "certificate_arn" not in domain  # the edge-optimized field


def test_base_path_mapping_serves_the_stage(synthesized):
    mapping = only(synthesized, "aws_api_gateway_base_path_mapping")
    assert mapping["api_id"] == ref(synthesized, "aws_api_gateway_rest_api", "api", "id")
    assert mapping["stage_name"] == ref(synthesized, "aws_api_gateway_stage", "api", "stage_name")
    assert mapping["domain_name"] == ref(
        synthesized, "aws_api_gateway_domain_name", "domain", "domain_name"
    )
    assert "base_path" not in mapping


def test_alias_record_points_at_the_regional_domain(synthesized):
    record = resources(synthesized, "aws_route53_record")
    [alias] = [r for rid, r in record.items() if "alias-record" in rid]
    assert alias["type"] == "A"
    assert alias["zone_id"] == ZONE
    assert alias["alias"] == {
        "name": ref(synthesized, "aws_api_gateway_domain_name", "domain", "regional_domain_name"),
        "zone_id": ref(synthesized, "aws_api_gateway_domain_name", "domain", "regional_zone_id"),
        "evaluate_target_health": False,
    }


def test_load_balancer_listener_uses_the_validated_certificate(synthesized):
    listeners = resources(synthesized, "aws_lb_listener").values()
    [https] = [listener for listener in listeners if listener["port"] == 443]
    assert https["certificate_arn"] == ref(
        synthesized, "aws_acm_certificate_validation", "domain", "certificate_arn"
    )


def test_the_load_balancer_gets_its_own_name_on_the_certificate():
    def build_pointed(stack):
        fn = build_function(stack)
        api = build_api(stack, fn)
        props = ApiDomainProps("api.example.com", ZONE, alternative_names=["alb.api.example.com"])
        domain = ApiDomain(stack, "domain", api, props)
        balancer = build_load_balancer(stack, certificate_arn=domain.certificate_arn)
        route_load_balancer(balancer, fn)
        domain.point(
            "balancer-record",
            "alb.api.example.com",
            AliasTarget(balancer.dns_name, balancer.zone_id),
        )

    synthesized = synth_construct(build_pointed)
    assert only(synthesized, "aws_acm_certificate")["subject_alternative_names"] == [
        "alb.api.example.com"
    ]
    [record] = [r for rid, r in resources(synthesized, "aws_route53_record").items()
                if "balancer-record" in rid]  # fmt: skip
    assert (record["name"], record["type"], record["zone_id"]) == ("alb.api.example.com", "A", ZONE)
    assert record["alias"] == {
        "name": ref(synthesized, "aws_lb", "lb", "dns_name"),
        "zone_id": ref(synthesized, "aws_lb", "lb", "zone_id"),
        "evaluate_target_health": False,
    }


def test_only_a_name_on_the_certificate_can_be_pointed():
    def build_unnamed(stack):
        domain = build(stack)
        domain.point("x", "www.example.com", AliasTarget("lb.example.net", "Z1"))

    with pytest.raises(ValueError, match="not among the certificate's alternative_names"):
        synth_construct(build_unnamed)


def test_stable_url():
    domains = []
    synth_construct(lambda stack: domains.append(build(stack, base_path="v1")))
    # The stage root on the domain; a route's URL is this plus its path.
    assert domains[0].url == "https://api.example.com/v1"
    synth_construct(lambda stack: domains.append(build(stack)))
    assert domains[1].url == "https://api.example.com"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"domain_name": "API.example.com"}, "domain"),
        ({"domain_name": "-bad.example.com"}, "domain"),
        ({"domain_name": "*.example.com"}, "wildcard"),
        ({"domain_name": "a" * 64 + ".example.com"}, "domain"),
        ({"hosted_zone_id": "example.com"}, "hosted zone"),
        ({"base_path": "/v1"}, "base_path"),
        ({"alternative_names": [f"n{i}.example.com" for i in range(10)]}, "10 names"),
    ],
)
def test_props_are_checked(overrides, message):
    props = {"domain_name": "api.example.com", "hosted_zone_id": ZONE, **overrides}
    with pytest.raises(ValueError, match=message):
        ApiDomainProps(**props)


def test_plan_fails_on_a_private_zone_or_one_that_does_not_hold_the_names():
    synthesized = synth_construct(
        lambda stack: build(stack, alternative_names=["www.example.com", "*.example.com"])
    )
    [zone] = data_sources(synthesized, "aws_route53_zone").values()
    assert zone["zone_id"] == ZONE
    private, outside = zone["lifecycle"]["postcondition"]
    assert private["condition"] == "${!self.private_zone}"
    assert private["error_message"].startswith(f"Hosted zone {ZONE} (${{self.name}}) is private")
    # Every name on the certificate (a wildcard by its base name) is the zone's or below it.
    names = '["api.example.com", "example.com", "www.example.com"]'
    zone_name = 'trimsuffix(lower(self.name), ".")'
    listed = (
        f"[for name in {names} : name if !(name == {zone_name} || "
        f'endswith(name, ".${{{zone_name}}}"))]'
    )
    assert outside["condition"] == f"${{length({listed}) == 0}}"
    assert outside["error_message"] == (
        f'${{join(", ", {listed})}} not in hosted zone {ZONE} (${{self.name}}): use the public '
        "hosted zone that holds the name."
    )
