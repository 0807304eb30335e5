"""A function URL: an HTTPS endpoint of a function's `live` alias of its own, outside any API
(webhooks), with Lambda's own CORS."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cdktf_cdktf_provider_aws.lambda_function_url import LambdaFunctionUrl, LambdaFunctionUrlCors
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from constructs_lib.authorizers import AWS_IAM, NO_AUTHORIZATION
from constructs_lib.cors import WILDCARD, CorsPolicy

INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
# The statement letting anyone call an open URL (Lambda checks no signature).
PUBLIC_URL_STATEMENT_ID = "AllowPublicFunctionUrl"


@dataclass(frozen=True)
class FunctionUrlProps:
    # The function's name as written (not a reference): the security gate matches it.
    function_name: str
    # The alias the URL invokes (`live`).
    qualifier: str
    # AWS_IAM: callers sign (SigV4) with `lambda:InvokeFunctionUrl` in their own policy;
    # NONE: anyone, which the caller must have chosen on purpose.
    auth: str = AWS_IAM
    invoke_mode: str = "BUFFERED"
    # None: no CORS headers, Lambda answers no preflight.
    cors: CorsPolicy | None = None

    def __post_init__(self) -> None:
        if self.auth not in (AWS_IAM, NO_AUTHORIZATION):
            raise ValueError(f"function URL auth must be AWS_IAM or NONE, got {self.auth!r}")
        if self.invoke_mode not in INVOKE_MODES:
            raise ValueError(f"invoke_mode must be one of {INVOKE_MODES}, got {self.invoke_mode!r}")


class FunctionUrl(Construct):
    def __init__(self, scope: Construct, id: str, props: FunctionUrlProps) -> None:
        super().__init__(scope, id)
        self.url_config = LambdaFunctionUrl(
            self,
            "url",
            function_name=props.function_name,
            qualifier=props.qualifier,
            authorization_type=props.auth,
            invoke_mode=props.invoke_mode,
            cors=_url_cors(props.cors) if props.cors is not None else None,
        )
        if props.auth == NO_AUTHORIZATION:
            # The URL needs a statement in the function's policy even when open.
            LambdaPermission(
                self,
                "public",
                statement_id=PUBLIC_URL_STATEMENT_ID,
                action="lambda:InvokeFunctionUrl",
                function_name=props.function_name,
                qualifier=props.qualifier,
                principal="*",
                function_url_auth_type=NO_AUTHORIZATION,
                depends_on=[self.url_config],
            )

    @cached_property
    def url(self) -> str:
        return self.url_config.function_url


def _url_cors(cors: CorsPolicy) -> LambdaFunctionUrlCors:
    """Lambda's CORS settings: it answers preflights and adds the headers to every answer."""
    return LambdaFunctionUrlCors(
        allow_origins=list(cors.allow_origins),
        # No routes: every method unless the policy names some.
        allow_methods=list(cors.allow_methods or (WILDCARD,)),
        allow_headers=list(cors.allow_headers) or None,
        expose_headers=list(cors.expose_headers) or None,
        allow_credentials=cors.allow_credentials,
        max_age=cors.max_age_s,
    )
