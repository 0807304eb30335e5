"""The least-privilege IAM policy of the principal that runs `terraform plan`, `apply` (a first
apply and a change) and `destroy` on one synthesized stack, generated from the stack's JSON.

One table, `PERMISSIONS`, says for each resource type and data source what Terraform's AWS
provider calls for it, as IAM actions, and on which resources: ARN templates scoped to the
stack's name prefix, region and account wherever AWS supports resource-level permissions for
the action, `*` only where it does not (Describe/List calls, creating a KMS key or a
certificate). A stack holding a type the table does not know is refused: the policy would be
incomplete. Standard library only: the policy is generated from the JSON, not from the app.

`iam:PassRole` is granted for the stack's own roles only (their literal names in the JSON),
each to the services its trust policy names (`iam:PassedToService`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

POLICY_VERSION = "2012-10-17"
# IAM quotas: a managed policy holds at most 6,144 characters (whitespace not counted); a role
# has at most 10 managed policies attached (the default quota; it can be raised to 20).
MANAGED_POLICY_MAX_CHARACTERS = 6144
MANAGED_POLICIES_PER_ROLE = 10
# Terraform interpolations in a literal name: `${aws_api_gateway_rest_api.x.id}`.
INTERPOLATION = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True)
class Grant:
    """Actions on resources. Templates name `{partition}`, `{region}`, `{account}`, `{prefix}`
    (the stack's `<project>-<env>`), or `{name}`: one resource per literal name the stack gives
    that type (`NAME_ATTRIBUTES`), its interpolations as `*`."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]


def grant(actions: str, *resources: str) -> Grant:
    return Grant(tuple(actions.split()), resources)


ANY = "*"
# Resource templates, one per kind of thing the stacks name.
EC2 = "arn:{partition}:ec2:{region}:{account}:*"
LAMBDA = (
    "arn:{partition}:lambda:{region}:{account}:function:{prefix}-*",
    "arn:{partition}:lambda:{region}:{account}:function:{prefix}-*:*",
)
ROLES = ("arn:{partition}:iam::{account}:role/{prefix}-*",)
MANAGED_POLICIES = ("arn:{partition}:iam::{account}:policy/{prefix}-*",)
OIDC_PROVIDERS = ("arn:{partition}:iam::{account}:oidc-provider/*",)
KEYS = ("arn:{partition}:kms:{region}:{account}:key/*",)
BUCKETS = ("arn:{partition}:s3:::{prefix}-*",)
OBJECTS = ("arn:{partition}:s3:::{prefix}-*/*",)
REST_APIS = (
    "arn:{partition}:apigateway:{region}::/restapis",
    "arn:{partition}:apigateway:{region}::/restapis/*",
    "arn:{partition}:apigateway:{region}::/tags/*",
)
DOMAIN_NAMES = (
    "arn:{partition}:apigateway:{region}::/domainnames",
    "arn:{partition}:apigateway:{region}::/domainnames/*",
    "arn:{partition}:apigateway:{region}::/tags/*",
)
STAGES = ("arn:{partition}:apigateway:{region}::/restapis/*/stages/*",)
LOAD_BALANCERS = (
    "arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{prefix}/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{prefix}-*/*",
)
TARGET_GROUPS = (
    "arn:{partition}:elasticloadbalancing:{region}:{account}:targetgroup/{prefix}-*/*",
)
LISTENERS = (
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener/app/{prefix}/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener/app/{prefix}-*/*",
)
LISTENER_RULES = (
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener-rule/app/{prefix}/*",
    "arn:{partition}:elasticloadbalancing:{region}:{account}:listener-rule/app/{prefix}-*/*",
)
WEB_ACLS = (
    "arn:{partition}:wafv2:{region}:{account}:regional/webacl/{prefix}/*",
    "arn:{partition}:wafv2:{region}:{account}:regional/webacl/{prefix}-*/*",
)
# AWS's managed rule groups a web ACL references: owned by AWS, not by the account.
MANAGED_RULE_GROUPS = ("arn:{partition}:wafv2:{region}:*:regional/managedruleset/*/*",)
LOG_GROUPS = (
    "arn:{partition}:logs:{region}:{account}:log-group:{name}",
    "arn:{partition}:logs:{region}:{account}:log-group:{name}:*",
)
ALARMS = ("arn:{partition}:cloudwatch:{region}:{account}:alarm:{prefix}-*",)
DASHBOARDS = (
    "arn:{partition}:cloudwatch::{account}:dashboard/{prefix}",
    "arn:{partition}:cloudwatch::{account}:dashboard/{prefix}-*",
)
TOPICS = (
    "arn:{partition}:sns:{region}:{account}:{prefix}-*",
    "arn:{partition}:sns:{region}:{account}:{prefix}-*:*",
)
QUEUES = ("arn:{partition}:sqs:{region}:{account}:{prefix}-*",)
# The stack's schedule group is named `<project>-<env>`; its schedules are in it.
SCHEDULE_GROUPS = ("arn:{partition}:scheduler:{region}:{account}:schedule-group/{prefix}",)
SCHEDULES = ("arn:{partition}:scheduler:{region}:{account}:schedule/{prefix}/*",)
EVENT_RULES = ("arn:{partition}:events:{region}:{account}:rule/{prefix}-*",)
EVENT_SOURCE_MAPPINGS = ("arn:{partition}:lambda:{region}:{account}:event-source-mapping:*",)
TABLES = ("arn:{partition}:dynamodb:{region}:{account}:table/{prefix}-*",)
CODEDEPLOY = (
    "arn:{partition}:codedeploy:{region}:{account}:application:{prefix}",
    "arn:{partition}:codedeploy:{region}:{account}:application:{prefix}-*",
    "arn:{partition}:codedeploy:{region}:{account}:deploymentgroup:{prefix}/*",
    "arn:{partition}:codedeploy:{region}:{account}:deploymentgroup:{prefix}-*/*",
)
DEPLOYMENT_CONFIGS = ("arn:{partition}:codedeploy:{region}:{account}:deploymentconfig:*",)
CERTIFICATES = ("arn:{partition}:acm:{region}:{account}:certificate/*",)
HOSTED_ZONES = ("arn:{partition}:route53:::hostedzone/{name}",)
ROUTE53_CHANGES = ("arn:{partition}:route53:::change/*",)
PARAMETERS = ("arn:{partition}:ssm:{region}:{account}:parameter{name}",)
PARAMETER_TREES = (
    "arn:{partition}:ssm:{region}:{account}:parameter{name}",
    "arn:{partition}:ssm:{region}:{account}:parameter{name}/*",
)
API_ACCOUNT = ("arn:{partition}:apigateway:{region}::/account",)

# What reading the VPC a resource lives in takes; EC2 Describe calls have no resource level.
EC2_READ = grant(
    "ec2:DescribeVpcs ec2:DescribeVpcAttribute ec2:DescribeSubnets ec2:DescribeRouteTables "
    "ec2:DescribeNetworkAcls ec2:DescribeSecurityGroups ec2:DescribeSecurityGroupRules "
    "ec2:DescribeInternetGateways ec2:DescribeNatGateways ec2:DescribeAddresses "
    "ec2:DescribeAddressesAttribute ec2:DescribeVpcEndpoints ec2:DescribePrefixLists "
    "ec2:DescribeFlowLogs ec2:DescribeNetworkInterfaces ec2:DescribeAvailabilityZones",
    ANY,
)
EC2_TAGS = grant("ec2:CreateTags ec2:DeleteTags", EC2)
S3_BUCKET_READ = grant(
    "s3:ListBucket s3:GetBucketAcl s3:GetBucketCORS s3:GetBucketWebsite s3:GetBucketVersioning "
    "s3:GetAccelerateConfiguration s3:GetBucketRequestPayment s3:GetBucketLogging "
    "s3:GetLifecycleConfiguration s3:GetReplicationConfiguration s3:GetEncryptionConfiguration "
    "s3:GetBucketObjectLockConfiguration s3:GetBucketTagging s3:GetBucketPolicy",
    *BUCKETS,
)

PERMISSIONS: dict[str, tuple[Grant, ...]] = {
    # --- EC2: the network --------------------------------------------------------------
    "aws_vpc": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateVpc ec2:DeleteVpc ec2:ModifyVpcAttribute", EC2),
    ),
    "aws_subnet": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateSubnet ec2:DeleteSubnet ec2:ModifySubnetAttribute", EC2),
    ),
    "aws_internet_gateway": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:CreateInternetGateway ec2:AttachInternetGateway ec2:DetachInternetGateway "
            "ec2:DeleteInternetGateway",
            EC2,
        ),
    ),
    "aws_eip": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:AllocateAddress ec2:ReleaseAddress ec2:DisassociateAddress", EC2),
    ),
    "aws_nat_gateway": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateNatGateway ec2:DeleteNatGateway", EC2),
    ),
    "aws_route_table": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateRouteTable ec2:DeleteRouteTable", EC2),
    ),
    "aws_route": (EC2_READ, grant("ec2:CreateRoute ec2:ReplaceRoute ec2:DeleteRoute", EC2)),
    "aws_route_table_association": (
        EC2_READ,
        grant(
            "ec2:AssociateRouteTable ec2:DisassociateRouteTable ec2:ReplaceRouteTableAssociation",
            EC2,
        ),
    ),
    "aws_network_acl": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:CreateNetworkAcl ec2:DeleteNetworkAcl ec2:ReplaceNetworkAclAssociation "
            "ec2:CreateNetworkAclEntry ec2:DeleteNetworkAclEntry",
            EC2,
        ),
    ),
    "aws_network_acl_rule": (
        EC2_READ,
        grant(
            "ec2:CreateNetworkAclEntry ec2:ReplaceNetworkAclEntry ec2:DeleteNetworkAclEntry", EC2
        ),
    ),
    "aws_default_security_group": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:AuthorizeSecurityGroupIngress ec2:AuthorizeSecurityGroupEgress "
            "ec2:RevokeSecurityGroupIngress ec2:RevokeSecurityGroupEgress",
            EC2,
        ),
    ),
    # Deleting a group a function used waits for (and removes) Lambda's network interfaces.
    "aws_security_group": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:CreateSecurityGroup ec2:DeleteSecurityGroup ec2:RevokeSecurityGroupEgress "
            "ec2:RevokeSecurityGroupIngress ec2:DeleteNetworkInterface",
            EC2,
        ),
    ),
    "aws_vpc_security_group_ingress_rule": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:AuthorizeSecurityGroupIngress ec2:RevokeSecurityGroupIngress "
            "ec2:ModifySecurityGroupRules ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            EC2,
        ),
    ),
    "aws_vpc_security_group_egress_rule": (
        EC2_READ,
        EC2_TAGS,
        grant(
            "ec2:AuthorizeSecurityGroupEgress ec2:RevokeSecurityGroupEgress "
            "ec2:ModifySecurityGroupRules ec2:UpdateSecurityGroupRuleDescriptionsEgress",
            EC2,
        ),
    ),
    "aws_vpc_endpoint": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:DescribeVpcEndpointServices", ANY),
        grant("ec2:CreateVpcEndpoint ec2:ModifyVpcEndpoint ec2:DeleteVpcEndpoints", EC2),
    ),
    "aws_flow_log": (
        EC2_READ,
        EC2_TAGS,
        grant("ec2:CreateFlowLogs ec2:DeleteFlowLogs", EC2),
        # CloudWatch Logs delivery on behalf of the caller (EC2 user guide, flow logs IAM).
        grant("logs:CreateLogDelivery logs:DeleteLogDelivery", ANY),
    ),
    "data.aws_availability_zones": (grant("ec2:DescribeAvailabilityZones", ANY),),
    # --- Load balancing -----------------------------------------------------------------
    "aws_lb": (
        EC2_READ,
        grant(
            "elasticloadbalancing:DescribeLoadBalancers "
            "elasticloadbalancing:DescribeLoadBalancerAttributes "
            "elasticloadbalancing:DescribeTags elasticloadbalancing:DescribeCapacityReservation",
            ANY,
        ),
        grant(
            "elasticloadbalancing:CreateLoadBalancer elasticloadbalancing:DeleteLoadBalancer "
            "elasticloadbalancing:ModifyLoadBalancerAttributes "
            "elasticloadbalancing:ModifyCapacityReservation "
            "elasticloadbalancing:SetSecurityGroups elasticloadbalancing:SetSubnets "
            "elasticloadbalancing:SetIpAddressType elasticloadbalancing:AddTags "
            "elasticloadbalancing:RemoveTags",
            *LOAD_BALANCERS,
        ),
    ),
    "aws_lb_target_group": (
        grant(
            "elasticloadbalancing:DescribeTargetGroups "
            "elasticloadbalancing:DescribeTargetGroupAttributes elasticloadbalancing:DescribeTags",
            ANY,
        ),
        grant(
            "elasticloadbalancing:CreateTargetGroup elasticloadbalancing:DeleteTargetGroup "
            "elasticloadbalancing:ModifyTargetGroup "
            "elasticloadbalancing:ModifyTargetGroupAttributes elasticloadbalancing:AddTags "
            "elasticloadbalancing:RemoveTags",
            *TARGET_GROUPS,
        ),
    ),
    "aws_lb_target_group_attachment": (
        grant("elasticloadbalancing:DescribeTargetHealth", ANY),
        grant(
            "elasticloadbalancing:RegisterTargets elasticloadbalancing:DeregisterTargets",
            *TARGET_GROUPS,
        ),
    ),
    "aws_lb_listener": (
        grant(
            "elasticloadbalancing:DescribeListeners "
            "elasticloadbalancing:DescribeListenerAttributes elasticloadbalancing:DescribeTags",
            ANY,
        ),
        grant(
            "elasticloadbalancing:CreateListener elasticloadbalancing:DeleteListener "
            "elasticloadbalancing:ModifyListener elasticloadbalancing:ModifyListenerAttributes "
            "elasticloadbalancing:AddTags elasticloadbalancing:RemoveTags",
            *LISTENERS,
            *LOAD_BALANCERS,
            *TARGET_GROUPS,
        ),
    ),
    "aws_lb_listener_rule": (
        grant("elasticloadbalancing:DescribeRules elasticloadbalancing:DescribeTags", ANY),
        grant(
            "elasticloadbalancing:CreateRule elasticloadbalancing:DeleteRule "
            "elasticloadbalancing:ModifyRule elasticloadbalancing:SetRulePriorities "
            "elasticloadbalancing:AddTags elasticloadbalancing:RemoveTags",
            *LISTENER_RULES,
            *LISTENERS,
            *TARGET_GROUPS,
        ),
    ),
    # The account's ELB principal for access logs: a static table in the provider, no call.
    "data.aws_elb_service_account": (),
    # --- Lambda -------------------------------------------------------------------------
    "aws_lambda_function": (
        EC2_READ,
        grant(
            "lambda:CreateFunction lambda:GetFunction lambda:GetFunctionConfiguration "
            "lambda:GetFunctionCodeSigningConfig lambda:ListVersionsByFunction "
            "lambda:UpdateFunctionCode lambda:UpdateFunctionConfiguration lambda:PublishVersion "
            "lambda:DeleteFunction lambda:PutFunctionConcurrency "
            "lambda:DeleteFunctionConcurrency lambda:TagResource lambda:UntagResource "
            "lambda:ListTags",
            *LAMBDA,
        ),
        # The code comes from the stack's bucket; the environment is encrypted with its key.
        grant("s3:GetObject s3:GetObjectVersion", *OBJECTS),
        grant("kms:Encrypt kms:Decrypt kms:CreateGrant kms:DescribeKey", *KEYS),
    ),
    "aws_lambda_alias": (
        grant("lambda:CreateAlias lambda:GetAlias lambda:UpdateAlias lambda:DeleteAlias", *LAMBDA),
    ),
    "aws_lambda_permission": (
        grant("lambda:AddPermission lambda:RemovePermission lambda:GetPolicy", *LAMBDA),
    ),
    "aws_lambda_event_source_mapping": (
        # CreateEventSourceMapping and the listing take no resource (the function is only a
        # condition key); the mapping itself is known by its UUID once it exists.
        grant("lambda:CreateEventSourceMapping lambda:ListEventSourceMappings", ANY),
        grant(
            "lambda:GetEventSourceMapping lambda:UpdateEventSourceMapping "
            "lambda:DeleteEventSourceMapping lambda:TagResource lambda:UntagResource "
            "lambda:ListTags",
            *EVENT_SOURCE_MAPPINGS,
        ),
    ),
    "aws_lambda_provisioned_concurrency_config": (
        grant(
            "lambda:PutProvisionedConcurrencyConfig lambda:GetProvisionedConcurrencyConfig "
            "lambda:DeleteProvisionedConcurrencyConfig",
            *LAMBDA,
        ),
    ),
    # --- IAM ----------------------------------------------------------------------------
    "aws_iam_role": (
        grant(
            "iam:CreateRole iam:GetRole iam:UpdateRole iam:UpdateAssumeRolePolicy iam:DeleteRole "
            "iam:TagRole iam:UntagRole iam:ListRolePolicies iam:ListAttachedRolePolicies "
            "iam:ListInstanceProfilesForRole iam:DeleteRolePolicy iam:DetachRolePolicy",
            *ROLES,
        ),
    ),
    "aws_iam_role_policy": (
        grant("iam:PutRolePolicy iam:GetRolePolicy iam:DeleteRolePolicy", *ROLES),
    ),
    "aws_iam_role_policy_attachment": (
        grant("iam:AttachRolePolicy iam:DetachRolePolicy iam:ListAttachedRolePolicies", *ROLES),
    ),
    # The bootstrap's deployer roles: their policies, and GitHub's identity provider.
    "aws_iam_policy": (
        grant(
            "iam:CreatePolicy iam:GetPolicy iam:GetPolicyVersion iam:ListPolicyVersions "
            "iam:CreatePolicyVersion iam:DeletePolicyVersion iam:DeletePolicy iam:TagPolicy "
            "iam:UntagPolicy",
            *MANAGED_POLICIES,
        ),
    ),
    "aws_iam_openid_connect_provider": (
        grant(
            "iam:CreateOpenIDConnectProvider iam:GetOpenIDConnectProvider "
            "iam:UpdateOpenIDConnectProviderThumbprint iam:AddClientIDToOpenIDConnectProvider "
            "iam:RemoveClientIDFromOpenIDConnectProvider iam:DeleteOpenIDConnectProvider "
            "iam:TagOpenIDConnectProvider iam:UntagOpenIDConnectProvider",
            *OIDC_PROVIDERS,
        ),
    ),
    # Rendered by Terraform itself, no call.
    "data.aws_iam_policy_document": (),
    "data.aws_partition": (),
    # The provider's own identity check (allowed_account_ids); AWS never denies it.
    "data.aws_caller_identity": (grant("sts:GetCallerIdentity", ANY),),
    # --- KMS ----------------------------------------------------------------------------
    "aws_kms_key": (
        # CreateKey names no key yet: no resource level.
        grant("kms:CreateKey", ANY),
        grant(
            "kms:DescribeKey kms:GetKeyPolicy kms:PutKeyPolicy kms:GetKeyRotationStatus "
            "kms:EnableKeyRotation kms:DisableKeyRotation kms:ListResourceTags "
            "kms:TagResource kms:UntagResource kms:UpdateKeyDescription kms:ScheduleKeyDeletion",
            *KEYS,
        ),
    ),
    "aws_kms_alias": (
        grant("kms:ListAliases", ANY),
        grant(
            "kms:CreateAlias kms:UpdateAlias kms:DeleteAlias",
            "arn:{partition}:kms:{region}:{account}:alias/{prefix}",
            "arn:{partition}:kms:{region}:{account}:alias/{prefix}-*",
            *KEYS,
        ),
    ),
    # --- S3 -----------------------------------------------------------------------------
    "aws_s3_bucket": (
        S3_BUCKET_READ,
        grant(
            "s3:CreateBucket s3:DeleteBucket s3:PutBucketTagging s3:ListBucketVersions", *BUCKETS
        ),
        # force_destroy empties the bucket, every version of every object.
        grant("s3:DeleteObject s3:DeleteObjectVersion", *OBJECTS),
    ),
    "aws_s3_bucket_versioning": (grant("s3:GetBucketVersioning s3:PutBucketVersioning", *BUCKETS),),
    "aws_s3_bucket_lifecycle_configuration": (
        grant("s3:GetLifecycleConfiguration s3:PutLifecycleConfiguration", *BUCKETS),
    ),
    "aws_s3_bucket_notification": (
        grant("s3:GetBucketNotification s3:PutBucketNotification", *BUCKETS),
    ),
    "aws_s3_bucket_ownership_controls": (
        grant("s3:GetBucketOwnershipControls s3:PutBucketOwnershipControls", *BUCKETS),
    ),
    "aws_s3_bucket_policy": (
        grant("s3:GetBucketPolicy s3:PutBucketPolicy s3:DeleteBucketPolicy", *BUCKETS),
    ),
    "aws_s3_bucket_public_access_block": (
        grant("s3:GetBucketPublicAccessBlock s3:PutBucketPublicAccessBlock", *BUCKETS),
    ),
    "aws_s3_bucket_server_side_encryption_configuration": (
        grant("s3:GetEncryptionConfiguration s3:PutEncryptionConfiguration", *BUCKETS),
    ),
    "aws_s3_object": (
        grant("s3:ListBucket s3:ListBucketVersions", *BUCKETS),
        grant(
            "s3:PutObject s3:GetObject s3:GetObjectVersion s3:GetObjectTagging "
            "s3:PutObjectTagging s3:DeleteObject s3:DeleteObjectVersion",
            *OBJECTS,
        ),
        # SSE-KMS with the stack's key.
        grant("kms:GenerateDataKey kms:Decrypt", *KEYS),
    ),
    # --- DynamoDB, SQS, SNS -----------------------------------------------------------------
    "aws_dynamodb_table": (
        grant(
            "dynamodb:CreateTable dynamodb:DescribeTable dynamodb:UpdateTable "
            "dynamodb:DeleteTable dynamodb:DescribeContinuousBackups "
            "dynamodb:UpdateContinuousBackups dynamodb:DescribeTimeToLive "
            "dynamodb:UpdateTimeToLive dynamodb:TagResource dynamodb:UntagResource "
            "dynamodb:ListTagsOfResource",
            *TABLES,
        ),
        grant("kms:DescribeKey kms:CreateGrant", *KEYS),
    ),
    "aws_sqs_queue": (
        grant(
            "sqs:CreateQueue sqs:GetQueueAttributes sqs:SetQueueAttributes sqs:GetQueueUrl "
            "sqs:DeleteQueue sqs:TagQueue sqs:UntagQueue sqs:ListQueueTags",
            *QUEUES,
        ),
    ),
    "aws_sns_topic": (
        grant(
            "sns:CreateTopic sns:GetTopicAttributes sns:SetTopicAttributes sns:DeleteTopic "
            "sns:TagResource sns:UntagResource sns:ListTagsForResource",
            *TOPICS,
        ),
    ),
    "aws_sns_topic_subscription": (
        grant(
            "sns:Subscribe sns:Unsubscribe sns:GetSubscriptionAttributes "
            "sns:SetSubscriptionAttributes",
            *TOPICS,
        ),
    ),
    # --- EventBridge and EventBridge Scheduler ----------------------------------------------
    "aws_scheduler_schedule_group": (
        grant(
            "scheduler:CreateScheduleGroup scheduler:GetScheduleGroup "
            "scheduler:DeleteScheduleGroup scheduler:TagResource scheduler:UntagResource "
            "scheduler:ListTagsForResource",
            *SCHEDULE_GROUPS,
        ),
    ),
    "aws_scheduler_schedule": (
        grant(
            "scheduler:CreateSchedule scheduler:GetSchedule scheduler:UpdateSchedule "
            "scheduler:DeleteSchedule",
            *SCHEDULES,
        ),
        # The schedule's data is encrypted with the stack's key, on the caller's behalf.
        grant("kms:DescribeKey kms:Encrypt kms:Decrypt kms:GenerateDataKey", *KEYS),
    ),
    "aws_cloudwatch_event_rule": (
        grant(
            "events:PutRule events:DescribeRule events:DeleteRule events:TagResource "
            "events:UntagResource events:ListTagsForResource",
            *EVENT_RULES,
        ),
    ),
    "aws_cloudwatch_event_target": (
        grant("events:PutTargets events:RemoveTargets events:ListTargetsByRule", *EVENT_RULES),
    ),
    # --- CloudWatch ---------------------------------------------------------------------
    "aws_cloudwatch_log_group": (
        grant("logs:DescribeLogGroups", ANY),
        grant(
            "logs:CreateLogGroup logs:DeleteLogGroup logs:PutRetentionPolicy "
            "logs:DeleteRetentionPolicy logs:AssociateKmsKey logs:DisassociateKmsKey "
            "logs:TagResource logs:UntagResource logs:ListTagsForResource logs:TagLogGroup "
            "logs:UntagLogGroup logs:ListTagsLogGroup",
            *LOG_GROUPS,
        ),
    ),
    "aws_cloudwatch_metric_alarm": (
        grant("cloudwatch:DescribeAlarms", ANY),
        grant(
            "cloudwatch:PutMetricAlarm cloudwatch:DeleteAlarms cloudwatch:TagResource "
            "cloudwatch:UntagResource cloudwatch:ListTagsForResource",
            *ALARMS,
        ),
    ),
    "aws_cloudwatch_dashboard": (
        grant(
            "cloudwatch:PutDashboard cloudwatch:GetDashboard cloudwatch:DeleteDashboards",
            *DASHBOARDS,
        ),
    ),
    # --- API Gateway (its IAM actions are the HTTP methods of its API, on paths) ---------
    "aws_api_gateway_rest_api": (
        grant(
            "apigateway:GET apigateway:POST apigateway:PUT apigateway:PATCH apigateway:DELETE "
            "apigateway:UpdateRestApiPolicy",
            *REST_APIS,
        ),
    ),
    "aws_api_gateway_deployment": (
        grant("apigateway:GET apigateway:POST apigateway:DELETE", *REST_APIS),
    ),
    "aws_api_gateway_stage": (
        grant(
            "apigateway:GET apigateway:POST apigateway:PATCH apigateway:DELETE apigateway:PUT",
            *REST_APIS,
        ),
    ),
    "aws_api_gateway_method_settings": (grant("apigateway:GET apigateway:PATCH", *REST_APIS),),
    "aws_api_gateway_domain_name": (
        grant(
            "apigateway:GET apigateway:POST apigateway:PATCH apigateway:DELETE apigateway:PUT",
            *DOMAIN_NAMES,
        ),
        grant("acm:DescribeCertificate", *CERTIFICATES),
    ),
    "aws_api_gateway_base_path_mapping": (
        grant("apigateway:GET apigateway:POST apigateway:PATCH apigateway:DELETE", *DOMAIN_NAMES),
    ),
    "aws_api_gateway_account": (grant("apigateway:GET apigateway:PATCH", *API_ACCOUNT),),
    # --- WAF ----------------------------------------------------------------------------
    "aws_wafv2_web_acl": (
        grant(
            "wafv2:CreateWebACL wafv2:GetWebACL wafv2:UpdateWebACL wafv2:DeleteWebACL "
            "wafv2:ListTagsForResource wafv2:TagResource wafv2:UntagResource",
            *WEB_ACLS,
            *MANAGED_RULE_GROUPS,
        ),
    ),
    "aws_wafv2_web_acl_association": (
        grant(
            "wafv2:AssociateWebACL wafv2:DisassociateWebACL wafv2:GetWebACLForResource",
            *WEB_ACLS,
            *LOAD_BALANCERS,
            *STAGES,
        ),
        grant("elasticloadbalancing:SetWebAcl", *LOAD_BALANCERS),
        grant("apigateway:SetWebACL", *STAGES),
    ),
    "aws_wafv2_web_acl_logging_configuration": (
        grant(
            "wafv2:PutLoggingConfiguration wafv2:GetLoggingConfiguration "
            "wafv2:DeleteLoggingConfiguration",
            *WEB_ACLS,
        ),
        # Delivery to CloudWatch Logs on the caller's behalf (WAF developer guide, logging).
        grant(
            "logs:CreateLogDelivery logs:DeleteLogDelivery logs:PutResourcePolicy "
            "logs:DescribeResourcePolicies",
            ANY,
        ),
    ),
    # --- CodeDeploy ---------------------------------------------------------------------
    "aws_codedeploy_app": (
        grant(
            "codedeploy:CreateApplication codedeploy:GetApplication "
            "codedeploy:UpdateApplication codedeploy:DeleteApplication "
            "codedeploy:TagResource codedeploy:UntagResource codedeploy:ListTagsForResource",
            *CODEDEPLOY,
        ),
    ),
    "aws_codedeploy_deployment_group": (
        grant(
            "codedeploy:CreateDeploymentGroup codedeploy:GetDeploymentGroup "
            "codedeploy:UpdateDeploymentGroup codedeploy:DeleteDeploymentGroup "
            "codedeploy:TagResource codedeploy:UntagResource codedeploy:ListTagsForResource",
            *CODEDEPLOY,
        ),
        grant("codedeploy:GetDeploymentConfig", *DEPLOYMENT_CONFIGS),
    ),
    # --- Custom domain: ACM and Route 53 --------------------------------------------------
    "aws_acm_certificate": (
        # RequestCertificate names no certificate yet: no resource level.
        grant("acm:RequestCertificate", ANY),
        grant(
            "acm:DescribeCertificate acm:DeleteCertificate acm:ListTagsForCertificate "
            "acm:AddTagsToCertificate acm:RemoveTagsFromCertificate",
            *CERTIFICATES,
        ),
    ),
    "aws_acm_certificate_validation": (grant("acm:DescribeCertificate", *CERTIFICATES),),
    "aws_route53_record": (
        grant(
            "route53:ChangeResourceRecordSets route53:ListResourceRecordSets route53:GetHostedZone",
            *HOSTED_ZONES,
        ),
        grant("route53:GetChange", *ROUTE53_CHANGES),
    ),
    "data.aws_route53_zone": (
        grant("route53:ListHostedZones route53:ListHostedZonesByName", ANY),
        grant("route53:GetHostedZone route53:ListTagsForResource", *HOSTED_ZONES),
    ),
    # --- SSM ----------------------------------------------------------------------------
    "aws_ssm_parameter": (
        grant("ssm:DescribeParameters", ANY),
        grant(
            "ssm:PutParameter ssm:GetParameter ssm:GetParameters ssm:DeleteParameter "
            "ssm:AddTagsToResource ssm:RemoveTagsFromResource ssm:ListTagsForResource",
            *PARAMETERS,
        ),
    ),
    "data.aws_ssm_parameters_by_path": (grant("ssm:GetParametersByPath", *PARAMETER_TREES),),
}

