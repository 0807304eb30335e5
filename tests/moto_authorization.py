"""Where moto 5.2's IAM authorization (INITIAL_NO_AUTH_ACTION_COUNT, `enforce_iam`) differs from
AWS in what proving the deployer policy relies on, and the fix the emulator runs with.

Installed in the moto server process (`tests/moto_server.py`) next to `tests/moto_gaps.py`
when MOTO_AWS_AUTHORIZATION=1 (the deployer policy's tests); they change nothing while
authorization is off. moto authorizes every request of the services
the stacks call but `sts:GetCallerIdentity` (AWS never denies it either): it checks the
signature, then the action against the caller's policies, evaluating `Action` and `Resource`
patterns and only `StringEquals` conditions (plus `Bool`, `tests/moto_gaps.py` gap 1).
`test_deployer_policy_cycle.py` shows each fix at work.

A1. Signatures of REST requests: moto recomputes the SigV4 signature over the request's parsed
   parameters when the body is empty, so every GET or DELETE to API Gateway, Lambda, Route 53
   and EventBridge Scheduler fails with SignatureDoesNotMatch, whatever the policy. Fix: the
   signature is computed over the raw body, as the client signed it.
A2. Action names: moto names the action after the signing name and the operation. For CloudWatch
   that is `monitoring:PutMetricAlarm`; IAM's is `cloudwatch:PutMetricAlarm`. API Gateway's IAM
   actions are the HTTP method on the resource's path (`apigateway:POST` on
   `arn:aws:apigateway:<region>::/restapis`); moto checks `apigateway:CreateRestApi` on `*`.
   Fix: `cloudwatch:` for `monitoring:`; for API Gateway the method, on the path's ARN.
A3. S3 action names: moto names a bucket's HEAD `s3:HeadBucket` (IAM: `s3:ListBucket`) and
   does not know the `encryption`, `ownershipControls` and `publicAccessBlock` subresources,
   which it authorizes as `s3:CreateBucket` (PUT), `s3:ListBucket` (GET) or `s3:DeleteBucket`.
   Fix: IAM's names for these.
A4. Resources: moto passes the resource's ARN only for S3 (bucket and object), SQS (an existing
   queue), IAM (an existing role named by `RoleName`) and, with A2, API Gateway; every other
   action is authorized against `*`, which no statement scoped to ARNs matches, so a scoped
   policy denied them all. Fix: where moto names no resource, a statement's `Resource` is taken
   as matching: the action is checked, the resource scope of those services only on paper.

Not fixed: moto answers a denied call with one XML error shape for every service; the provider
decodes it for EC2 only. A denied call of another service still fails (HTTP 403), but
Terraform's message does not name the action: `sqs:CreateQueue` (a JSON service: "failed to
decode response body") and `sns:CreateTopic` ("api error UnknownError") were seen.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

# Services whose requests are REST (the body is the payload; parameters in path and query).
REST_SERVICES = frozenset({"apigateway", "lambda", "route53", "scheduler"})
# IAM's prefix for a signing name that differs from it.
IAM_PREFIX = {"monitoring": "cloudwatch"}
# moto's S3 action name -> IAM's.
S3_ACTION_NAMES = {"HeadBucket": "ListBucket"}
# S3 subresources moto's ACTION_MAP does not know -> IAM's action per method.
S3_SUBRESOURCES = {
    "encryption": {
        "GET": "GetEncryptionConfiguration",
        "PUT": "PutEncryptionConfiguration",
        "DELETE": "PutEncryptionConfiguration",
    },
    "ownershipControls": {
        "GET": "GetBucketOwnershipControls",
        "PUT": "PutBucketOwnershipControls",
        "DELETE": "PutBucketOwnershipControls",
    },
    "publicAccessBlock": {
        "GET": "GetBucketPublicAccessBlock",
        "PUT": "PutBucketPublicAccessBlock",
        "DELETE": "PutBucketPublicAccessBlock",
    },
}
UNNAMED_RESOURCE = "*"


def install() -> None:
    _rest_signatures_over_the_raw_body()
    _iam_action_names()
    _s3_action_names()
    _unnamed_resources_match()


def _rest_signatures_over_the_raw_body() -> None:
    from botocore.awsrequest import AWSRequest
    from moto.iam.access_control import IAMRequestBase

    create = IAMRequestBase._create_aws_request

    def create_aws_request(self: Any) -> AWSRequest:
        request = create(self)
        if self._service in REST_SERVICES:
            request.data = self._body or b""
        return request

    IAMRequestBase._create_aws_request = create_aws_request  # type: ignore[method-assign]


def iam_action(service: str, operation: str, method: str) -> str:
    """The IAM action of a request moto names `<service>:<operation>` (A2)."""
    if service == "apigateway":
        return f"apigateway:{method}"
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def apigateway_resource(region: str, path: str) -> str:
    return f"arn:aws:apigateway:{region}::{urlsplit(path).path}"


def _iam_action_names() -> None:
    from moto.iam.access_control import IAMRequestBase

    initialize = IAMRequestBase.__init__
    check = IAMRequestBase.check_action_permitted

    def __init__(self: Any, *arguments: Any, **options: Any) -> None:
        initialize(self, *arguments, **options)
        operation = self._action.partition(":")[2]
        self._action = iam_action(self._service, operation, self._method)

    def check_action_permitted(self: Any, resource: str) -> None:
        if self._service == "apigateway" and resource == UNNAMED_RESOURCE:
            resource = apigateway_resource(self._region, self._path)
        check(self, resource)

    IAMRequestBase.__init__ = __init__  # type: ignore[method-assign]
    IAMRequestBase.check_action_permitted = check_action_permitted  # type: ignore[method-assign]


def _s3_action_names() -> None:
    from moto.s3.responses import S3Response

    set_action = S3Response._set_action

    def _set_action(
        self: Any, action_resource_type: str, method: str, querystring: dict[str, Any]
    ) -> None:
        set_action(self, action_resource_type, method, querystring)
        action = self.data["Action"]
        self.data["Action"] = S3_ACTION_NAMES.get(action, action)
        if action_resource_type != "BUCKET":
            return
        for subresource, actions in S3_SUBRESOURCES.items():
            if subresource in querystring and method in actions:
                self.data["Action"] = actions[method]

    S3Response._set_action = _set_action  # type: ignore[method-assign]


def _unnamed_resources_match() -> None:
    from moto.iam.access_control import IAMPolicyStatement

    matches = IAMPolicyStatement._check_element_matches

    def check_element_matches(self: Any, statement_element: Any, value: str) -> bool:
        if statement_element == "Resource" and value == UNNAMED_RESOURCE:
            return True
        return matches(self, statement_element, value)

    IAMPolicyStatement._check_element_matches = check_element_matches  # type: ignore[method-assign]
