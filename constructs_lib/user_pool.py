"""A Cognito user pool and an app client: who signs in, and the tokens an API's user pool
authorizer accepts; with a resource server, the custom scopes a route may require and the
hosted sign-in (OAuth 2.0 authorization code grant) that issues access tokens carrying them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from cdktf_cdktf_provider_aws.cognito_resource_server import (
    CognitoResourceServer,
    CognitoResourceServerScope,
)
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
from cdktf_cdktf_provider_aws.cognito_user_pool_domain import CognitoUserPoolDomain
from constructs import Construct

from constructs_lib.authorizers import (
    CALLBACK_URL,
    CALLBACK_URLS_MAX,
    OAUTH_SCOPE_MAX,
    RESOURCE_SERVER_IDENTIFIER,
    RESOURCE_SERVER_MAX_SCOPES,
    SCOPE_DESCRIPTION_MAX,
    SCOPE_NAME,
    SIGN_IN_SCOPES,
    domain_prefix_problem,
    scope_name,
)

# Cognito: a user pool's and an app client's name, 1-128 characters.
USER_POOL_NAME_MAX = 128
# An hour of ID and access token (Cognito's default), a month of refresh token.
TOKEN_VALIDITY_MINUTES = 60
REFRESH_TOKEN_VALIDITY_DAYS = 30


@dataclass(frozen=True)
class ResourceServer:
    """An API as Cognito knows it: `identifier` and the scopes (name -> description) an access
    token may carry for it, as `<identifier>/<name>`."""

    identifier: str
    scopes: Mapping[str, str]

    def __post_init__(self) -> None:
        if re.fullmatch(RESOURCE_SERVER_IDENTIFIER, self.identifier) is None:
            raise ValueError(f"not a resource server identifier: {self.identifier!r}")
        if not 1 <= len(self.scopes) <= RESOURCE_SERVER_MAX_SCOPES:
            raise ValueError(f"a resource server has 1-{RESOURCE_SERVER_MAX_SCOPES} scopes")
        for name, description in self.scopes.items():
            if re.fullmatch(SCOPE_NAME, name) is None:
                raise ValueError(f"not a scope name: {name!r}")
            if not 1 <= len(description) <= SCOPE_DESCRIPTION_MAX:
                raise ValueError(f"scope {name}: a description of 1-{SCOPE_DESCRIPTION_MAX}")
        for scope in self.scope_names:
            if len(scope) > OAUTH_SCOPE_MAX:
                raise ValueError(f"{scope!r} is longer than {OAUTH_SCOPE_MAX} characters")

    @property
    def scope_names(self) -> tuple[str, ...]:
        """The scopes as tokens carry them: `<identifier>/<name>`."""
        return tuple(scope_name(self.identifier, name) for name in self.scopes)


@dataclass(frozen=True)
class HostedSignIn:
    """Cognito's hosted sign-in on `https://<domain_prefix>.auth.<region>.amazoncognito.com`:
    the app client's authorization code grant (a public client: the app uses PKCE),
    redirecting to `callback_urls`, for the sign-in scopes and the resource server's."""

    resource_server: ResourceServer
    callback_urls: Sequence[str]
    domain_prefix: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.callback_urls) <= CALLBACK_URLS_MAX:
            raise ValueError(f"1-{CALLBACK_URLS_MAX} callback URLs")
        for url in self.callback_urls:
            if re.fullmatch(CALLBACK_URL, url) is None:
                raise ValueError(f"not a callback URL Cognito takes: {url!r}")
        problem = domain_prefix_problem(self.domain_prefix)
        if problem is not None:
            raise ValueError(f"domain prefix {self.domain_prefix!r}: {problem}")

    @property
    def allowed_scopes(self) -> tuple[str, ...]:
        return (*SIGN_IN_SCOPES, *self.resource_server.scope_names)


@dataclass(frozen=True)
class UserPoolProps:
    name: str
    # The pool holds the users: Cognito refuses to delete it while on (prod).
    deletion_protection: bool = False
    # None: users sign in through Cognito's API only (SRP); tokens carry no custom scopes.
    hosted_sign_in: HostedSignIn | None = field(default=None)

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
        sign_in = props.hosted_sign_in
        self.resource_server = self._resource_server(props.name, sign_in)
        self.domain = (
            CognitoUserPoolDomain(
                self, "domain", domain=sign_in.domain_prefix, user_pool_id=self.pool_id
            )
            if sign_in is not None
            else None
        )
        self.client = CognitoUserPoolClient(
            self,
            "client",
            name=props.name,
            user_pool_id=self.pool_id,
            generate_secret=False,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            # Cognito refuses a scope no resource server has yet.
            depends_on=[self.resource_server] if self.resource_server is not None else None,
            allowed_oauth_flows_user_pool_client=True if sign_in is not None else None,
            allowed_oauth_flows=["code"] if sign_in is not None else None,
            allowed_oauth_scopes=list(sign_in.allowed_scopes) if sign_in is not None else None,
            callback_urls=list(sign_in.callback_urls) if sign_in is not None else None,
            supported_identity_providers=["COGNITO"] if sign_in is not None else None,
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

    def _resource_server(
        self, name: str, sign_in: HostedSignIn | None
    ) -> CognitoResourceServer | None:
        if sign_in is None:
            return None
        server = sign_in.resource_server
        return CognitoResourceServer(
            self,
            "resource-server",
            user_pool_id=self.pool_id,
            identifier=server.identifier,
            # Cognito's name allows fewer characters than the identifier: the pool's name.
            name=name,
            scope=[
                CognitoResourceServerScope(scope_name=scope, scope_description=description)
                for scope, description in server.scopes.items()
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

    def sign_in_url(self, region: str) -> str:
        """The hosted sign-in's base URL (`/oauth2/authorize`, `/oauth2/token` below it)."""
        if self.domain is None:
            raise ValueError("no hosted sign-in: the pool has no resource server")
        return f"https://{self.domain.domain}.auth.{region}.amazoncognito.com"

    @cached_property
    def issuer(self) -> str:
        """The tokens' `iss`: `https://cognito-idp.<region>.amazonaws.com/<pool id>`."""
        return f"https://{self.pool.endpoint}"
