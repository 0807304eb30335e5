import pytest

from constructs_lib.lambda_function import ServerlessFunction
from constructs_lib.load_balancer import FunctionLoadBalancer
from constructs_lib.routes import Route
from constructs_lib.s3 import SecureBucket, SecureBucketProps
from tests.support import (
    build_function,
    build_load_balancer,
    build_two_targets,
    data_sources,
    function_props,
    greet_route,
    load_balancer_props,
    only,
    ref,
    resources,
    route_load_balancer,
    synth_construct,
    tagged,
    unqualified_target,
)

CERTIFICATE = "arn:aws:acm:us-east-1:111122223333:certificate/abc"


def lb_json(**overrides) -> dict:
    def build(stack):
        bucket = SecureBucket(stack, "code", SecureBucketProps(bucket_prefix="t-"))
        function = ServerlessFunction(stack, "fn", function_props(bucket, function_name="t-fn"))
        props = load_balancer_props(**overrides)
        lb = FunctionLoadBalancer(stack, "lb", props, vpc_id="vpc-1", subnet_ids=["s-1", "s-2"])
        route_load_balancer(lb, function)

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
    assert (target_group["name"], target_group["target_type"]) == ("t-lb-fn", "lambda")
    attachment = only(plain_http, "aws_lb_target_group_attachment")
    assert attachment["target_id"] == ref(plain_http, "aws_lambda_function", "fn", "arn")
    assert attachment["target_group_arn"] == ref(plain_http, "aws_lb_target_group", "lb", "arn")
    permission = only(plain_http, "aws_lambda_permission")
    assert permission["principal"] == "elasticloadbalancing.amazonaws.com"
    assert permission["function_name"] == ref(
        plain_http, "aws_lambda_function", "fn", "function_name"
    )
    assert permission["source_arn"] == ref(plain_http, "aws_lb_target_group", "lb", "arn")
    assert "qualifier" not in permission
    permission_id = next(iter(resources(plain_http, "aws_lambda_permission")))
    assert attachment["depends_on"] == [f"aws_lambda_permission.{permission_id}"]


NOT_FOUND = {
    "type": "fixed-response",
    "fixed_response": {
        "content_type": "application/json",
        "message_body": '{"message":"Not Found"}',
        "status_code": "404",
    },
}


def test_without_certificate_one_http_listener_answers_404_by_default(plain_http):
    listener = only(plain_http, "aws_lb_listener")
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    assert "certificate_arn" not in listener
    assert listener["default_action"] == [NOT_FOUND]
    rule = only(plain_http, "aws_lb_listener_rule")
    assert rule["listener_arn"] == ref(plain_http, "aws_lb_listener", "lb_http", "arn")


def test_with_certificate_https_answers_404_by_default_and_http_redirects(https):
    listeners = {lis["port"]: lis for lis in resources(https, "aws_lb_listener").values()}
    assert set(listeners) == {80, 443}
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["certificate_arn"] == CERTIFICATE
    assert listeners[443]["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["default_action"] == [NOT_FOUND]
    assert listeners[80]["protocol"] == "HTTP"
    [redirect] = listeners[80]["default_action"]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}
    # Routes are served over HTTPS only: the redirect listener has no rules.
    rule = only(https, "aws_lb_listener_rule")
    assert rule["listener_arn"] == ref(https, "aws_lb_listener", "lb_https", "arn")


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


# Given out of order on purpose: each route's priority, not the order given, decides.
ROUTES = [
    ("ANY", "/files/{proxy+}", "fn"),
    ("GET", "/", "fn"),
    ("GET", "/items", "other"),
    ("ANY", "/items/{id}", "other"),
    ("GET", "/items/{id}", "other"),
    ("POST", "/items/{id}/tags", "other"),
    ("GET", "/items/special", "fn"),
]


def routed_json(routes=ROUTES, calls: int = 1, **overrides) -> dict:
    """`fn` (unqualified) and `other` (its live alias), each in a target group, serving `routes`
    (method, path, target key[, priority]) in `calls` calls of `add_routes`."""

    def build(stack):
        _, targets = build_two_targets(stack)
        balancer = build_load_balancer(stack, **overrides)
        groups = {
            key: balancer.add_function_target(key, f"t-lb-{key}", target)
            for key, target in targets.items()
        }
        assert balancer.target_groups == groups
        pairs = [
            (Route(method, path, targets[key], priority=priority), groups[key])
            for method, path, key, *given in routes
            for priority in [given[0] if given else None]
        ]
        for call in range(calls):
            balancer.add_routes(pairs[call::calls])

    return synth_construct(build)


@pytest.fixture(scope="module")
def routed() -> dict:
    return routed_json()


def group_arn(synthesized: dict, key: str) -> str:
    return ref(synthesized, "aws_lb_target_group", f"lb_{key}-target", "arn")


def rules_by_priority(synthesized: dict) -> list[tuple[int, list[str], list[str] | None, str]]:
    """(priority, path patterns, methods or None, target group arn) of every rule."""
    found = []
    for rule in resources(synthesized, "aws_lb_listener_rule").values():
        patterns = [c["path_pattern"]["values"] for c in rule["condition"] if "path_pattern" in c]
        methods = [
            c["http_request_method"]["values"]
            for c in rule["condition"]
            if "http_request_method" in c
        ]
        assert (
            len(patterns) == 1 and len(methods) <= 1 and len(rule["condition"]) == 1 + len(methods)
        )
        [action] = rule["action"]
        assert action["type"] == "forward"
        found.append(
            (
                rule["priority"],
                patterns[0],
                methods[0] if methods else None,
                action["target_group_arn"],
            )
        )
    return sorted(found)


