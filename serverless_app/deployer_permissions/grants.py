"""The building blocks of the deployer permissions tables: a grant of IAM actions on
resources, the ARN templates of what the stacks create, and the grants many types share."""

from __future__ import annotations

from dataclasses import dataclass


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