# The attribute holding the literal name a `{name}` template is filled with, per type.
NAME_ATTRIBUTES = {
    "aws_cloudwatch_log_group": "name",
    "aws_ssm_parameter": "name",
    "data.aws_ssm_parameters_by_path": "path",
    "aws_route53_record": "zone_id",
    "data.aws_route53_zone": "zone_id",
}
# Which service takes each role, by the principal its trust policy names.
PASS_ROLE_ACTION = "iam:PassRole"


class UnknownTypes(ValueError):
    """The stack holds types the table does not know: the policy would be incomplete."""

    def __init__(self, types: list[str]) -> None:
        super().__init__(
            f"no deployer permissions known for {', '.join(types)}: add them to "
            "PERMISSIONS in serverless_app/deployer_policy.py"
        )
        self.types = types


@dataclass(frozen=True)
class Scope:
    partition: str
    region: str
    account: str
    prefix: str


def stack_types(stack: Mapping[str, Any]) -> list[str]:
    """Every resource type and data source (`data.<type>`) of a synthesized stack."""
    resources = list(stack.get("resource", {}))
    return sorted(resources + [f"data.{kind}" for kind in stack.get("data", {})])


def unknown_types(stack: Mapping[str, Any]) -> list[str]:
    return [kind for kind in stack_types(stack) if kind not in PERMISSIONS]


