"""Who may call the API and the function URLs, and from which web pages: `[api.cors]` (and a
function URL's `cors`), `[authorizers.<key>]` and `[functions.<key>.url]`. Nothing here depends
on the kind of API: each API kind turns these into its own resources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field

from constructs_lib.authorizers import (
    AUTHORIZER_RESULT_TTL_DEFAULT_S,
    AUTHORIZER_RESULT_TTL_MAX_S,
    BUILT_IN_AUTHORIZATIONS,
    CALLBACK_URL,
    CALLBACK_URLS_MAX,
    DEFAULT_IDENTITY_SOURCE,
    IDENTITY_SOURCE,
    OAUTH_SCOPE_MAX,
    RESOURCE_SERVER_IDENTIFIER,
    RESOURCE_SERVER_MAX_SCOPES,
    SCOPE_DESCRIPTION_MAX,
    SCOPE_NAME,
    SCOPED_AUTHORIZER_TYPES,
    SIGN_IN_SCOPES,
    USER_ADMIN_SCOPE,
    AuthorizerType,
    domain_prefix_problem,
    scope_name,
)
from constructs_lib.cors import (
    CORS_HEADER_MAX,
    CORS_MAX_AGE_MAX_S,
    CORS_MAX_ITEMS,
    CORS_METHODS,
    CORS_ORIGIN_MAX,
    WILDCARD,
    CorsPolicy,
)
from constructs_lib.limits import HTTP_API_MAX_AUDIENCES
from serverless_app.config.base import StrictModel, rule
from serverless_app.config.problems import Problem
from serverless_app.config.rules import HttpsUrl, checked_by, pattern

AUTHORIZER_KEY = r"[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?"
AuthorizerKey = Annotated[
    str,
    pattern(
        AUTHORIZER_KEY,
        "1-20 lowercase letters, digits or hyphens, starting with a letter and not ending with "
        "a hyphen (it names the authorizer and, for cognito, its user pool)",
    ),
]
# `NONE`, `AWS_IAM` or a key of [authorizers] (whose existence a rule of the file checks).
Authorization = Annotated[
    str,
    pattern(
        "|".join([*BUILT_IN_AUTHORIZATIONS, AUTHORIZER_KEY]),
        '"AWS_IAM", "NONE" or a key of [authorizers]',
    ),
]
# OAuth 2.0 scope token (RFC 6749 3.3): printable ASCII but space, `"` and `\`; Cognito's custom
# scopes (`<resource server>/<scope>`) stop at 256 characters.
OAuthScope = Annotated[
    str,
    pattern(
        r"[\x21\x23-\x5B\x5D-\x7E]{1,256}",
        "an OAuth scope: 1-256 printable ASCII characters, no space, quote or backslash",
    ),
]
CorsOrigin = Annotated[
    str,
    pattern(
        rf"\*|(?=.{{1,{CORS_ORIGIN_MAX}}}$)https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{{1,5}})?",
        f'"*" or an origin as browsers send it: `https://host` or `http://host:port`, lowercase, '
        f"no path, no trailing `/`, at most {CORS_ORIGIN_MAX} characters",
    ),
]
CorsHeader = Annotated[
    str,
    pattern(
        rf"\*|[A-Za-z0-9_-]{{1,{CORS_HEADER_MAX}}}",
        f'"*" or a header name of letters, digits, `-` or `_`, at most {CORS_HEADER_MAX}',
    ),
]
CorsMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "*"]
IdentitySource = Annotated[
    str,
    pattern(IDENTITY_SOURCE.pattern, "`header.<name>` or `query.<name>`"),
]
PublicReason = Annotated[str, pattern(r"(?s).{10,256}", "10-256 characters")]
ResourceServerIdentifier = Annotated[
    str,
    pattern(
        RESOURCE_SERVER_IDENTIFIER,
        "1-256 printable ASCII characters, no space, quote or backslash (e.g. `orders` or "
        "`https://api.example.com`)",
    ),
]
ScopeName = Annotated[
    str,
    pattern(SCOPE_NAME, "1-256 printable ASCII characters, no space, quote, backslash or `/`"),
]
ScopeDescription = Annotated[str, Field(min_length=1, max_length=SCOPE_DESCRIPTION_MAX)]
CallbackUrl = Annotated[
    str,
    pattern(
        CALLBACK_URL,
        "an https:// URL (http:// only for localhost) without a `#` fragment, at most 1024 "
        "characters",
    ),
]


DomainPrefix = Annotated[str, checked_by(domain_prefix_problem)]
UrlAuth = Literal["AWS_IAM", "NONE"]
InvokeMode = Literal["BUFFERED", "RESPONSE_STREAM"]


class CorsConfig(StrictModel):
    """A CORS policy: which web pages (origins) may call, with what."""

    allow_origins: Annotated[list[CorsOrigin], Field(min_length=1, max_length=CORS_MAX_ITEMS)] = (
        Field(
            description=(
                '`"*"` (alone: any origin, never with `allow_credentials`) or origins such as '
                '`"https://app.example.com"`, matched exactly'
            )
        )
    )
    allow_methods: (
        Annotated[list[CorsMethod], Field(min_length=1, max_length=len(CORS_METHODS))] | None
    ) = Field(
        default=None,
        description=(
            f"{', '.join(CORS_METHODS)} or `*`; what a preflight allows. The preflight "
            "itself (OPTIONS) is answered by the API or Lambda, never by a function"
        ),
        json_schema_extra={
            "type_text": "list of strings",
            "default_text": "on an API, each path's routes' methods; on a function URL, all",
        },
    )
    allow_headers: Annotated[list[CorsHeader], Field(max_length=CORS_MAX_ITEMS)] = Field(
        default_factory=list,
        description=(
            "request headers a page may send beyond the CORS-safelisted ones (e.g. "
            "`authorization`, `content-type` for JSON)"
        ),
    )
    expose_headers: Annotated[list[CorsHeader], Field(max_length=CORS_MAX_ITEMS)] = Field(
        default_factory=list,
        description=("response headers a page may read beyond the safelisted ones"),
    )
    allow_credentials: bool = Field(
        default=False,
        description="pages may send cookies or HTTP authentication; not with any `*`",
    )
    max_age_seconds: Annotated[int, Field(ge=0, le=CORS_MAX_AGE_MAX_S)] | None = Field(
        default=None,
        description="how long a browser may reuse a preflight's answer",
        json_schema_extra={"default_text": "unset: the browser's default (5 s)"},
    )

    @rule("allow_origins")
    def _wildcard_alone(self) -> Iterator[Problem]:
        if WILDCARD in self.allow_origins and len(self.allow_origins) > 1:
            message = '"*" already allows every origin: list origins or "*" alone'
            yield Problem(("allow_origins",), message, self.allow_origins)

    @rule("allow_credentials", "allow_origins", "allow_methods", "allow_headers", "expose_headers")
    def _no_wildcard_with_credentials(self) -> Iterator[Problem]:
        if not self.allow_credentials:
            return
        lists: dict[str, list[str]] = {
            "allow_origins": self.allow_origins,
            "allow_methods": list(self.allow_methods or []),
            "allow_headers": self.allow_headers,
            "expose_headers": self.expose_headers,
        }
        for key, values in lists.items():
            if WILDCARD in values:
                message = (
                    '"*" with allow_credentials = true: browsers refuse credentials to any '
                    "origin and read `*` literally in the other lists; name them"
                )
                yield Problem((key, values.index(WILDCARD)), message, WILDCARD)


class ResourceServerConfig(StrictModel):
    """A cognito authorizer's `resource_server`: the API as Cognito knows it, and the custom
    scopes its access tokens may carry."""

    identifier: ResourceServerIdentifier = Field(
        description=(
            "the API's identifier in the user pool, the first part of each scope "
            "(`<identifier>/<scope>`), e.g. `orders` or `https://api.example.com`"
        )
    )
    scopes: Annotated[
        dict[ScopeName, ScopeDescription],
        Field(min_length=1, max_length=RESOURCE_SERVER_MAX_SCOPES),
    ] = Field(
        description=(
            f"scope name -> description (1-{SCOPE_DESCRIPTION_MAX} characters), at most "
            "Cognito's quota of scopes; a route requires one as `<identifier>/<name>`, at most "
            f"{OAUTH_SCOPE_MAX} characters"
        ),
        json_schema_extra={"type_text": "table"},
    )

    @rule("identifier", "scopes")
    def _scopes_fit(self) -> Iterator[Problem]:
        for name in self.scopes:
            scope = scope_name(self.identifier, name)
            if len(scope) > OAUTH_SCOPE_MAX:
                message = (
                    f"{scope!r} is {len(scope)} characters; Cognito's allowed scopes are at most "
                    f"{OAUTH_SCOPE_MAX}: shorten the identifier or the name"
                )
                yield Problem(("scopes", name), message)

    @property
    def scope_names(self) -> list[str]:
        return [scope_name(self.identifier, name) for name in self.scopes]


class AuthorizerConfig(StrictModel):
    """One `[authorizers.<key>]`: how a route's caller proves who it is."""

    type: AuthorizerType = Field(
        description=(
            "`cognito`: the stack creates a user pool `<project>-<env>-<key>` and an app "
            "client, and the route accepts their tokens; `jwt`: tokens of any OpenID Connect "
            "`issuer` (HTTP API only: a REST API verifies only Cognito's); `lambda`: a "
            "function of `[functions]` decides"
        )
    )
    issuer: HttpsUrl | None = Field(
        default=None,
        description="`jwt` only, required: the issuer URL (`iss`) of the OpenID Connect provider",
        json_schema_extra={"default_text": "—"},
    )
    audiences: (
        Annotated[
            list[Annotated[str, Field(min_length=1, max_length=2048)]],
            Field(min_length=1, max_length=HTTP_API_MAX_AUDIENCES),
        ]
        | None
    ) = Field(
        default=None,
        description=(
            f"`jwt` only, required: 1-{HTTP_API_MAX_AUDIENCES} accepted `aud` (or Cognito "
            "`client_id`) values"
        ),
        json_schema_extra={"default_text": "—"},
    )
    function: str | None = Field(
        default=None,
        description=(
            "`lambda` only, required: a key of `[functions]`; its `live` alias is invoked with "
            'the request and answers with an IAM policy (REST) or `{"isAuthorized": ...}` '
            "(HTTP API, payload 2.0 simple responses) (docs/functions.md)"
        ),
        json_schema_extra={"default_text": "—"},
    )
    identity_sources: Annotated[list[IdentitySource], Field(min_length=1)] = Field(
        default_factory=lambda: [DEFAULT_IDENTITY_SOURCE],
        description=(
            "`lambda` only: `header.<name>` or `query.<name>`; a request lacking one is "
            "refused (401) without invoking the authorizer, and together they key its cache"
        ),
    )
    deletion_protection: bool = Field(
        default=False,
        description=(
            "`cognito` only: Cognito refuses to delete the user pool, and its users with it "
            "(prod); `terraform destroy` then fails"
        ),
    )
    result_ttl_seconds: Annotated[int, Field(ge=0, le=AUTHORIZER_RESULT_TTL_MAX_S)] = Field(
        default=AUTHORIZER_RESULT_TTL_DEFAULT_S,
        description="`lambda` only: how long API Gateway caches a decision; 0 turns caching off",
    )
    resource_server: ResourceServerConfig | None = Field(
        default=None,
        description=(
            '`cognito` only: `{ identifier = "...", scopes = { <name> = "<description>" } }`; '
            "the stack creates the resource server, the pool's hosted sign-in domain and lets "
            "the app client sign users in with the authorization code grant for these scopes "
            f"and {', '.join(SIGN_IN_SCOPES)} (docs/functions.md)"
        ),
        json_schema_extra={"type_text": "table", "default_text": "unset: no custom scopes"},
    )
    callback_urls: (
        Annotated[list[CallbackUrl], Field(min_length=1, max_length=CALLBACK_URLS_MAX)] | None
    ) = Field(
        default=None,
        description=(
            "required with `resource_server`, and only then: the URLs the hosted sign-in may "
            "send the authorization code to (your app's sign-in page)"
        ),
        json_schema_extra={"default_text": "—"},
    )
    domain_prefix: DomainPrefix | None = Field(
        default=None,
        description=(
            "with `resource_server` only: the hosted sign-in's "
            "`https://<prefix>.auth.<region>.amazoncognito.com`, unique in the region; "
            "1-63 lowercase letters, digits or hyphens, without `aws`, `amazon` or `cognito`"
        ),
        json_schema_extra={"default_text": "`<project>-<env>-<key>`"},
    )

    @rule(
        "type",
        "issuer",
        "audiences",
        "function",
        "identity_sources",
        "result_ttl_seconds",
        "deletion_protection",
        "resource_server",
        "callback_urls",
        "domain_prefix",
    )
    def _keys_of_the_type(self) -> Iterator[Problem]:
        required = {"jwt": ("issuer", "audiences"), "lambda": ("function",), "cognito": ()}
        only = {
            "issuer": "jwt",
            "audiences": "jwt",
            "function": "lambda",
            "identity_sources": "lambda",
            "result_ttl_seconds": "lambda",
            "deletion_protection": "cognito",
            "resource_server": "cognito",
            "callback_urls": "cognito",
            "domain_prefix": "cognito",
        }
        for key in required[self.type]:
            if getattr(self, key) is None:
                yield Problem((key,), f"required with type = {self.type!r}")
        for key, owner in only.items():
            if key in self.model_fields_set and owner != self.type:
                message = f"only used with type = {owner!r}, not {self.type!r}"
                yield Problem((key,), message, getattr(self, key))

    @rule("type", "resource_server", "callback_urls", "domain_prefix")
    def _sign_in_with_the_resource_server(self) -> Iterator[Problem]:
        if self.type != "cognito":
            return
        if self.resource_server is not None and self.callback_urls is None:
            message = (
                "required with resource_server: where the hosted sign-in sends users back "
                "with the authorization code"
            )
            yield Problem(("callback_urls",), message)
        if self.resource_server is None:
            for key in ("callback_urls", "domain_prefix"):
                if key in self.model_fields_set:
                    message = "only used with resource_server (the hosted sign-in)"
                    yield Problem((key,), message, getattr(self, key))

    @property
    def takes_scopes(self) -> bool:
        return self.type in SCOPED_AUTHORIZER_TYPES

    @property
    def offered_scopes(self) -> list[str] | None:
        """The scopes a cognito authorizer's tokens can carry (Cognito's own, and with a
        resource server the hosted sign-in's and its custom ones); None for a jwt
        authorizer, whose issuer alone knows its scopes."""
        if self.type != "cognito":
            return None
        if self.resource_server is None:
            return [USER_ADMIN_SCOPE]
        return [*self.resource_server.scope_names, *SIGN_IN_SCOPES, USER_ADMIN_SCOPE]


