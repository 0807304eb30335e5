"""The functions and what they run as: Lambda, IAM, KMS, CodeDeploy and SSM parameters."""

from __future__ import annotations

from serverless_app.deployer_permissions.grants import (
    ANY,
    CODEDEPLOY,
    DEPLOYMENT_CONFIGS,
    EC2_READ,
    KEYS,
    LAMBDA,
    MANAGED_POLICIES,
    OBJECTS,
    OIDC_PROVIDERS,
    PARAMETER_TREES,
    PARAMETERS,
    ROLES,
    Grant,
    grant,
)

PERMISSIONS: dict[str, tuple[Grant, ...]] = {
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
