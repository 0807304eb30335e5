"""Route paths shared by the REST API, the load balancer and the configuration's checks:
`/`, `/items`, `/items/{id}`, `/files/{proxy+}`. One grammar, so every part agrees on what a
path means. Standard library only: the configuration checks import it without cdktf."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# The load balancer's limit for one path-pattern value.
MAX_PATH_LENGTH = 128
# A listener rule's priority: 1 (tested first) to 50,000 (ELB's range).
MIN_LISTENER_PRIORITY, MAX_LISTENER_PRIORITY = 1, 50_000
# Derived priorities fall in bands by specificity class (see `listener_priority`): paths deeper
# than this share the deepest band; "2" stands for "two or more segments from the first
# parameter to the end".
PRIORITY_DEPTHS = 8
_TRAILING_CLASSES = 3
_PRIORITY_CLASSES = 2 * (PRIORITY_DEPTHS + 1) * _TRAILING_CLASSES * 2
PRIORITY_BAND = (MAX_LISTENER_PRIORITY - MIN_LISTENER_PRIORITY + 1) // _PRIORITY_CLASSES
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
    if len(path) > MAX_PATH_LENGTH:
        return (
            f"must be at most {MAX_PATH_LENGTH} characters (the load balancer's path pattern limit)"
        )
    if not path.startswith("/"):
        return 'must start with "/" (e.g. "/hello" or "/items/{id}")'
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


def wildcard_path(path: str) -> str:
    """The path with every parameter as `*`: the load balancer's path pattern and the tail of
    API Gateway's execute-api source ARN."""
    parts = ["*" if segment.parameter else segment.text for segment in segments(path)]
    return "/" + "/".join(parts)


def listener_priority(method: str, path: str) -> int:
    """The load balancer rule priority of a route, from the route alone: adding, removing or
    reordering other routes never moves it (ELB refuses to give a rule a priority another rule
    still holds, so renumbering existing rules fails to apply).

    The band puts first the patterns a load balancer must test first (a `*` also matches `/`, so
    a shorter or greedy pattern would shadow a longer one): not greedy before greedy, deeper
    before shallower, fewer segments from the first parameter to the end, a method before ANY.
    Within a band a hash of the method and path picks the place, so two routes can collide:
    the configuration check refuses that, and `priority` in the route settles it."""
    parsed = segments(path)
    greedy = bool(parsed) and parsed[-1].greedy
    depth = min(len(parsed), PRIORITY_DEPTHS)
    literals = next((i for i, s in enumerate(parsed) if s.parameter), len(parsed))
    trailing = min(len(parsed) - literals, _TRAILING_CLASSES - 1)
    band = (greedy * (PRIORITY_DEPTHS + 1) + PRIORITY_DEPTHS - depth) * _TRAILING_CLASSES + trailing
    band = band * 2 + (method == "ANY")
    digest = int.from_bytes(hashlib.sha256(f"{method} {path}".encode()).digest()[:8], "big")
    return MIN_LISTENER_PRIORITY + band * PRIORITY_BAND + digest % PRIORITY_BAND


def rule_priority(method: str, path: str, given: int | None) -> int:
    """A route's listener priority: the one it was given, else `listener_priority`."""
    return given if given is not None else listener_priority(method, path)
