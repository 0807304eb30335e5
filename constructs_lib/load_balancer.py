"""The internet-facing application load balancer, serving Lambda functions by path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from cdktf import TerraformResource
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHttpRequestMethod,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.lb_target_group_attachment import LbTargetGroupAttachment
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

from constructs_lib.names import access_log_bucket_prefix
from constructs_lib.paths import (
    LISTENER_NOT_FOUND_BODY,
    MAX_WILDCARDS_PER_RULE,
    wildcard_count,
    wildcard_path,
)
from constructs_lib.permissions import LOAD_BALANCER_PRINCIPAL, LOAD_BALANCER_STATEMENT_ID
from constructs_lib.releases import InvokeTarget
from constructs_lib.routes import Route
from constructs_lib.s3 import SecureBucket, SecureBucketProps, ServiceWrite

ANYWHERE = "0.0.0.0/0"
ACCESS_LOG_PREFIX = "alb"
# Regions where ELB writes access logs as a regional AWS account (`data
# "aws_elb_service_account"`), checked 2026-11-28 against the ELB guide's "Regions available
# before August 2022" table and the AWS provider's map. Every later region (eu-central-2,
# ap-south-2, ca-west-1, il-central-1, mx-central-1, ...) has no such account: the data source
# fails with "unsupported AWS Region" and the bucket must trust the log-delivery service.
ELB_ACCOUNT_REGIONS = frozenset(
    {
        *("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1"),
        *("af-south-1", "me-south-1", "ap-east-1", "ap-south-1", "ap-northeast-1"),
        *("ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2"),
        *("ap-southeast-3", "eu-central-1", "eu-north-1", "eu-south-1", "eu-west-1"),
        *("eu-west-2", "eu-west-3", "us-gov-east-1", "us-gov-west-1"),
        *("cn-north-1", "cn-northwest-1"),
    }
)
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


@dataclass(frozen=True)
class LoadBalancerProps:
    name: str
    # Decides who delivers access logs (see ELB_ACCOUNT_REGIONS).
    region: str
    # With a certificate: HTTPS on 443 and a permanent redirect from 80. Without one: plain
    # HTTP on 80 (documented choice for environments without a domain).
    certificate_arn: str | None
    ssl_policy: str
    deletion_protection: bool
    access_logs: bool
    # Current access-log objects expire after this many days (then as noncurrent versions).
    access_log_expiration_days: int
    # Lets `terraform destroy` delete the access-log bucket with its logs in it.
    force_destroy: bool
    ingress_ports: tuple[int, ...] = (80, 443)


class FunctionLoadBalancer(Construct):
    """Application load balancer in the given (public) subnets of a VPC;
    `add_function_target` and `add_routes` make it serve Lambda functions. `after`: what it
    must be created after (the VPC's internet gateway and route, see
    `Network.internet_access`).

    Attributes named by several resources (the security group's id, the load balancer's and
    each target group's ARN, ...) are read once and kept: every read is a round trip to the
    jsii kernel, and the token it returns stands for the same reference every time."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        props: LoadBalancerProps,
        *,
        vpc_id: str,
        subnet_ids: Sequence[str],
        after: Sequence[TerraformResource] = (),
    ) -> None:
        super().__init__(scope, id)
        self.props = props
        # Function target groups by id (`add_function_target`); the alarms watch each.
        self.target_groups: dict[str, LbTargetGroup] = {}
        # Each of those groups -> its ARN, for its permission, attachment and listener rules.
        self._target_group_arns: dict[LbTargetGroup, str] = {}
        # Listener priority -> the route holding it, across every `add_routes` call.
        self._priorities: dict[int, Route] = {}
        self.security_group = self._security_group(vpc_id)
        self.security_group_id: str = self.security_group.id
        self._allow_ingress()
        self.access_log_bucket = self._access_log_bucket() if props.access_logs else None
        self.load_balancer = Lb(
            self,
            "alb",
            name=props.name,
            internal=False,
            load_balancer_type="application",
            security_groups=[self.security_group_id],
            subnets=list(subnet_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=props.deletion_protection,
            access_logs=self._access_logs(),
            # ELB checks that it may write to the log bucket once, when it enables the logs:
            # the bucket policy has to be in place first ("Access Denied for bucket").
            depends_on=[*after, *self._log_bucket_policy()] or None,
        )
        self.load_balancer_arn: str = self.load_balancer.arn
        self.listener = self._listeners()

    @cached_property
    def dns_name(self) -> str:
        return self.load_balancer.dns_name

    @property
    def zone_id(self) -> str:
        """The load balancer's own hosted zone, for an alias record pointing at it."""
        return self.load_balancer.zone_id

    @cached_property
    def arn_suffix(self) -> str:
        """The load balancer's dimension in CloudWatch metrics (one per alarm and widget)."""
        return self.load_balancer.arn_suffix

    @cached_property
    def _listener_arn(self) -> str:
        return self.listener.arn

    def _security_group(self, vpc_id: str) -> SecurityGroup:
        return SecurityGroup(
            self,
            "sg",
            name=f"{self.props.name}-sg",
            # No egress rule: a Lambda target is invoked by the ELB service, not over the network.
            description="Load balancer: HTTP and HTTPS from the internet, nothing out",
            vpc_id=vpc_id,
        )

    def _allow_ingress(self) -> None:
        for port in self.props.ingress_ports:
            VpcSecurityGroupIngressRule(
                self,
                f"sg-in-{port}",
                security_group_id=self.security_group_id,
                description=f"Allow TCP {port} from anywhere",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=ANYWHERE,
            )

    def _access_log_bucket(self) -> SecureBucket:
        """SSE-S3, not KMS: ELB log delivery cannot write to KMS-encrypted buckets."""
        account_id = DataAwsCallerIdentity(self, "account").account_id
        return SecureBucket(
            self,
            "access-logs",
            SecureBucketProps(
                bucket_prefix=access_log_bucket_prefix(self.props.name),
                expiration_days=self.props.access_log_expiration_days,
                force_destroy=self.props.force_destroy,
                service_writes=[
                    self._log_writer(key_pattern=f"{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*")
                ],
            ),
        )

    def _log_writer(self, key_pattern: str) -> ServiceWrite:
        """The regional ELB account where one exists, else the log-delivery service."""
        if self.props.region in ELB_ACCOUNT_REGIONS:
            elb_account = DataAwsElbServiceAccount(self, "elb-account")
            return ServiceWrite("AWS", elb_account.arn, key_pattern)
        return ServiceWrite("Service", ELB_LOG_DELIVERY_SERVICE, key_pattern)

    def _log_bucket_policy(self) -> list[TerraformResource]:
        return [self.access_log_bucket.policy] if self.access_log_bucket else []

    def _access_logs(self) -> LbAccessLogs | None:
        if self.access_log_bucket is None:
            return None
        return LbAccessLogs(
            bucket=self.access_log_bucket.bucket_id, prefix=ACCESS_LOG_PREFIX, enabled=True
        )

    def add_function_target(self, id: str, name: str, target: InvokeTarget) -> LbTargetGroup:
        """A `lambda` target group named `name` (at most 32 characters) holding `target` (a
        function or its live alias), for `add_routes`."""
        target_group = LbTargetGroup(self, f"{id}-target", name=name, target_type="lambda")
        arn = target_group.arn
        self._target_group_arns[target_group] = arn
        permission = LambdaPermission(
            self,
            f"{id}-invoke-permission",
            statement_id=LOAD_BALANCER_STATEMENT_ID,
            action="lambda:InvokeFunction",
            function_name=target.function_name,
            qualifier=target.qualifier,
            principal=LOAD_BALANCER_PRINCIPAL,
            source_arn=arn,
        )
        LbTargetGroupAttachment(
            self,
            f"{id}-attachment",
            target_group_arn=arn,
            target_id=target.arn,
            depends_on=[permission],
        )
        self.target_groups[id] = target_group
        return target_group

    def add_routes(self, routes: Sequence[tuple[Route, LbTargetGroup]]) -> None:
        """One listener rule per route, forwarding to its target group (made by
        `add_function_target`), at the route's `listener_priority`: a priority that depends on
        the route alone, so that a change to other routes never renumbers this one."""
        _refuse_too_many_wildcards(route for route, _ in routes)
        taken = self._priorities
        for route, target_group in routes:
            priority = route.listener_priority
            if priority in taken:
                raise ValueError(
                    f"routes {taken[priority].name!r} and {route.name!r} share listener priority "
                    f"{priority}: give one of them its own priority"
                )
            taken[priority] = route
            conditions = [
                LbListenerRuleCondition(
                    path_pattern=LbListenerRuleConditionPathPattern(
                        values=[wildcard_path(route.path)]
                    )
                )
            ]
            if route.method != "ANY":
                conditions.append(
                    LbListenerRuleCondition(
                        http_request_method=LbListenerRuleConditionHttpRequestMethod(
                            values=[route.method]
                        )
                    )
                )
            LbListenerRule(
                self,
                f"rule-{route.slug}",
                listener_arn=self._listener_arn,
                priority=priority,
                action=[
                    LbListenerRuleAction(
                        type="forward", target_group_arn=self._target_group_arns[target_group]
                    )
                ],
                condition=conditions,
            )

    def _listeners(self) -> LbListener:
        """The listener routes attach to: HTTPS with a certificate (plus a redirect from 80),
        else HTTP. A path no route matches gets a 404 from the load balancer itself."""
        not_found = LbListenerDefaultAction(
            type="fixed-response",
            fixed_response=LbListenerDefaultActionFixedResponse(
                content_type="application/json",
                message_body=LISTENER_NOT_FOUND_BODY,
                status_code="404",
            ),
        )
        if self.props.certificate_arn is None:
            return self._listener("http", 80, "HTTP", not_found)
        self._listener(
            "http-redirect",
            80,
            "HTTP",
            LbListenerDefaultAction(
                type="redirect",
                redirect=LbListenerDefaultActionRedirect(
                    port="443", protocol="HTTPS", status_code="HTTP_301"
                ),
            ),
        )
        return self._listener(
            "https",
            443,
            "HTTPS",
            not_found,
            certificate_arn=self.props.certificate_arn,
            ssl_policy=self.props.ssl_policy,
        )

    def _listener(
        self,
        id: str,
        port: int,
        protocol: str,
        action: LbListenerDefaultAction,
        certificate_arn: str | None = None,
        ssl_policy: str | None = None,
    ) -> LbListener:
        return LbListener(
            self,
            id,
            load_balancer_arn=self.load_balancer_arn,
            port=port,
            protocol=protocol,
            default_action=[action],
            certificate_arn=certificate_arn,
            ssl_policy=ssl_policy,
        )


def _refuse_too_many_wildcards(routes: Iterable[Route]) -> None:
    for route in routes:
        if wildcard_count(route.path) > MAX_WILDCARDS_PER_RULE:
            raise ValueError(
                f"{route.name}: a listener rule allows {MAX_WILDCARDS_PER_RULE} wildcards "
                "(one per path parameter)"
            )
