import fnmatch
import json

import botocore.session
import pytest

from constructs_lib.kms import StackKey, StackKeyProps
from tests.support import only, synth_construct


@pytest.fixture(scope="module")
def synthesized() -> dict:
    return synth_construct(
        lambda stack: StackKey(stack, "key", StackKeyProps(alias="dev", region="eu-west-1"))
    )


@pytest.fixture(scope="module")
def key_policy(synthesized) -> dict:
    return json.loads(only(synthesized, "aws_kms_key")["policy"])


def test_customer_managed_key_with_rotation_and_alias(synthesized):
    key = only(synthesized, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30
    assert only(synthesized, "aws_kms_alias")["name"] == "alias/dev"


def test_key_policy_grants_cloudwatch_logs_of_this_account_and_region(key_policy):
    [logs] = [s for s in key_policy["Statement"] if s["Sid"] == "CloudWatchLogsUseKey"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"} <= set(logs["Action"])
    [arn_pattern] = logs["Condition"]["ArnLike"].values()
    assert arn_pattern.startswith("arn:${data.aws_partition.")
    assert arn_pattern.endswith(":log-group:*")
    assert ":logs:eu-west-1:" in arn_pattern


def test_key_policy_lists_actions_instead_of_kms_wildcard(key_policy):
    actions = [a for s in key_policy["Statement"] for a in s["Action"]]
    assert "kms:PutKeyPolicy" in actions  # the account can never lock itself out
    assert not [a for a in actions if "*" in a]


# AWS's default key policy, statement "Allows key administrators to administer the KMS key"
# (AWS KMS Developer Guide, "Default key policy").
AWS_KEY_ADMINISTRATOR_PATTERNS = (
    *("kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*"),
    *("kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource"),
    *("kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"),
    "kms:RotateKeyOnDemand",
)
# Operations those patterns match that do not apply to the stack's key: a symmetric key with
# key material from KMS, in one region.
NOT_FOR_THIS_KEY = {
    "CreateKey": "creates another key",
    "ListKeys": "lists the account's keys, not an action on one key",
    "ListRetirableGrants": "takes a principal, not a key",
    "CreateCustomKeyStore": "custom key stores are account-level",
    "DeleteCustomKeyStore": "custom key stores are account-level",
    "DescribeCustomKeyStores": "custom key stores are account-level",
    "UpdateCustomKeyStore": "custom key stores are account-level",
    "DeleteImportedKeyMaterial": "only keys with imported key material",
    "GetParametersForImport": "only keys with imported key material",
    "GetPublicKey": "only asymmetric keys",
    "UpdatePrimaryRegion": "only multi-Region keys",
}


def kms_operations() -> set[str]:
    return set(botocore.session.get_session().get_service_model("kms").operation_names)


def test_administrators_may_do_what_aws_default_key_policy_lets_them(key_policy):
    """Disable the key or its rotation, rotate it on demand, and the rest of AWS's list."""
    [admin] = [s for s in key_policy["Statement"] if s["Sid"] == "AccountAdministersKey"]
    operations = kms_operations()
    expected = {
        f"kms:{operation}"
        for operation in operations - set(NOT_FOR_THIS_KEY)
        if any(fnmatch.fnmatchcase(f"kms:{operation}", p) for p in AWS_KEY_ADMINISTRATOR_PATTERNS)
    }
    assert {"kms:DisableKey", "kms:DisableKeyRotation", "kms:RotateKeyOnDemand"} <= expected
    assert expected <= set(admin["Action"])
    # Every action named is one KMS has (a typo would silently grant nothing).
    assert {action.removeprefix("kms:") for action in admin["Action"]} <= operations