class FunctionUrlConfig(StrictModel):
    """`[functions.<key>.url]`: an HTTPS endpoint of its own on the function's `live` alias,
    outside the API (webhooks)."""

    auth: UrlAuth = Field(
        default="AWS_IAM",
        description=(
            "`AWS_IAM`: callers sign with SigV4 and need `lambda:InvokeFunctionUrl` in their own "
            "policy; `NONE`: anyone on the internet, only with `public_reason`"
        ),
    )
    public_reason: PublicReason | None = Field(
        default=None,
        description=(
            'required with `auth = "NONE"`, and only then: why an open URL is safe (e.g. '
            '"the handler verifies the sender\'s HMAC signature"), 10-256 characters; the '
            "security gate prints it where it lets the URL fail checkov's `CKV_AWS_258`"
        ),
    )
    invoke_mode: InvokeMode = Field(
        default="BUFFERED",
        description=(
            "`BUFFERED` (answers up to 6 MB) or `RESPONSE_STREAM`, which Lambda offers only to "
            "Node.js and custom runtimes: refused for the Python runtimes"
        ),
    )
    cors: CorsConfig | None = Field(
        default=None,
        description="the keys of `api.cors`; Lambda answers preflights and adds the headers",
        json_schema_extra={"type_text": "table", "default_text": "unset: no CORS"},
    )

    @rule("auth", "public_reason")
    def _open_only_on_purpose(self) -> Iterator[Problem]:
        if self.auth == "NONE" and self.public_reason is None:
            message = (
                'auth = "NONE" lets anyone on the internet invoke the function: say why it is '
                "safe in public_reason, or keep AWS_IAM"
            )
            yield Problem(("auth",), message, self.auth)
        if self.auth != "NONE" and self.public_reason is not None:
            message = 'only used with auth = "NONE"'
            yield Problem(("public_reason",), message, self.public_reason)


def url_problems(url: FunctionUrlConfig, runtime: str) -> Iterator[Problem]:
    """What a function URL cannot do with the function's runtime."""
    if url.invoke_mode == "RESPONSE_STREAM" and runtime.startswith("python"):
        message = (
            f"Lambda streams answers only from Node.js managed runtimes and custom runtimes, "
            f"not {runtime}: use BUFFERED"
        )
        yield Problem(("url", "invoke_mode"), message, url.invoke_mode)


def cors_policy(cors: CorsConfig) -> CorsPolicy:
    """The policy the API or function URL answers with."""
    return CorsPolicy(
        allow_origins=tuple(cors.allow_origins),
        allow_methods=tuple(cors.allow_methods) if cors.allow_methods is not None else None,
        allow_headers=tuple(cors.allow_headers),
        expose_headers=tuple(cors.expose_headers),
        allow_credentials=cors.allow_credentials,
        max_age_s=cors.max_age_seconds,
    )
