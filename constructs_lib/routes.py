"""Routes (method + path -> a function or its alias) for the REST API and the load balancer;
the path grammar itself is `constructs_lib.paths`."""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.authorizers import AWS_IAM
from constructs_lib.paths import (
    MAX_LISTENER_PRIORITY,
    MIN_LISTENER_PRIORITY,
    rule_priority,
    segments,
    slug,
)
from constructs_lib.releases import InvokeTarget

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "ANY")


@dataclass(frozen=True)
class Route:
    """A method and path served by a function (or its alias)."""

    method: str
    path: str
    target: InvokeTarget
    # "NONE" is public: allowed, but only when the caller says so. "AWS_IAM", or the name of
    # one of the API's authorizers (the API checks that it has it). API Gateway only; the load
    # balancer has no authorization.
    authorization: str = AWS_IAM
    # The load balancer rule's priority; None derives it from the method and path.
    priority: int | None = None
    # OAuth scopes the caller's token must carry one of (a user pool or JWT authorizer).
    scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in HTTP_METHODS:
            raise ValueError(f"route method must be one of {HTTP_METHODS}, got {self.method!r}")
        if not self.authorization:
            raise ValueError("route authorization must be NONE, AWS_IAM or an authorizer's name")
        segments(self.path)
        if self.priority is not None and not (
            MIN_LISTENER_PRIORITY <= self.priority <= MAX_LISTENER_PRIORITY
        ):
            raise ValueError(
                f"route priority must be {MIN_LISTENER_PRIORITY}-{MAX_LISTENER_PRIORITY}, "
                f"got {self.priority}"
            )

    @property
    def listener_priority(self) -> int:
        """Its rule's priority on a load balancer: `priority`, else derived from the route."""
        return rule_priority(self.method, self.path, self.priority)

    @property
    def name(self) -> str:
        """`GET /items/{id}`: unique per API."""
        return f"{self.method} {self.path}"

    @property
    def slug(self) -> str:
        """`get-items-id-1f0c3a9e`: letters, digits and `-` only (what Lambda allows in a
        permission's statement id), with a hash so `/a/{id}` and `/a/id` stay apart."""
        return slug(self.name)
