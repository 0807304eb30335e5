"""checkov on a small stack made of the operating constructs (alarms, releases, domain,
secrets, endpoints) wired the way the stack will wire them: they must pass without new skips."""

import json

import pytest

from constructs_lib.alarm_props import FunctionAlarmProps
from constructs_lib.api_alarms import ApiAlarms
from constructs_lib.apigw import LambdaRestApi
from constructs_lib.domain import ApiDomain, ApiDomainProps
from constructs_lib.endpoints import InterfaceEndpoints, InterfaceEndpointsProps
from constructs_lib.function_alarms import FunctionAlarms
from constructs_lib.kms import StackKey, StackKeyProps
from constructs_lib.lambda_function import FunctionVpcPlacement, ServerlessFunction
from constructs_lib.load_balancer import FunctionLoadBalancer
from constructs_lib.load_balancer_alarms import LoadBalancerAlarms, TargetGroupAlarms
from constructs_lib.monitoring import Monitoring, MonitoringProps
from constructs_lib.releases import (
    DeploymentGroupProps,
    LiveAlias,
    LiveAliasProps,
    Releases,
    ReleasesProps,
)
from constructs_lib.s3 import SecureBucket, SecureBucketProps
from constructs_lib.secrets import FunctionSecrets, FunctionSecretsProps
from constructs_lib.waf import RateLimit, WebFirewall, WebFirewallProps
from scripts.checkov_gate import CHECKOV, scan
from tests.support import (
    function_props,
    load_balancer_props,
    rest_api_props,
    route_load_balancer,
    synth_construct,
)
from tests.test_waf import COUNT_RULES, MANAGED_RULE_GROUPS

REGION = "eu-west-1"


def build(stack) -> None:
    key = StackKey(stack, "key", StackKeyProps(alias="ops", region=REGION))
    key.allow_cloudwatch_alarms()
    bucket = SecureBucket(
        stack, "code", SecureBucketProps(bucket_prefix="ops-", kms_key_arn=key.key_arn)
    )
    secrets = FunctionSecrets(
        stack, "secrets", FunctionSecretsProps(REGION, {"db_password": "/ops/db/password"})
    )
    function = ServerlessFunction(
        stack,
        "fn",
        function_props(
            bucket,
            function_name="ops-fn",
            role_name="ops-fn-role",
            kms_key_arn=key.key_arn,
            environment=secrets.environment,
            reserved_concurrency=10,
            publish_versions=True,
            vpc=FunctionVpcPlacement("vpc-1", ["subnet-a", "subnet-b"]),
        ),
    )
    secrets.grant_read(function)
    key.grant_encrypt_decrypt(function)
    assert function.security_group is not None  # the function runs in the VPC
    InterfaceEndpoints(
        stack,
        "endpoints",
        InterfaceEndpointsProps(
            name="ops",
            region=REGION,
            vpc_id="vpc-1",
            subnet_ids=["subnet-a", "subnet-b"],
            services=["ssm"],
            client_security_group_ids=[function.security_group.id],
        ),
    )
    alias = LiveAlias(stack, "live", function, LiveAliasProps(provisioned_concurrency=2))
    api = LambdaRestApi(
        stack,
        "api",
        rest_api_props(
            function, alias.target, name="ops-api", stage_name="live", kms_key_arn=key.key_arn
        ),
    )
    domain = ApiDomain(
        stack, "domain", api, ApiDomainProps("api.example.com", "Z0123456789ABCDEFGHIJ")
    )
    balancer = FunctionLoadBalancer(
        stack,
        "lb",
        load_balancer_props(name="ops-lb", region=REGION, certificate_arn=domain.certificate_arn),
        vpc_id="vpc-1",
        subnet_ids=["subnet-c", "subnet-d"],
    )
    group = route_load_balancer(balancer, function, alias.target)
    # As in the shipped stacks: checkov wants both entry points behind the firewall.
    firewall = WebFirewall(
        stack,
        "firewall",
        WebFirewallProps(
            "ops", 365, key.key_arn, MANAGED_RULE_GROUPS, COUNT_RULES, RateLimit(2000, 300)
        ),
    )
    firewall.protect("load-balancer", balancer.load_balancer.arn)
    firewall.protect("api-stage", api.stage.arn)
    monitoring = Monitoring(
        stack,
        "monitoring",
        MonitoringProps("ops", REGION, key.key_arn, email_subscribers=["oncall@example.com"]),
    )
    watched = FunctionAlarms(monitoring, function, FunctionAlarmProps(server_error_rate=0.05))
    ApiAlarms(monitoring, api)
    TargetGroupAlarms(monitoring, balancer, group)
    LoadBalancerAlarms(monitoring, balancer)
    Releases(stack, "releases", ReleasesProps("ops", REGION)).add_function(
        "fn",
        alias,
        DeploymentGroupProps("Canary10Percent5Minutes", watched.rollback, 180),
    )


@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov is not installed")
def test_operating_constructs_pass_checkov(tmp_path):
    synthesized = synth_construct(build)
    (tmp_path / "cdk.tf.json").write_text(json.dumps(synthesized))
    assert scan(tmp_path) == []
