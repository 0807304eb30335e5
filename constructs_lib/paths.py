"""Route paths shared by the REST API, the load balancer and the configuration's checks:
`/`, `/items`, `/items/{id}`, `/files/{proxy+}`. One grammar, so every part agrees on what a
path means. Standard library only: the configuration checks import it without cdktf."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# The load balancer's limit for one path-pattern value.
MAX_PATH_LENGTH = 128
LITERAL_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
PARAMETER_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}")
# A listener rule's priority: 1 (tested first) to 50,000 (ELB's range).
MIN_LISTENER_PRIORITY, MAX_LISTENER_PRIORITY = 1, 50_000
# Derived priorities fall in bands by the shape of the path (see `listener_priority`). Up to
# EXACT_DEPTH segments every shape has its own band; deeper paths are told apart by how many
# segments follow their first parameter (0, 1, 2, 3 or more), and paths deeper than
# PRIORITY_DEPTHS share the deepest bands.
PRIORITY_DEPTHS = 8
EXACT_DEPTH = 3
_COARSE_SHAPES = 4


def _shapes_at(depth: int) -> int:
    return 2**depth if depth <= EXACT_DEPTH else _COARSE_SHAPES


_SHAPES = sum(_shapes_at(depth) for depth in range(PRIORITY_DEPTHS + 1))
# Per shape: without and with a greedy last parameter, a method and ANY.
PRIORITY_BAND = (MAX_LISTENER_PRIORITY - MIN_LISTENER_PRIORITY + 1) // (_SHAPES * 2 * 2)


@dataclass(frozen=True)
class Segment:
    text: str
    # The parameter's name for `{name}` and `{name+}`; None for a literal segment.
    parameter: str | None = None
    # `{name+}`: the rest of the path, one or more segments (last segment only).
    greedy: bool = False


def path_problem(path: str) -> str | None:
    """Why `path` is not a route path, or None."""
    if len(path) > MAX_PATH_LENGTH:
        return (
            f"must be at most {MAX_PATH_LENGTH} characters (the load balancer's path pattern limit)"
        )
    if not path.startswith("/"):
        return 'must start with "/" (e.g. "/items" or "/items/{id}")'
    if path == "/":
        return None
    if path.endswith("/"):
        return 'must not end with "/"'
    texts = path[1:].split("/")
    names: list[str] = []
    for position, text in enumerate(texts, start=1):
        if not text:
            return 'must not contain an empty segment ("//")'
        parameter = PARAMETER_SEGMENT.fullmatch(text)
        if parameter is None:
            if LITERAL_SEGMENT.fullmatch(text) is None:
                return (
                    f"segment {text!r} must be letters, digits, '.', '_' or '-', or a "
                    "parameter {name} or {name+} (name: a letter or _, then letters, digits or _)"
                )
            continue
        if parameter[2] and position != len(texts):
            return f"{text} takes the rest of the path: only as the last segment"
        # API Gateway refuses a path that names one parameter twice.
        if parameter[1] in names:
            return f"parameter {parameter[1]} appears twice"
        names.append(parameter[1])
    return None


def segments(path: str) -> list[Segment]:
    """The segments of a valid path (`/` has none)."""
    problem = path_problem(path)
    if problem is not None:
        raise ValueError(f"route path {path!r}: {problem}")
    parsed = []
    for text in path[1:].split("/") if path != "/" else []:
        match = PARAMETER_SEGMENT.fullmatch(text)
        if match is None:
            parsed.append(Segment(text))
        else:
            parsed.append(Segment(text, match.group(1), bool(match.group(2))))
    return parsed


# Application Load Balancer quotas, "Wildcards per rule" (elasticloadbalancing/latest/
# application/load-balancer-limits.html, not adjustable): each path parameter is one `*` of
# the rule's path pattern.
MAX_WILDCARDS_PER_RULE = 5
# API Gateway REST API quotas, "Resources per API" (apigateway/latest/developerguide/
# api-gateway-execution-service-limits-table.html, default, adjustable per API): one
# resource per distinct path below `/`.
MAX_API_RESOURCES = 300
# Leaves room for a prefix in a 100-character statement id.
MAX_SLUG_READABLE = 60


def wildcard_count(path: str) -> int:
    """The `*` of the path's load balancer pattern: one per parameter."""
    return sum(segment.parameter is not None for segment in segments(path))


