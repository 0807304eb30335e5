"""The SNS topic every alarm notifies, with its email and https subscriptions.

The topic and its subscriptions are made in the scope given (the `Monitoring` construct), not in
a construct of their own: their Terraform addresses stay those of the deployed resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct


class AlarmTopic:
    """`topic`, encrypted with `kms_key_arn`, and `email-<n>` and `https-<n>` subscriptions.
    Each subscriber must confirm before it receives anything."""

    def __init__(
        self,
        scope: Construct,
        *,
        name: str,
        kms_key_arn: str,
        email_subscribers: Sequence[str],
        https_subscribers: Sequence[str],
    ) -> None:
        self.topic = SnsTopic(scope, "topic", name=name, kms_master_key_id=kms_key_arn)
        for index, address in enumerate(email_subscribers):
            SnsTopicSubscription(
                scope, f"email-{index}", topic_arn=self.arn, protocol="email", endpoint=address
            )
        for index, url in enumerate(https_subscribers):
            SnsTopicSubscription(
                scope, f"https-{index}", topic_arn=self.arn, protocol="https", endpoint=url
            )

    @cached_property
    def arn(self) -> str:
        """Read once for the subscriptions and every alarm's actions: each read is a round
        trip to the jsii kernel, for the same reference."""
        return self.topic.arn
