"""`[[routes]]`: method and path to a function, and the rules across the routes of a file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field

from constructs_lib.authorizers import AWS_IAM, BUILT_IN_AUTHORIZATIONS, NO_AUTHORIZATION
from constructs_lib.paths import (
    MAX_API_RESOURCES,
    MAX_LISTENER_PRIORITY,
    MAX_WILDCARDS_PER_RULE,
    MIN_LISTENER_PRIORITY,
    resource_paths,
    rule_priority,
    segments,
    wildcard_count,
)
from serverless_app.config.access import (
    Authorization,
    AuthorizerConfig,
    OAuthScope,
)
from serverless_app.config.aws_facts import TARGET_GROUP_NAME_MAX
from serverless_app.config.base import StrictModel, rule
from serverless_app.config.edge import LoadBalancerConfig
from serverless_app.config.functions import FunctionConfig
from serverless_app.config.problems import NO_VALUE, Problem
from serverless_app.config.rules import RoutePath, did_you_mean, listed

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "ANY"]


class RouteConfig(StrictModel):
    """One `[[routes]]` entry: method and path on the REST API (and the load balancer) to a
    function."""

    method: HttpMethod = Field(description="`ANY`: every method on the path")
    path: RoutePath = Field(
        description=(
            '`"/"` or `/segment/...`: segments of letters, digits, `.`, `_`, `-`, or a parameter '
            "`{name}`; a greedy `{name+}` only last; no empty segment, no trailing `/`; at most "
            "128 characters (the load balancer's path pattern limit); no two routes with the "
            "same method (or `ANY`) on the same path; one parameter name per position among "
            "paths sharing the segments before it (API Gateway); at most 5 parameters with "
            "`load_balancer` (a listener rule's wildcards)"
        )
    )
    function: str = Field(description="a key of `[functions]`")
    # "NONE" makes the route public: a deliberate choice, never the default.
    authorization: Authorization = Field(
        default=AWS_IAM,
        description=(
            '`"AWS_IAM"` (SigV4-signed calls), `"NONE"` (public: a deliberate choice, never the '
            "default) or a key of `[authorizers]`"
        ),
        json_schema_extra={"default_text": '`"AWS_IAM"`'},
    )
    scopes: list[OAuthScope] = Field(
        default_factory=list,
        description=(
            "OAuth scopes the caller's token must carry one of, e.g. `orders/write`; only with a "
            "`cognito` or `jwt` authorizer; a cognito authorizer's only if its tokens carry them "
            "(its `resource_server`'s, `openid`, `email`, `aws.cognito.signin.user.admin`)"
        ),
    )
    load_balancer: bool = Field(
        default=False,
        description=(
            "also a listener rule on the load balancer, to the function's target group. The load "
            'balancer cannot check IAM signatures: only for `authorization = "NONE"` routes'
        ),
        json_schema_extra={"default_text": '`true` for `authorization = "NONE"`, else `false`'},
    )
    priority: Annotated[int, Field(ge=MIN_LISTENER_PRIORITY, le=MAX_LISTENER_PRIORITY)] | None = (
        Field(
            default=None,
            description=(
                "the load balancer rule's priority (lower is tested first), unique among the "
                "routes; set it only when the derived one collides with another route's"
            ),
            json_schema_extra={
                "default_text": "derived from method and path (docs/functions.md), stable"
            },
        )
    )

    @classmethod
    def prepared(cls, data: Any) -> Any:
        """Public routes go on the load balancer unless told otherwise; authorized ones never
        by default (see `_no_anonymous_path`)."""
        if isinstance(data, dict) and "load_balancer" not in data:
            authorization = data.get("authorization", cls.model_fields["authorization"].default)
            return {**data, "load_balancer": authorization == NO_AUTHORIZATION}
        return data

    @rule("load_balancer", "authorization")
    def _no_anonymous_path(self) -> Iterator[Problem]:
        if self.load_balancer and self.authorization != NO_AUTHORIZATION:
            message = (
                f"the load balancer cannot check {self.authorization} authorization: the route "
                'would be public there; set load_balancer = false or authorization = "NONE"'
            )
            yield Problem(("load_balancer",), message, self.load_balancer)

    @rule("scopes", "authorization")
    def _scopes_need_an_authorizer(self) -> Iterator[Problem]:
        if self.scopes and self.authorization in BUILT_IN_AUTHORIZATIONS:
            message = (
                f"{self.authorization} carries no OAuth scopes: only a cognito or jwt authorizer's "
                "tokens do"
            )
            yield Problem(("scopes",), message, self.scopes)

    @rule("priority", "load_balancer")
    def _priority_needs_the_load_balancer(self) -> Iterator[Problem]:
        if self.priority is not None and not self.load_balancer:
            message = "only used for a route on the load balancer (load_balancer = true)"
            yield Problem(("priority",), message, self.priority)

    @property
    def listener_priority(self) -> int:
        """Its rule's priority on the load balancer: `priority`, else derived from the route."""
        return rule_priority(self.method, self.path, self.priority)

    @property
    def parameters(self) -> list[str]:
        """The names of the path parameters, in order (`{proxy+}` gives `proxy`)."""
        return [segment.parameter for segment in segments(self.path) if segment.parameter]