def resource_paths(paths: list[str]) -> list[str]:
    """The API Gateway resources the paths need, in order of first use: each distinct path
    below `/` and every path above it (`/a/{id}` needs `/a` and `/a/{id}`)."""
    resources: dict[str, None] = {}
    for path in paths:
        parts = path.strip("/").split("/") if path != "/" else []
        for end in range(1, len(parts) + 1):
            resources.setdefault("/" + "/".join(parts[:end]))
    return list(resources)


def slug(text: str) -> str:
    """`text` as letters, digits and `-`, plus a hash of all of it: distinct for `/a-b` and
    `/a/b`, which read the same once `/` is replaced (construct ids cannot hold `/`)."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", text.lower()).strip("-")
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{readable[:MAX_SLUG_READABLE]}-{digest}"


# What the listener answers (404, JSON) to a request no route's rule matches: the stack's default
# action, and `make serve`'s load balancer.
LISTENER_NOT_FOUND_BODY = '{"message":"Not Found"}'


def wildcard_path(path: str) -> str:
    """The path with every parameter as `*`: the load balancer's path pattern and the tail of
    API Gateway's execute-api source ARN."""
    parts = ["*" if segment.parameter else segment.text for segment in segments(path)]
    return "/" + "/".join(parts)


def paths_regex(paths: list[str], optional_prefix: str | None = None) -> str:
    """A regular expression matching exactly the request paths these route paths take, as WAF
    reads it (PCRE without capturing groups): literal segments as written, `{name}` one
    segment, `{name+}` the rest of the path. `optional_prefix` (a segment, e.g. a stage name:
    execute-api URLs carry it, a custom domain does not) may come first."""
    alternatives = []
    for path in paths:
        parts = [
            (".+" if segment.greedy else "[^/]+") if segment.parameter else re.escape(segment.text)
            for segment in segments(path)
        ]
        alternatives.append("/" + "/".join(parts))
    prefix = f"(?:/{re.escape(optional_prefix)})?" if optional_prefix else ""
    return f"^{prefix}(?:{'|'.join(alternatives)})$"


def listener_priority(method: str, path: str) -> int:
    """The load balancer rule priority of a route, from the route alone: adding, removing or
    reordering other routes never moves it (ELB refuses to give a rule a priority another rule
    still holds, so renumbering existing rules fails to apply).

    The band puts first the patterns a load balancer must test first (a `*` also matches `/`, so
    a shorter or greedy pattern would shadow a longer one): not greedy before greedy, deeper
    before shallower, then the leftmost literal segment first (`/a/{x}/b` before `/a/{x}/{y}`
    before `/{x}/b/c`), a method before ANY. Within a band a hash of the method and path picks
    the place, so two routes can collide: the configuration check refuses that and suggests a
    free `priority` for the route."""
    return _priority_band(method, path).start + _hash(f"{method} {path}") % PRIORITY_BAND


def _priority_band(method: str, path: str) -> range:
    """The priorities a route's derived one is taken from."""
    parsed = segments(path)
    greedy = bool(parsed) and parsed[-1].greedy
    shape = _shape_rank([segment.parameter is not None for segment in parsed])
    band = ((greedy * _SHAPES) + shape) * 2 + (method == "ANY")
    start = MIN_LISTENER_PRIORITY + band * PRIORITY_BAND
    return range(start, start + PRIORITY_BAND)


def _shape_rank(parameters: list[bool]) -> int:
    """Deeper shapes first; among shapes of one depth, the leftmost literal first."""
    depth = min(len(parameters), PRIORITY_DEPTHS)
    deeper = sum(_shapes_at(other) for other in range(depth + 1, PRIORITY_DEPTHS + 1))
    if depth <= EXACT_DEPTH:
        # Parameters as the bits of a number, the first segment the highest bit.
        return deeper + sum(bit << (depth - 1 - i) for i, bit in enumerate(parameters))
    literals = parameters.index(True) if True in parameters else len(parameters)
    return deeper + min(len(parameters) - literals, _COARSE_SHAPES - 1)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def rule_priority(method: str, path: str, given: int | None) -> int:
    """A route's listener priority: the one it was given, else `listener_priority`."""
    return given if given is not None else listener_priority(method, path)
