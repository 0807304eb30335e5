import pytest

from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.load_balancer import FunctionLoadBalancer
from constructs_lib.s3 import SecureBucket, SecureBucketProps
from tests.support import (
    data_sources,
    function_props,
    load_balancer_props,
    only,
    ref,
    resources,
    synth_construct,
    tagged,
)

CERTIFICATE = "arn:aws:acm:us-east-1:111122223333:certificate/abc"


def lb_json(**overrides) -> dict:
    def build(stack):
        bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
        function = ServerlessFunction(stack, "fn", function_props(bucket, function_name="t-fn"))
        props = load_balancer_props(**overrides)
        lb = FunctionLoadBalancer(stack, "lb", props, vpc_id="vpc-1", subnet_ids=["s-1", "s-2"])
        lb.route_to_function(function)

    return synth_construct(build)


@pytest.fixture(scope="module")
def plain_http() -> dict:
    return lb_json()


@pytest.fixture(scope="module")
def https() -> dict:
    return lb_json(certificate_arn=CERTIFICATE, deletion_protection=True, access_logs=False)


def test_public_application_lb_drops_invalid_headers(plain_http):
    lb = only(plain_http, "aws_lb")
    assert (lb["name"], lb["internal"], lb["load_balancer_type"]) == ("t-alb", False, "application")
    assert lb["subnets"] == ["s-1", "s-2"]
    assert lb["security_groups"] == [ref(plain_http, "aws_security_group", "lb_sg", "id")]
    assert lb["drop_invalid_header_fields"] is True


def test_security_group_allows_80_443_in_and_nothing_out(plain_http):
    group = ref(plain_http, "aws_security_group", "lb_sg", "id")
    ingress = [
        r
        for r in resources(plain_http, "aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"] == group
    ]
    assert sorted(r["from_port"] for r in ingress) == [80, 443]
    egress = [
        r
        for r in resources(plain_http, "aws_vpc_security_group_egress_rule").values()
        if r["security_group_id"] == group
    ]
    # A Lambda target is invoked by the ELB service: the load balancer sends nothing itself.
    assert egress == []


def test_lambda_target_group_serves_the_function(plain_http):
    target_group = only(plain_http, "aws_lb_target_group")
    assert target_group["target_type"] == "lambda"
    attachment = only(plain_http, "aws_lb_target_group_attachment")
    assert attachment["target_id"] == ref(plain_http, "aws_lambda_function", "fn", "arn")
    permission = only(plain_http, "aws_lambda_permission")
    assert permission["principal"] == "elasticloadbalancing.amazonaws.com"
    assert permission["source_arn"] == ref(plain_http, "aws_lb_target_group", "lb", "arn")
    permission_id = next(iter(resources(plain_http, "aws_lambda_permission")))
    assert attachment["depends_on"] == [f"aws_lambda_permission.{permission_id}"]


def test_without_certificate_one_http_listener_forwards(plain_http):
    listener = only(plain_http, "aws_lb_listener")
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    [action] = listener["default_action"]
    assert action["type"] == "forward"
    assert action["target_group_arn"] == ref(plain_http, "aws_lb_target_group", "lb", "arn")


def test_with_certificate_https_forwards_and_http_redirects(https):
    listeners = {lis["port"]: lis for lis in resources(https, "aws_lb_listener").values()}
    assert set(listeners) == {80, 443}
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["certificate_arn"] == CERTIFICATE
    assert listeners[443]["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["default_action"][0]["type"] == "forward"
    [redirect] = listeners[80]["default_action"]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}


def test_deletion_protection_follows_props(plain_http, https):
    assert only(plain_http, "aws_lb")["enable_deletion_protection"] is False
    assert only(https, "aws_lb")["enable_deletion_protection"] is True


