"""One customer-managed KMS key per stack, usable by the services that store data for it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from constructs_lib.iam import Grantable, stack_account, stack_partition

# Key administration by the account (through IAM policies), listed instead of `kms:*`: what
# AWS's default key policy gives key administrators ("Allows key administrators to administer
# the KMS key": Create*, Describe*, Enable*, List*, Put*, Update*, Revoke*, Disable*, Get*,
# Delete*, TagResource, UntagResource, ScheduleKeyDeletion, CancelKeyDeletion,
# RotateKeyOnDemand), spelled out for the actions that apply to one existing key. Disabling the
# key or its rotation and rotating it on demand are what an incident or an audit asks for.
ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyLastUsage",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
USE_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]


@dataclass(frozen=True)
class StackKeyProps:
    alias: str
    region: str
    deletion_window_days: int = 30


class StackKey(Construct):
    """`aws_kms_key` with rotation on and a key policy that names every user.

    The key policy is inline JSON rather than an `aws_iam_policy_document`: in a key policy
    `Resource: "*"` means "this key" (the only value AWS documents there), which scanners
    written for identity policies would misread as "every resource".
    """

    def __init__(self, scope: Construct, id: str, props: StackKeyProps) -> None:
        super().__init__(scope, id)
        self.partition = stack_partition(self)
        self.account_id = stack_account(self)
        account_root = f"arn:{self.partition}:iam::{self.account_id}:root"
        log_groups = f"arn:{self.partition}:logs:{props.region}:{self.account_id}:log-group:*"
        self._policy: dict[str, Any] = {
            "Version": "2012-10-17",
            "Statement": [
                _key_statement("AccountAdministersKey", {"AWS": account_root}, ADMIN_ACTIONS),
                _key_statement("AccountUsesKeyThroughIam", {"AWS": account_root}, USE_ACTIONS),
                # CloudWatch Logs encrypts log groups only with an explicit key-policy grant,
                # limited here to this account's log groups in this region.
                _key_statement(
                    "CloudWatchLogsUseKey",
                    {"Service": f"logs.{props.region}.amazonaws.com"},
                    USE_ACTIONS,
                    condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                ),
            ],
        }
        self.key = KmsKey(
            self,
            "key",
            description=f"{props.alias}: data, logs and Lambda environment of this stack",
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days,
            policy=json.dumps(self._policy),
        )
        KmsAlias(self, "alias", name=f"alias/{props.alias}", target_key_id=self.key.key_id)

    @cached_property
    def key_arn(self) -> str:
        """Read once: every read is a round trip to the jsii kernel, for the same reference."""
        return self.key.arn

    def allow_service(
        self, sid: str, service: str, actions: list[str], condition: dict[str, Any] | None = None
    ) -> None:
        """Add a key-policy statement letting an AWS service principal use the key.

        Services acting on their own behalf (CloudWatch alarms publishing to an encrypted SNS
        topic, ...) are not IAM principals of this account, so only the key policy can let them
        in. Call it before the stack synthesizes; the statement ids must be unique.
        """
        statements = self._policy["Statement"]
        if any(statement["Sid"] == sid for statement in statements):
            raise ValueError(f"key policy already has a statement {sid!r}")
        statements.append(_key_statement(sid, {"Service": service}, actions, condition))
        self.key.policy = json.dumps(self._policy)

    def allow_cloudwatch_alarms(self) -> None:
        """Let CloudWatch alarms publish to SNS topics encrypted with this key: SNS asks KMS
        for a data key on the alarm's behalf. No condition, as in the AWS documentation's
        statement: the request is not documented to carry aws:SourceAccount/SourceArn, and
        a condition it lacks would silently drop every page. Who may publish is decided
        by the topic's policy (this account only, by default)."""
        self.allow_service(
            "CloudWatchAlarmsPublishToEncryptedTopics",
            "cloudwatch.amazonaws.com",
            ["kms:Decrypt", "kms:GenerateDataKey"],
        )

    def allow_eventbridge_deliveries(self) -> None:
        """Let EventBridge send to SQS queues encrypted with this key (a rule's dead-letter
        queue): SQS asks KMS for a data key as the sender. No condition, as in the EventBridge
        User Guide's statement for encrypted queues; who may send is decided by each queue's
        policy (`EventQueue.allow_service_to_send`: that rule only)."""
        self.allow_service(
            "EventBridgeSendsToEncryptedQueues",
            "events.amazonaws.com",
            ["kms:Decrypt", "kms:GenerateDataKey"],
        )

    def grant_encrypt_decrypt(self, grantee: Grantable) -> None:
        grantee.add_to_role_policy(
            "UseStackKey", ["kms:Decrypt", "kms:GenerateDataKey"], [self.key_arn]
        )


def _key_statement(
    sid: str,
    principal: dict[str, str],
    actions: list[str],
    condition: dict[str, dict[str, str]] | None = None,
) -> dict[str, object]:
    """A key-policy statement. `Resource: "*"` in a key policy means this key and nothing else."""
    statement: dict[str, object] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": actions,
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = condition
    return statement
