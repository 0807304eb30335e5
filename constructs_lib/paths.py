"""Route paths shared by the REST API, the load balancer and the configuration's checks:
`/`, `/items`, `/items/{id}`, `/files/{proxy+}`. One grammar, so every part agrees on what a
path means. Standard library only: the configuration checks import it without cdktf."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The load balancer's limit for one path-pattern value.
MAX_PATH_LENGTH = 128
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


def specificity(method: str, path: str) -> tuple[bool, int, tuple[int, ...], bool]:
    """Sort key putting the routes a load balancer must test first in front: a `*` in a path
    pattern also matches `/`, so greedy and shorter patterns would shadow longer ones."""
    parsed = segments(path)
    greedy = bool(parsed) and parsed[-1].greedy
    kinds = tuple(1 if segment.parameter else 0 for segment in parsed)
    return (greedy, -len(parsed), kinds, method == "ANY")