def target_group_names(
    routes: list[RouteConfig], load_balancer: LoadBalancerConfig
) -> Iterator[Problem]:
    """A function a public route reaches gets a target group `<load balancer>-<key>`."""
    reported = set()
    for index, route in enumerate(routes):
        name = f"{load_balancer.name}-{route.function}"
        if route.load_balancer and len(name) > TARGET_GROUP_NAME_MAX and name not in reported:
            reported.add(name)
            yield Problem(
                (index, "function"),
                f"its target group {name!r} is {len(name)} characters, ELB allows "
                f"{TARGET_GROUP_NAME_MAX}: shorten the key or set load_balancer.name",
                route.function,
            )


def load_balancer_wildcards(routes: list[RouteConfig]) -> Iterator[Problem]:
    for index, route in enumerate(routes):
        count = wildcard_count(route.path)
        if route.load_balancer and count > MAX_WILDCARDS_PER_RULE:
            message = (
                f"{count} path parameters, each a wildcard of the load balancer rule, which allows "
                f"{MAX_WILDCARDS_PER_RULE}: use fewer or set load_balancer = false"
            )
            yield Problem((index, "path"), message, route.path)


def api_resources(routes: list[RouteConfig]) -> Iterator[Problem]:
    """API Gateway's default quota of resources (distinct paths) per API."""
    for index in range(len(routes)):
        needed = len(resource_paths([route.path for route in routes[: index + 1]]))
        if needed > MAX_API_RESOURCES:
            message = (
                f"the routes up to this one need {needed} API resources (one per distinct path "
                f"and each path above it); API Gateway allows {MAX_API_RESOURCES} per API: let "
                "routes share path prefixes"
            )
            yield Problem((index, "path"), message, routes[index].path)
            return


def unknown_functions(
    routes: list[RouteConfig], functions: dict[str, FunctionConfig]
) -> Iterator[Problem]:
    for index, route in enumerate(routes):
        if route.function not in functions:
            known = listed(functions)
            message = f"not a key of [functions] ({known}){did_you_mean(route.function, functions)}"
            yield Problem((index, "function"), message, route.function)


def authorizer_references(
    routes: list[RouteConfig],
    authorizers: dict[str, AuthorizerConfig],
    functions: dict[str, FunctionConfig],
) -> Iterator[Problem]:
    """Each route's authorizer is declared and takes its scopes; each lambda authorizer's
    function exists."""
    for index, route in enumerate(routes):
        key = route.authorization
        if key in BUILT_IN_AUTHORIZATIONS:
            continue
        authorizer = authorizers.get(key)
        if authorizer is None:
            known = listed(authorizers) or "none declared"
            message = (
                f'not "AWS_IAM", "NONE" or a key of [authorizers] ({known})'
                f"{did_you_mean(key, authorizers)}"
            )
            yield Problem(("routes", index, "authorization"), message, key)
        elif route.scopes and not authorizer.takes_scopes:
            message = (
                f"authorizers.{key} is a {authorizer.type} authorizer, whose answers carry no "
                "OAuth scopes: only cognito and jwt tokens do"
            )
            yield Problem(("routes", index, "scopes"), message, route.scopes)
        else:
            yield from _unknown_scopes(index, route, key, authorizer)
    for key, authorizer in authorizers.items():
        function = authorizer.function
        if function is not None and function not in functions:
            message = (
                f"not a key of [functions] ({listed(functions)}){did_you_mean(function, functions)}"
            )
            yield Problem(("authorizers", key, "function"), message, function)