def deployer_policies(stack: Mapping[str, Any], scope: Scope) -> list[dict[str, Any]]:
    """The managed policy documents (each within IAM's size) that together allow plan, apply,
    change and destroy of `stack`."""
    documents: list[list[dict[str, Any]]] = [[]]
    for statement in deployer_statements(stack, scope):
        if policy_characters(documents[-1] + [statement]) > MANAGED_POLICY_MAX_CHARACTERS:
            documents.append([])
        documents[-1].append(statement)
    if len(documents) > MANAGED_POLICIES_PER_ROLE:
        raise ValueError(
            f"the deployer policy needs {len(documents)} managed policies; a role takes "
            f"{MANAGED_POLICIES_PER_ROLE} (IAM's default quota)"
        )
    return [policy_document(statements) for statements in documents]


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}


def policy_characters(statements: list[dict[str, Any]]) -> int:
    """What IAM counts against the size quota: the document without whitespace."""
    return len(json.dumps(policy_document(statements), separators=(",", ":")))


def deployer_statements(stack: Mapping[str, Any], scope: Scope) -> list[dict[str, Any]]:
    """Every statement plan, apply, change and destroy of `stack` need."""
    missing = unknown_types(stack)
    if missing:
        raise UnknownTypes(missing)
    by_resources: dict[tuple[str, ...], set[str]] = {}
    for kind in stack_types(stack):
        names = literal_names(stack, kind)
        for item in PERMISSIONS[kind]:
            resources = tuple(sorted(set(_filled(item.resources, scope, names))))
            if resources:
                by_resources.setdefault(resources, set()).update(item.actions)
    statements = [
        {"Effect": "Allow", "Action": sorted(actions), "Resource": list(resources)}
        for resources, actions in _merged(by_resources)
    ]
    statements += pass_role_statements(stack, scope)
    for number, statement in enumerate(statements, start=1):
        statement["Sid"] = f"Deploy{number}"
    return statements


