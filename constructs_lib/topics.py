"""An SNS topic encrypted with a customer-managed key, the grant a publisher needs, and a
function alias subscribed to it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from constructs_lib.event_limits import SNS_FILTER_POLICY_MAX_BYTES, FilterPolicyScope
from constructs_lib.eventbridge import pattern_text
from constructs_lib.iam import Grantable
from constructs_lib.permissions import statement_name
from constructs_lib.releases import InvokeTarget
from constructs_lib.terraform_text import literal_text

TOPIC_PUBLISH_ACTIONS = ("sns:Publish",)
SNS_PRINCIPAL = "sns.amazonaws.com"


@dataclass(frozen=True)
class TopicProps:
    name: str
    # Customer-managed key (server-side encryption); a publisher needs GenerateDataKey on it.
    kms_key_arn: str


@dataclass(frozen=True)
class SubscriptionProps:
    # Default: every message. An SNS filter policy, sent as written.
    filter_policy: dict[str, Any] | None = None
    # Default: SNS's MessageAttributes.
    filter_policy_scope: FilterPolicyScope | None = None

    def __post_init__(self) -> None:
        if self.filter_policy is not None:
            # What SNS gets: the JSON the subscription sends, as Terraform reads it.
            size = len(literal_text(pattern_text(self.filter_policy)).encode())
            if not self.filter_policy or size > SNS_FILTER_POLICY_MAX_BYTES:
                raise ValueError(
                    f"filter_policy must be a non-empty table of at most "
                    f"{SNS_FILTER_POLICY_MAX_BYTES} bytes as JSON, got {size}"
                )
        if self.filter_policy_scope is not None and self.filter_policy is None:
            raise ValueError("filter_policy_scope needs a filter_policy")


class EventTopic(Construct):
    def __init__(self, scope: Construct, id: str, props: TopicProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.grant_id = id
        self.topic = SnsTopic(self, "topic", name=props.name, kms_master_key_id=props.kms_key_arn)

    @cached_property
    def topic_arn(self) -> str:
        return self.topic.arn

    def grant_publish(self, grantee: Grantable) -> None:
        """Allow publishing to the topic (statement `PublishMessages<Id>`); the grantee needs
        `kms:GenerateDataKey` and `kms:Decrypt` on the topic's key too."""
        grantee.add_to_role_policy(
            statement_name("PublishMessages", self.grant_id),
            TOPIC_PUBLISH_ACTIONS,
            [self.topic_arn],
        )

    def subscribe(
        self,
        scope: Construct,
        target: InvokeTarget,
        props: SubscriptionProps | None = None,
    ) -> SnsTopicSubscription:
        """`target` (a function's alias) receives the topic's messages: a subscription, and a
        permission that lets SNS invoke that alias for this topic only, both in `scope` (its
        id names the permission's statement, unique in the function's policy)."""
        props = props or SubscriptionProps()
        LambdaPermission(
            scope,
            "permission",
            statement_id=statement_name("AllowSns", scope.node.id),
            action="lambda:InvokeFunction",
            function_name=target.function_name,
            qualifier=target.qualifier,
            principal=SNS_PRINCIPAL,
            source_arn=self.topic_arn,
        )
        return SnsTopicSubscription(
            scope,
            "subscription",
            topic_arn=self.topic_arn,
            protocol="lambda",
            endpoint=target.arn,
            filter_policy=pattern_text(props.filter_policy)
            if props.filter_policy is not None
            else None,
            filter_policy_scope=props.filter_policy_scope,
        )
