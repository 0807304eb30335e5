"""The front door: API Gateway, its Cognito user pools, WAF, and the custom domain's
certificate and DNS records (ACM, Route 53)."""

from __future__ import annotations

from serverless_app.deployer_permissions.grants import (
    ANY,
    API_ACCOUNT,
    CERTIFICATES,
    DOMAIN_NAMES,
    HOSTED_ZONES,
    HTTP_APIS,
    LOAD_BALANCERS,
    MANAGED_RULE_GROUPS,
    REST_APIS,
    ROUTE53_CHANGES,
    STAGES,
    USER_POOLS,
    WEB_ACLS,
    Grant,
    grant,
)

PERMISSIONS: dict[str, tuple[Grant, ...]] = {
    # --- Cognito ------------------------------------------------------------------------
    # A pool's id is Cognito's (`<region>_<random>`): no name to scope by, this account and
    # region only. CreateUserPool has no resource-level permission.
    "aws_cognito_user_pool": (
        grant("cognito-idp:CreateUserPool", ANY),
        grant(
            "cognito-idp:DescribeUserPool cognito-idp:UpdateUserPool cognito-idp:DeleteUserPool "
            "cognito-idp:GetUserPoolMfaConfig cognito-idp:SetUserPoolMfaConfig "
            "cognito-idp:TagResource cognito-idp:UntagResource cognito-idp:ListTagsForResource",
            *USER_POOLS,
        ),
    ),
    "aws_cognito_user_pool_client": (
        grant(
            "cognito-idp:CreateUserPoolClient cognito-idp:DescribeUserPoolClient "
            "cognito-idp:UpdateUserPoolClient cognito-idp:DeleteUserPoolClient",
            *USER_POOLS,
        ),
    ),
    "aws_cognito_resource_server": (
        grant(
            "cognito-idp:CreateResourceServer cognito-idp:DescribeResourceServer "
            "cognito-idp:UpdateResourceServer cognito-idp:DeleteResourceServer",
            *USER_POOLS,
        ),
    ),
    # The hosted sign-in's prefix domain (no certificate: Cognito's own amazoncognito.com).
    "aws_cognito_user_pool_domain": (
        grant(
            "cognito-idp:CreateUserPoolDomain cognito-idp:UpdateUserPoolDomain "
            "cognito-idp:DeleteUserPoolDomain",
            *USER_POOLS,
        ),
        # DescribeUserPoolDomain takes the domain, not a pool: no resource-level permission.
        grant("cognito-idp:DescribeUserPoolDomain", ANY),
    ),
    # --- HTTP APIs (API Gateway v2) -------------------------------------------------------
    "aws_apigatewayv2_api": (
        grant(
            "apigateway:GET apigateway:POST apigateway:PUT apigateway:PATCH apigateway:DELETE",
            *HTTP_APIS,
        ),
    ),
    "aws_apigatewayv2_integration": (
        grant("apigateway:GET apigateway:POST apigateway:PATCH apigateway:DELETE", *HTTP_APIS),
    ),
    "aws_apigatewayv2_route": (
        grant("apigateway:GET apigateway:POST apigateway:PATCH apigateway:DELETE", *HTTP_APIS),
    ),
    "aws_apigatewayv2_authorizer": (
        grant("apigateway:GET apigateway:POST apigateway:PATCH apigateway:DELETE", *HTTP_APIS),
    ),
    "aws_apigatewayv2_stage": (
        grant(
            "apigateway:GET apigateway:POST apigateway:PUT apigateway:PATCH apigateway:DELETE",
            *HTTP_APIS,
        ),
        # The access log is delivered on the caller's behalf (API Gateway developer guide,
        # "Configure logging for HTTP APIs": the permissions it lists).
        grant(
            "logs:CreateLogDelivery logs:GetLogDelivery logs:UpdateLogDelivery "
            "logs:DeleteLogDelivery logs:ListLogDeliveries logs:PutResourcePolicy "
            "logs:DescribeResourcePolicies logs:DescribeLogGroups",
            ANY,
        ),
    ),
    "aws_apigatewayv2_domain_name": (
        grant(
            "apigateway:GET apigateway:POST apigateway:PUT apigateway:PATCH apigateway:DELETE",
            *DOMAIN_NAMES,
        ),
        grant("acm:DescribeCertificate", *CERTIFICATES),
    ),
    "aws_apigatewayv2_api_mapping": (
        grant("apigateway:GET apigateway:POST apigateway:PATCH apigateway:DELETE", *DOMAIN_NAMES),
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
}