def _unknown_scopes(
    index: int, route: RouteConfig, key: str, authorizer: AuthorizerConfig
) -> Iterator[Problem]:
    """A scope no token of the authorizer can carry would refuse every caller (403)."""
    offered = authorizer.offered_scopes
    if offered is None:
        return
    for position, scope in enumerate(route.scopes):
        if scope not in offered:
            hint = (
                ""
                if authorizer.resource_server is not None
                else f": custom scopes need authorizers.{key}.resource_server"
            )
            message = (
                f"no token of authorizers.{key} carries it ({', '.join(offered)}){hint}"
                f"{did_you_mean(scope, offered)}"
            )
            yield Problem(("routes", index, "scopes", position), message, scope)


def _route_shape(path: str) -> tuple[str, ...]:
    """The path with every parameter alike: the routes API Gateway cannot tell apart."""
    return tuple(
        ("{+}" if segment.greedy else "{}") if segment.parameter else segment.text
        for segment in segments(path)
    )


def route_collisions(routes: list[RouteConfig]) -> Iterator[Problem]:
    """Two routes for the same request: the same method (or ANY) on the same path."""
    earlier: dict[tuple[str, ...], list[tuple[int, RouteConfig]]] = {}
    for index, route in enumerate(routes):
        shape = _route_shape(route.path)
        for other_index, other in earlier.get(shape, []):
            if "ANY" in (route.method, other.method) or route.method == other.method:
                message = (
                    f"{route.method} {route.path} collides with routes[{other_index}] "
                    f"({other.method} {other.path})"
                )
                yield Problem((index, "path"), message, route.path)
                break
        earlier.setdefault(shape, []).append((index, route))


def priority_collisions(routes: list[RouteConfig]) -> Iterator[Problem]:
    """Two listener rules with one priority: ELB refuses the second."""
    holder: dict[int, int] = {}
    for index, route in enumerate(routes):
        if not route.load_balancer:
            continue
        priority = route.listener_priority
        if priority in holder:
            other = routes[holder[priority]]
            message = (
                f"listener priority {priority} is also that of routes[{holder[priority]}] "
                f"({other.method} {other.path}): set priority = "
                f"{_free_priority(route, set(holder) | _given_priorities(routes))} on this route "
                "(unused, next to it in the load balancer's order)"
            )
            given = NO_VALUE if route.priority is None else route.priority
            yield Problem((index, "priority"), message, given)
        else:
            holder[priority] = index


def _given_priorities(routes: list[RouteConfig]) -> set[int]:
    return {route.priority for route in routes if route.priority is not None}


def _free_priority(route: RouteConfig, taken: set[int]) -> int:
    """The first priority after the route's own that no route holds: next to it in the load
    balancer's order."""
    start = route.listener_priority
    candidates = [*range(start, MAX_LISTENER_PRIORITY + 1), *range(MIN_LISTENER_PRIORITY, start)]
    free: int = next(priority for priority in candidates if priority not in taken)
    return free


def sibling_parameters(routes: list[RouteConfig]) -> Iterator[Problem]:
    """API Gateway allows one parameter segment below a path (`/a/{id}` and `/a/{name}` cannot
    both exist): paths sharing the segments before a parameter must name it alike."""
    first: dict[tuple[str, ...], tuple[int, str]] = {}
    for index, route in enumerate(routes):
        parsed = segments(route.path)
        texts = [segment.text for segment in parsed]
        for position, segment in enumerate(parsed):
            if segment.parameter is None:
                continue
            parent = tuple(texts[:position])
            other_index, other = first.setdefault(parent, (index, segment.text))
            if other != segment.text:
                under = "/" + "/".join(parent)
                message = (
                    f"{segment.text} where routes[{other_index}] has {other} under {under}: API "
                    "Gateway allows one parameter segment per path; use the same name"
                )
                yield Problem((index, "path"), message, route.path)
                break