def test_access_logs_go_to_an_sse_s3_bucket_writable_by_elb(plain_http, https):
    access_logs = only(plain_http, "aws_lb")["access_logs"]
    bucket = ref(plain_http, "aws_s3_bucket", "access-logs", "id")
    assert access_logs == {"bucket": bucket, "prefix": "alb", "enabled": True}
    [rule] = next(
        e
        for rid, e in resources(
            plain_http, "aws_s3_bucket_server_side_encryption_configuration"
        ).items()
        if "access-logs" in rid
    )["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    [document] = [
        d
        for rid, d in data_sources(plain_http, "aws_iam_policy_document").items()
        if "access-logs" in rid
    ]
    writes = [s for s in document["statement"] if s["effect"] == "Allow"]
    assert writes[0]["principals"][0]["identifiers"][0].startswith(
        "${data.aws_elb_service_account."
    )
    assert "access_logs" not in only(https, "aws_lb")


def test_load_balancer_waits_for_the_log_bucket_policy(plain_http, https):
    """ELB checks its write access once, when it enables access logs."""
    policy = next(
        rid for rid in resources(plain_http, "aws_s3_bucket_policy") if "access-logs" in rid
    )
    assert only(plain_http, "aws_lb")["depends_on"] == [f"aws_s3_bucket_policy.{policy}"]
    assert "depends_on" not in only(https, "aws_lb")  # no access logs, no bucket


def log_writer(synthesized: dict) -> dict:
    [document] = [
        d
        for rid, d in data_sources(synthesized, "aws_iam_policy_document").items()
        if "access-logs" in rid
    ]
    [write] = [s for s in document["statement"] if s["effect"] == "Allow"]
    return write


@pytest.mark.parametrize("region", ["eu-central-2", "ca-west-1", "il-central-1", "mx-central-1"])
def test_regions_without_an_elb_account_trust_the_log_delivery_service(region):
    synthesized = lb_json(region=region)
    assert log_writer(synthesized)["principals"] == [
        {"type": "Service", "identifiers": ["logdelivery.elasticloadbalancing.amazonaws.com"]}
    ]
    assert data_sources(synthesized, "aws_elb_service_account") == {}


def test_elb_account_table_holds_only_regions_launched_before_august_2022():
    from constructs_lib.load_balancer import ELB_ACCOUNT_REGIONS
    from serverless_app.config import AWS_REGIONS

    assert not ELB_ACCOUNT_REGIONS - AWS_REGIONS
    later = {"ap-south-2", "ap-southeast-4", "ca-west-1", "eu-central-2", "eu-south-2"}
    later |= {"il-central-1", "me-central-1", "mx-central-1", "ap-southeast-5", "ap-east-2"}
    assert not ELB_ACCOUNT_REGIONS & later
    assert log_writer(lb_json(region="ap-southeast-3"))["principals"][0]["type"] == "AWS"


def test_access_logs_expire(plain_http):
    [lifecycle] = [
        lc
        for rid, lc in resources(plain_http, "aws_s3_bucket_lifecycle_configuration").items()
        if "access-logs" in rid
    ]
    assert lifecycle["rule"][0]["expiration"] == [{"days": 90}]
    shorter = lb_json(access_log_expiration_days=7, force_destroy=True)
    [lifecycle] = [
        lc
        for rid, lc in resources(shorter, "aws_s3_bucket_lifecycle_configuration").items()
        if "access-logs" in rid
    ]
    assert lifecycle["rule"][0]["expiration"] == [{"days": 7}]
    [bucket] = [b for rid, b in resources(shorter, "aws_s3_bucket").items() if "access-logs" in rid]
    assert bucket["force_destroy"] is True


def test_internet_facing_load_balancer_waits_for_the_internet_gateway(stack):
    depends_on = only(stack, "aws_lb")["depends_on"]
    igw = next(iter(resources(stack, "aws_internet_gateway")))
    [route] = [rid for rid, r in resources(stack, "aws_route").items() if "gateway_id" in r]
    assert f"aws_internet_gateway.{igw}" in depends_on
    assert f"aws_route.{route}" in depends_on


def test_load_balancer_sits_in_the_public_subnets(stack):
    public = tagged(stack, "aws_subnet", Tier="public")
    assert len(public) >= 2
    subnets = only(stack, "aws_lb")["subnets"]
    assert sorted(subnets) == sorted(f"${{aws_subnet.{rid}.id}}" for rid in public)