def _merged(
    by_resources: dict[tuple[str, ...], set[str]],
) -> list[tuple[tuple[str, ...], set[str]]]:
    """One statement per set of resources, and resource sets with equal actions joined."""
    by_actions: dict[tuple[str, ...], set[str]] = {}
    for resources, actions in by_resources.items():
        by_actions.setdefault(tuple(sorted(actions)), set()).update(resources)
    return sorted(
        (tuple(sorted(resources)), set(actions)) for actions, resources in by_actions.items()
    )


def _filled(templates: Iterable[str], scope: Scope, names: list[str]) -> Iterator[str]:
    for template in templates:
        values = {
            "partition": scope.partition,
            "region": scope.region,
            "account": scope.account,
            "prefix": scope.prefix,
        }
        if "{name}" not in template:
            yield template.format(**values)
            continue
        for name in names:
            yield template.format(**values, name=name)


def literal_names(stack: Mapping[str, Any], kind: str) -> list[str]:
    """The names the stack gives items of `kind`, interpolations as `*`."""
    attribute = NAME_ATTRIBUTES.get(kind)
    if attribute is None:
        return []
    section, _, type_name = kind.rpartition(".")
    items = stack.get("data" if section == "data" else "resource", {}).get(type_name, {})
    return sorted(
        {
            INTERPOLATION.sub("*", str(body[attribute]))
            for body in items.values()
            if attribute in body
        }
    )


