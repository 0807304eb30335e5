import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.paths import (
    Segment,
    listener_priority,
    path_problem,
    paths_regex,
    segments,
    wildcard_path,
)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/a",
        "/a/{id}",
        "/a/{id}/b",
        "/files/{proxy+}",
        "/v1.2/my_items-x",
        "/" + "a" * 127,  # exactly the limit: 128 characters
    ],
)
def test_path_problem_accepts(path):
    assert path_problem(path) is None


@pytest.mark.parametrize(
    "path, problem",
    [
        ("", 'must start with "/"'),
        ("a", 'must start with "/"'),
        ("/a/", 'must not end with "/"'),
        ("//", 'must not end with "/"'),
        ("/a//b", "empty segment"),
        ("/a b", "segment 'a b' must be"),
        ("/{proxy+}/x", "{proxy+} takes the rest of the path: only as the last segment"),
        ("/{1x}", "segment '{1x}' must be"),
        ("/{}", "segment '{}' must be"),
        ("/a{id}", "segment 'a{id}' must be"),
        ("/a/{id}/b/{id}", "parameter id appears twice"),
        ("/" + "a" * 128, "at most 128 characters"),  # 129 characters
    ],
)
def test_path_problem_rejects(path, problem):
    assert problem in (path_problem(path) or "accepted")


@pytest.mark.parametrize(
    "path, parsed",
    [
        ("/", []),
        ("/items", [Segment("items")]),
        ("/items/{id}", [Segment("items"), Segment("{id}", "id")]),
        ("/files/{proxy+}", [Segment("files"), Segment("{proxy+}", "proxy", greedy=True)]),
    ],
)
def test_segments(path, parsed):
    assert segments(path) == parsed


def test_segments_refuse_an_invalid_path():
    with pytest.raises(ValueError, match=r"route path '/a/': must not end with"):
        segments("/a/")


@pytest.mark.parametrize(
    "path, pattern",
    [
        ("/", "/"),
        ("/a", "/a"),
        ("/a/{id}", "/a/*"),
        ("/a/{id}/b", "/a/*/b"),
        ("/{x}/{y}", "/*/*"),
        ("/files/{proxy+}", "/files/*"),
    ],
)
def test_wildcard_path(path, pattern):
    assert wildcard_path(path) == pattern


# The order a load balancer must test the routes in: a `*` also matches `/`, so deeper paths
# first, literal before parameter segment at the same depth, greedy paths last (the deeper
# greedy first), a specific method before ANY on the same path.
ORDERED = [
    ("POST", "/items/{id}/tags"),
    ("GET", "/items/special"),
    ("GET", "/items/{id}"),
    ("ANY", "/items/{id}"),
    ("GET", "/{tenant}/items"),
    ("GET", "/items"),
    ("GET", "/"),
    ("GET", "/files/a/{proxy+}"),
    ("GET", "/files/{proxy+}"),
    ("ANY", "/files/{proxy+}"),
]


def test_priorities_order_routes_for_the_load_balancer():
    shuffled = ORDERED[3:] + ORDERED[:3][::-1]
    assert sorted(shuffled, key=lambda pair: listener_priority(*pair)) == ORDERED


@pytest.mark.parametrize(
    "first, second",
    [
        (("GET", "/a/b"), ("GET", "/a")),  # deeper first
        (("GET", "/a/b"), ("GET", "/a/{id}")),  # literal before parameter
        (("GET", "/a/{id}"), ("GET", "/{x}/b")),  # leftmost literal wins
        (("GET", "/a/{x}/b"), ("GET", "/a/{x}/{y}")),  # ... at every position
        (("GET", "/a/{x}/{y}"), ("GET", "/{x}/b/c")),
        (("GET", "/a/b/c/{x}"), ("GET", "/a/b/{x}/d")),  # deeper than the exact bands
        (("GET", "/a"), ("GET", "/a/{proxy+}")),  # greedy last, even when deeper
        (("GET", "/a/b/{proxy+}"), ("GET", "/a/{proxy+}")),  # deeper greedy first
        (("DELETE", "/a"), ("ANY", "/a")),  # a method before ANY
        (("ANY", "/a/b"), ("GET", "/a")),  # depth before method
    ],
)
def test_priority_pairs(first, second):
    assert listener_priority(*first) < listener_priority(*second)


def test_a_priority_depends_on_its_route_alone():
    # Computed in a fresh interpreter: no state of this one (hash seeds, caches) takes part.
    code = "from constructs_lib.paths import listener_priority as p; print(p('GET', '/a/{id}'))"
    fresh = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert int(fresh.stdout) == listener_priority("GET", "/a/{id}")


DEEP = "/a" * 50  # deeper than the deepest band


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/"),
        ("ANY", "/{proxy+}"),
        ("ANY", DEEP + "/{proxy+}"),
        ("GET", DEEP),
        ("ANY", "/{a}"),
    ],
)
def test_priorities_stay_in_the_load_balancers_range(method, path):
    # ELB's range for a listener rule's priority.
    assert 1 <= listener_priority(method, path) <= 50_000


@pytest.mark.parametrize(
    ("paths", "prefix", "matched", "not_matched"),
    [
        (["/escape"], None, ["/escape"], ["/escape/x", "/escapes", "/dev/escape", "/x/escape"]),
        (
            ["/escape", "/escape/{name}"],
            "dev",
            ["/escape", "/dev/escape", "/escape/<b>Ada<", "/dev/escape/%3Cb%3EAda%3C%2Fb%3E"],
            # {name} is one segment: a name holding "/" travels as %2F.
            ["/escape/<b>Ada</b>", "/prod/escape", "/dev", "/devescape", "/escape/"],
        ),
        (["/files/{rest+}"], None, ["/files/a", "/files/a/b/c"], ["/files", "/files/"]),
        # A literal dot is a dot, not any character.
        (["/v1.2/x"], None, ["/v1.2/x"], ["/v1x2/x"]),
        (["/"], "dev", ["/", "/dev/"], ["/dev", "/x"]),
    ],
)
def test_paths_regex_matches_exactly_the_requests_of_the_routes(
    paths, prefix, matched, not_matched
):
    regex = re.compile(paths_regex(paths, prefix))
    assert [path for path in matched if not regex.fullmatch(path)] == []
    assert [path for path in not_matched if regex.fullmatch(path)] == []


def test_paths_regex_has_no_capturing_group():
    """WAF's regular expressions refuse capturing subexpressions."""
    regex = paths_regex(["/a/{id}", "/b/{rest+}"], "dev")
    assert regex == "^(?:/dev)?(?:/a/[^/]+|/b/.+)$"
    assert re.compile(regex).groups == 0
