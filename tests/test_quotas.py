"""AWS quotas the constructs share with the configuration checks: a function's resource-based
policy size, wildcards per listener rule, resources per REST API. The checks are in
tests/test_config.py; here the estimate itself and the constructs' own refusals."""

from __future__ import annotations

import hashlib
import json

import pytest

from constructs_lib.permissions import RoutedFunction, estimated_policy_bytes
from tests.support import (
    build_api,
    build_function,
    build_load_balancer,
    greet_route,
    synth_construct,
)

ACCOUNT = "111111111111"


def statement(sid: str, service: str, source_arn: str) -> dict:
    """One statement as Lambda's GetPolicy returns it for an AddPermission with a source ARN
    (lambda/latest/dg/access-control-resource-based.html)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "lambda:InvokeFunction",
        "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:shop-orders:live",
        "Condition": {"ArnLike": {"AWS:SourceArn": source_arn}},
    }


def test_the_estimate_is_the_size_of_the_policy_lambda_stores():
    route_hash = hashlib.sha1(b"GET /orders/{id}").hexdigest()[:8]
    policy = {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [
            statement(
                f"AllowApiGateway-get-orders-id-{route_hash}",
                "apigateway.amazonaws.com",
                f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/*/GET/orders/*",
            ),
            statement(
                "AllowExecutionFromLoadBalancer",
                "elasticloadbalancing.amazonaws.com",
                f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/"
                "shop-alb-orders/0123456789abcdef",
            ),
        ],
    }
    routed = RoutedFunction(
        "shop-orders", "eu-west-1", (("GET", "/orders/{id}"),), "shop-alb-orders"
    )
    assert estimated_policy_bytes(routed) == len(json.dumps(policy, separators=(",", ":")))


@pytest.mark.parametrize(("routes", "fits"), [(60, True), (62, False)])
def test_sixty_routes_to_one_function_fit_its_policy(routes, fits):
    # The names dev.toml's `hello` gets: function and target group `hello-dev-hello`.
    routed = RoutedFunction(
        "hello-dev-hello",
        "us-east-1",
        tuple(("GET", f"/r{n}") for n in range(routes)),
        "hello-dev-hello",
    )
    assert (estimated_policy_bytes(routed) <= 20 * 1024) is fits


def listener_rule_for(path: str):
    """Build a load balancer with one rule for `GET path`."""

    def build(stack):
        function = build_function(stack)
        balancer = build_load_balancer(stack)
        route = greet_route(function, path=path)
        target_group = balancer.add_function_target("fn", "t-lb-fn", route.target)
        balancer.add_routes([(route, target_group)])

    return build


def test_a_listener_rule_takes_five_wildcards_and_no_more():
    five = synth_construct(listener_rule_for("/a/{p1}/{p2}/{p3}/{p4}/{p5}"))
    [rule] = five["resource"]["aws_lb_listener_rule"].values()
    assert rule["condition"][0]["path_pattern"]["values"] == ["/a/*/*/*/*/*"]
    with pytest.raises(ValueError, match="a listener rule allows 5 wildcards"):
        synth_construct(listener_rule_for("/a/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}"))


def test_the_rest_api_refuses_more_resources_than_api_gateway_allows():
    def build(stack):
        function = build_function(stack)
        routes = [greet_route(function, path=f"/p{n}/a/b/c/d/e/f") for n in range(43)]
        build_api(stack, function, routes=routes)

    with pytest.raises(ValueError, match="301 API resources; API Gateway allows 300"):
        synth_construct(build)