def pass_role_statements(stack: Mapping[str, Any], scope: Scope) -> list[dict[str, Any]]:
    """`iam:PassRole` on each of the stack's roles, to the services its trust policy names."""
    statements = []
    for body in stack.get("resource", {}).get("aws_iam_role", {}).values():
        services = trusted_services(stack, body.get("assume_role_policy", ""))
        name = body.get("name")
        if not services or name is None or INTERPOLATION.search(name):
            continue
        arn = f"arn:{scope.partition}:iam::{scope.account}:role/{body.get('path', '/')}{name}"
        statements.append(
            {
                "Effect": "Allow",
                "Action": [PASS_ROLE_ACTION],
                "Resource": [arn.replace("role//", "role/")],
                "Condition": {"StringEquals": {"iam:PassedToService": services}},
            }
        )
    return sorted(statements, key=lambda statement: statement["Resource"])


def trusted_services(stack: Mapping[str, Any], assume_role_policy: str) -> list[str]:
    """The service principals of a trust policy: a JSON document, or a reference to a
    `data.aws_iam_policy_document` of the stack."""
    reference = re.fullmatch(
        r"\$\{data\.aws_iam_policy_document\.([^.}]+)\.json\}", assume_role_policy
    )
    if reference is not None:
        document = stack["data"]["aws_iam_policy_document"][reference.group(1)]
        principals = [
            principal
            for statement in document.get("statement", [])
            for principal in statement.get("principals", [])
        ]
        identifiers = [p["identifiers"] for p in principals if p.get("type") == "Service"]
        return sorted({service for group in identifiers for service in group})
    try:
        document = json.loads(assume_role_policy)
    except ValueError:
        return []
    services: set[str] = set()
    for statement in document.get("Statement", []):
        service = statement.get("Principal", {}).get("Service", [])
        services.update([service] if isinstance(service, str) else service)
    return sorted(services)
