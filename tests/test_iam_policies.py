"""Every policy in every stack: no `*` action in an Allow, no `*` resource outside the
documented exceptions (docs/security.md)."""

import json
import re

from serverless_app.summary import json_strings
from tests.support import data_sources, function_keys, only, resources

# AWS-managed policies whose resources AWS scopes to "*" (nothing narrower exists for
# CloudWatch Logs delivery, X-Ray segments or ENI management); listed in docs/security.md.
# (API Gateway's CloudWatch role is in the bootstrap stack, tests/test_bootstrap.py.)
DOCUMENTED_MANAGED_POLICIES = {
    "service-role/AWSLambdaBasicExecutionRole",
    "AWSXRayDaemonWriteAccess",
    "service-role/AWSLambdaVPCAccessExecutionRole",
    "service-role/AWSCodeDeployRoleForLambdaLimited",
}
MANAGED_POLICY_ARN = re.compile(
    r"arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:iam::aws:policy/(.+)"
)


def policy_statements(stack: dict) -> list[tuple[str, dict]]:
    """(where, statement) for every policy document data source and every inline key policy,
    normalized to the IAM JSON field names."""
    found = []
    for rid, document in data_sources(stack, "aws_iam_policy_document").items():
        for statement in document["statement"]:
            found.append(
                (
                    rid,
                    {
                        "Effect": statement.get("effect", "Allow"),
                        "Action": statement.get("actions", []),
                        "Resource": statement.get("resources", []),
                    },
                )
            )
    for rid, key in resources(stack, "aws_kms_key").items():
        for statement in json.loads(key["policy"])["Statement"]:
            found.append((f"{rid} (key policy)", statement))
    return found


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_no_allow_statement_grants_a_wildcard_action(stack):
    for where, statement in policy_statements(stack):
        if statement["Effect"] == "Allow":
            wildcards = [a for a in as_list(statement["Action"]) if "*" in a]
            assert not wildcards, f"{where}: {wildcards}"


def test_star_resources_only_in_key_policies(stack):
    """In a key policy `*` means "this key"; anywhere else it would mean every resource."""
    for where, statement in policy_statements(stack):
        if statement["Effect"] == "Allow" and "*" in as_list(statement["Resource"]):
            assert where.endswith("(key policy)"), where


def test_managed_policies_are_the_documented_ones_in_the_stacks_partition(stack):
    attached = set()
    for attachment in resources(stack, "aws_iam_role_policy_attachment").values():
        match = MANAGED_POLICY_ARN.fullmatch(attachment["policy_arn"])
        assert match, attachment["policy_arn"]
        attached.add(match[1])
    assert attached == DOCUMENTED_MANAGED_POLICIES


def test_no_arn_is_written_for_the_aws_partition_only(stack):
    """`arn:aws:` is wrong in aws-cn and aws-us-gov: every ARN takes data.aws_partition."""
    hard_coded = [text for text in json_strings(stack) if "arn:aws:" in text]
    assert not hard_coded
    assert len(data_sources(stack, "aws_partition")) == 1


def test_the_walker_sees_every_document(stack):
    documents = data_sources(stack, "aws_iam_policy_document")
    inline_policies = resources(stack, "aws_iam_role_policy")
    # At least each function's role's own (its dead-letter queue's).
    assert len(documents) > len(inline_policies) >= len(function_keys(stack)) > 0
    walked = {where for where, _ in policy_statements(stack)}
    assert set(documents) <= walked


# Every AWS service that assumes a role of an environment stack, and what its trust policy
# demands besides the principal (cross-service confused deputy prevention): the account it
# acts for, and the ARN of the resource it acts for where the service's guide documents
# that it sends one. `{partition}`, `{region}`, `{account}` and `{application}` (its CodeDeploy
# application) are the stack's.
TRUST_CONDITIONS = {
    # Lambda's guide documents no source ARN for assuming the execution role.
    "lambda.amazonaws.com": None,
    # VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs".
    "vpc-flow-logs.amazonaws.com": "arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*",
    # CodeDeploy User Guide, "Cross-service confused deputy prevention".
    "codedeploy.amazonaws.com": (
        "arn:{partition}:codedeploy:{region}:{account}:deploymentgroup:{application}/*"
    ),
    # EventBridge Scheduler User Guide, "Cross-service confused deputy prevention": the
    # stack's schedule group, in a stack with schedules.
    "scheduler.amazonaws.com": (
        "arn:{partition}:scheduler:{region}:{account}:schedule-group/{group}"
    ),
}
# The services whose roles only some stacks have, by the resource that needs them.
OPTIONAL_SERVICES = {"scheduler.amazonaws.com": "aws_scheduler_schedule_group"}


def assume_role_statements(stack: dict) -> list[tuple[str, str, dict]]:
    """(document id, service, statement) for every statement letting a service assume a role."""
    return [
        (rid, identifier, statement)
        for rid, document in data_sources(stack, "aws_iam_policy_document").items()
        for statement in document["statement"]
        if "sts:AssumeRole" in statement.get("actions", [])
        for principal in statement.get("principals", [])
        if principal["type"] == "Service"
        for identifier in principal["identifiers"]
    ]


def test_every_service_role_trusts_its_service_only_for_this_account(stack):
    [partition] = data_sources(stack, "aws_partition")
    accounts = [
        f"${{data.aws_caller_identity.{rid}.account_id}}"
        for rid in data_sources(stack, "aws_caller_identity")
    ]
    provider = stack["provider"]["aws"][0]
    statements = assume_role_statements(stack)
    absent = {
        service
        for service, resource_type in OPTIONAL_SERVICES.items()
        if not resources(stack, resource_type)
    }
    assert {service for _, service, _ in statements} == set(TRUST_CONDITIONS) - absent
    groups = resources(stack, "aws_scheduler_schedule_group")
    for rid, service, statement in statements:
        conditions = {c["variable"]: (c["test"], c["values"]) for c in statement["condition"]}
        [account] = conditions["aws:SourceAccount"][1]
        assert account in accounts, rid
        names = {
            "partition": f"${{data.aws_partition.{partition}.partition}}",
            "account": account,
            "region": provider["region"],
            "application": only(stack, "aws_codedeploy_app")["name"],
            "group": only(stack, "aws_scheduler_schedule_group")["name"] if groups else None,
        }
        expected = {"aws:SourceAccount": ("StringEquals", [account])}
        source_arn = TRUST_CONDITIONS[service]
        if source_arn is not None:
            expected["aws:SourceArn"] = ("ArnLike", [source_arn.format(**names)])
        assert conditions == expected, rid
