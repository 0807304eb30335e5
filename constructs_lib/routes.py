"""Route paths shared by the REST API and the load balancer: `/`, `/items`, `/items/{id}`,
`/files/{proxy+}`. One parser, so both front doors agree on what a path means."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from constructs_lib.releases import InvokeTarget

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "ANY")
AUTHORIZATIONS = ("NONE", "AWS_IAM")
# The load balancer's limit for one path-pattern value.
MAX_PATH_LENGTH = 128
# Leaves room for a prefix in a 100-character statement id.
MAX_SLUG_READABLE = 60
LITERAL_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
PARAMETER_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}")


@dataclass(frozen=True)
class Segment:
    text: str
    # The parameter's name for `{name}` and `{name+}`; None for a literal segment.
    parameter: str | None = None
    # `{name+}`: the rest of the path, one or more segments (last segment only).
    greedy: bool = False


def path_problem(path: str) -> str | None:
    """Why `path` is not a route path, or None."""
    if path == "/":
        return None
    if len(path) > MAX_PATH_LENGTH:
        return f"at most {MAX_PATH_LENGTH} characters (the load balancer's path-pattern limit)"
    if not path.startswith("/") or path.endswith("/"):
        return "starts with `/` and does not end with one (or is just `/`)"
    texts = path[1:].split("/")
    for index, text in enumerate(texts):
        match = PARAMETER_SEGMENT.fullmatch(text)
        if match is None and not LITERAL_SEGMENT.fullmatch(text):
            return (
                f"segment {text!r}: letters, digits, `.`, `_`, `-`, or a parameter "
                "`{name}` / `{name+}`"
            )
        if match is not None and match.group(2) and index != len(texts) - 1:
            return f"segment {text!r}: a greedy parameter must be the last segment"
    return None


def segments(path: str) -> list[Segment]:
    """The segments of a valid path (`/` has none)."""
    problem = path_problem(path)
    if problem is not None:
        raise ValueError(f"route path {path!r}: {problem}")
    parsed = []
    for text in path.strip("/").split("/") if path != "/" else []:
        match = PARAMETER_SEGMENT.fullmatch(text)
        if match is None:
            parsed.append(Segment(text))
        else:
            parsed.append(Segment(text, match.group(1), bool(match.group(2))))
    return parsed


def wildcard_path(path: str) -> str:
    """The path with every parameter as `*`: the load balancer's path pattern and the tail of
    API Gateway's execute-api source ARN."""
    parts = ["*" if segment.parameter else segment.text for segment in segments(path)]
    return "/" + "/".join(parts)


def specificity(method: str, path: str) -> tuple[bool, int, tuple[int, ...], bool]:
    """Sort key putting the routes a load balancer must test first in front: a `*` in a path
    pattern also matches `/`, so greedy and shorter patterns would shadow longer ones."""
    parsed = segments(path)
    greedy = bool(parsed) and parsed[-1].greedy
    kinds = tuple(1 if segment.parameter else 0 for segment in parsed)
    return (greedy, -len(parsed), kinds, method == "ANY")


@dataclass(frozen=True)
class Route:
    """A method and path served by a function (or its alias)."""

    method: str
    path: str
    target: InvokeTarget
    # "NONE" is public: allowed, but only when the caller says so. API Gateway only; the load
    # balancer has no IAM authorization.
    authorization: str = "AWS_IAM"

    def __post_init__(self) -> None:
        if self.method not in HTTP_METHODS:
            raise ValueError(f"route method must be one of {HTTP_METHODS}, got {self.method!r}")
        if self.authorization not in AUTHORIZATIONS:
            raise ValueError(
                f"route authorization must be one of {AUTHORIZATIONS}, got {self.authorization!r}"
            )
        segments(self.path)

    @property
    def name(self) -> str:
        """`GET /items/{id}`: unique per API."""
        return f"{self.method} {self.path}"

    @property
    def slug(self) -> str:
        """`get-items-id-1f0c3a9e`: letters, digits and `-` only (what Lambda allows in a
        permission's statement id), with a hash so `/a/{id}` and `/a/id` stay apart."""
        return slug(self.name)


def slug(text: str) -> str:
    """`text` as letters, digits and `-`, plus a hash of all of it: distinct for `/a-b` and
    `/a/b`, which read the same once `/` is replaced (construct ids cannot hold `/`)."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", text.lower()).strip("-")
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{readable[:MAX_SLUG_READABLE]}-{digest}"