def priorities(synthesized: dict) -> dict[tuple[str, str], int]:
    """(first path pattern, first method or ANY) of every rule -> its priority."""
    return {
        (patterns[0], methods[0] if methods else "ANY"): priority
        for priority, patterns, methods, _ in rules_by_priority(synthesized)
    }


def test_rules_are_ordered_by_specificity(routed):
    fn, other = group_arn(routed, "fn"), group_arn(routed, "other")
    rules = rules_by_priority(routed)
    assert [rule[1:] for rule in rules] == [
        (["/items/*/tags"], ["POST"], other),
        (["/items/special"], ["GET"], fn),
        (["/items/*"], ["GET"], other),
        (["/items/*"], None, other),  # ANY: no method condition, after GET
        (["/items"], ["GET"], other),
        (["/"], ["GET"], fn),
        (["/files/*"], None, fn),  # greedy last: `/files/*` matches every deeper path
    ]
    numbers = [rule[0] for rule in rules]
    # ELB's range; one rule per priority.
    assert len(set(numbers)) == len(numbers)
    assert all(isinstance(n, int) and 1 <= n <= 50000 for n in numbers)


@pytest.mark.parametrize(
    "routes",
    [
        ROUTES[::-1],
        ROUTES[1:],  # one removed
        [*ROUTES, ("GET", "/orders/{id}", "fn")],  # one added
        [("PUT", "/items/{id}", "other"), *ROUTES[:3], *ROUTES[4:]],  # one of each
    ],
    ids=["reordered", "one removed", "one added", "one added, one removed"],
)
def test_a_rule_keeps_its_priority_whatever_happens_to_the_other_routes(routed, routes):
    """ELB refuses to move a rule to a priority another rule still holds: renumbering rules
    makes adding a route fail to apply."""
    before, after = priorities(routed), priorities(routed_json(routes))
    kept = before.keys() & after.keys()
    assert len(kept) >= len(ROUTES) - 1
    assert {rule: after[rule] for rule in kept} == {rule: before[rule] for rule in kept}
    assert len(set(after.values())) == len(after)


def test_a_given_priority_is_used_as_given():
    routes = [(*route, 50000 - n) for n, route in enumerate(ROUTES)]
    given = priorities(routed_json(routes))
    assert sorted(given.values()) == list(range(50000 - len(ROUTES) + 1, 50001))
    assert given[("/files/*", "ANY")] == 50000
    assert given[("/items/special", "GET")] == 50000 - len(ROUTES) + 1


def test_routes_added_in_several_calls_get_the_same_rules(routed):
    assert rules_by_priority(routed_json(calls=3)) == rules_by_priority(routed)


def test_one_target_group_per_function_with_attachment_and_permission(routed):
    groups = resources(routed, "aws_lb_target_group")
    assert sorted((g["name"], g["target_type"]) for g in groups.values()) == [
        ("t-lb-fn", "lambda"),
        ("t-lb-other", "lambda"),
    ]
    attachments = {
        a["target_group_arn"]: a["target_id"]
        for a in resources(routed, "aws_lb_target_group_attachment").values()
    }
    assert attachments == {
        group_arn(routed, "fn"): ref(routed, "aws_lambda_function", "fn_function", "arn"),
        group_arn(routed, "other"): ref(routed, "aws_lambda_alias", "live", "arn"),
    }
    permissions = {
        p["source_arn"]: (p["function_name"], p.get("qualifier"), p["principal"])
        for p in resources(routed, "aws_lambda_permission").values()
    }
    principal = "elasticloadbalancing.amazonaws.com"
    assert permissions == {
        group_arn(routed, "fn"): (
            ref(routed, "aws_lambda_function", "fn_function", "function_name"),
            None,
            principal,
        ),
        group_arn(routed, "other"): (
            ref(routed, "aws_lambda_function", "other_function", "function_name"),
            ref(routed, "aws_lambda_alias", "live", "name"),
            principal,
        ),
    }
    # Each attachment waits for the permission of its own target group.
    permission_ids = {
        p["source_arn"]: f"aws_lambda_permission.{rid}"
        for rid, p in resources(routed, "aws_lambda_permission").items()
    }
    for attachment in resources(routed, "aws_lb_target_group_attachment").values():
        assert attachment["depends_on"] == [permission_ids[attachment["target_group_arn"]]]


def test_rules_go_on_the_https_listener_with_a_certificate(routed):
    synthesized = routed_json(certificate_arn=CERTIFICATE)
    https = ref(synthesized, "aws_lb_listener", "lb_https", "arn")
    rules = resources(synthesized, "aws_lb_listener_rule").values()
    assert len(rules) == len(ROUTES)
    assert {r["listener_arn"] for r in rules} == {https}
    assert [r[:3] for r in rules_by_priority(synthesized)] == [
        r[:3] for r in rules_by_priority(routed)
    ]


def test_a_load_balancer_without_routes_only_answers_404():
    synthesized = synth_construct(build_load_balancer)
    assert only(synthesized, "aws_lb_listener")["default_action"] == [NOT_FOUND]
    assert resources(synthesized, "aws_lb_listener_rule") == {}
    assert resources(synthesized, "aws_lb_target_group") == {}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({}, {}),  # the same route twice: the same derived priority
        ({"priority": 7}, {"path": "/other", "priority": 7}),
    ],
    ids=["same route", "same given priority"],
)
def test_two_rules_never_share_a_priority_even_across_calls(first, second):
    def build(stack):
        balancer = build_load_balancer(stack)
        function = build_function(stack)
        target_group = balancer.add_function_target("fn", "t-lb-fn", unqualified_target(function))
        balancer.add_routes([(greet_route(function, **first), target_group)])
        with pytest.raises(ValueError, match="share listener priority"):
            balancer.add_routes([(greet_route(function, **second), target_group)])

    synth_construct(build)
