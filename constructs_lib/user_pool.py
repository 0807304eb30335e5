"""A Cognito user pool and an app client: who signs in, and the tokens an API's user pool
authorizer accepts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cdktf_cdktf_provider_aws.cognito_user_pool import (
    CognitoUserPool,
    CognitoUserPoolAccountRecoverySetting,
    CognitoUserPoolAccountRecoverySettingRecoveryMechanism,
    CognitoUserPoolAdminCreateUserConfig,
    CognitoUserPoolPasswordPolicy,
    CognitoUserPoolSoftwareTokenMfaConfiguration,
)
from cdktf_cdktf_provider_aws.cognito_user_pool_client import (
    CognitoUserPoolClient,
    CognitoUserPoolClientTokenValidityUnits,
)
from constructs import Construct

# Cognito: a user pool's and an app client's name, 1-128 characters.
USER_POOL_NAME_MAX = 128
# An hour of ID and access token (Cognito's default), a month of refresh token.
TOKEN_VALIDITY_MINUTES = 60
REFRESH_TOKEN_VALIDITY_DAYS = 30


@dataclass(frozen=True)
class UserPoolProps:
    name: str
    # The pool holds the users: Cognito refuses to delete it while on (prod).
    deletion_protection: bool = False

    def __post_init__(self) -> None:
        if not 1 <= len(self.name) <= USER_POOL_NAME_MAX:
            raise ValueError(f"user pool name must be 1-{USER_POOL_NAME_MAX} characters")


class UserPool(Construct):
    """Users sign in with their email address; only an administrator creates them (no
    self-service sign-up on an API's pool by default); TOTP MFA offered; the app client is a
    public client (a browser or mobile app keeps no secret) using SRP, which never sends the
    password."""

    def __init__(self, scope: Construct, id: str, props: UserPoolProps) -> None:
        super().__init__(scope, id)
        self.pool = CognitoUserPool(
            self,
            "pool",
            name=props.name,
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=CognitoUserPoolSoftwareTokenMfaConfiguration(
                enabled=True
            ),
            password_policy=CognitoUserPoolPasswordPolicy(
                minimum_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=7,
            ),
            admin_create_user_config=CognitoUserPoolAdminCreateUserConfig(
                allow_admin_create_user_only=True
            ),
            account_recovery_setting=CognitoUserPoolAccountRecoverySetting(
                recovery_mechanism=[
                    CognitoUserPoolAccountRecoverySettingRecoveryMechanism(
                        name="verified_email", priority=1
                    )
                ]
            ),
            deletion_protection="ACTIVE" if props.deletion_protection else "INACTIVE",
        )
        self.client = CognitoUserPoolClient(
            self,
            "client",
            name=props.name,
            user_pool_id=self.pool_id,
            generate_secret=False,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=TOKEN_VALIDITY_MINUTES,
            id_token_validity=TOKEN_VALIDITY_MINUTES,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY_DAYS,
            token_validity_units=[
                CognitoUserPoolClientTokenValidityUnits(
                    access_token="minutes", id_token="minutes", refresh_token="days"
                )
            ],
        )

    # Each attribute read once: every read is a round trip to the jsii kernel.
    @cached_property
    def pool_id(self) -> str:
        return self.pool.id

    @cached_property
    def client_id(self) -> str:
        return self.client.id

    @cached_property
    def arn(self) -> str:
        return self.pool.arn

    @cached_property
    def issuer(self) -> str:
        """The tokens' `iss`: `https://cognito-idp.<region>.amazonaws.com/<pool id>`."""
        return f"https://{self.pool.endpoint}"
