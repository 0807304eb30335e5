import re

import pytest

from constructs_lib.releases import InvokeTarget
from constructs_lib.routes import Route

TARGET = InvokeTarget("t-fn", "arn:fn", "arn:invoke")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "ANY"])
def test_route_accepts_the_methods(method):
    assert Route(method, "/a", TARGET).name == f"{method} /a"


@pytest.mark.parametrize("method", ["get", "HEAD", "OPTIONS", "", "GET "])
def test_route_rejects_other_methods(method):
    with pytest.raises(ValueError, match="route method must be one of"):
        Route(method, "/a", TARGET)


def test_route_authorization_is_iam_unless_none_is_asked_for():
    assert Route("GET", "/a", TARGET).authorization == "AWS_IAM"
    assert Route("GET", "/a", TARGET, "NONE").authorization == "NONE"


def test_route_needs_an_authorization():
    # Which names exist is the API's to say (test_apigw: its authorizers).
    with pytest.raises(ValueError, match="route authorization must be NONE, AWS_IAM or an"):
        Route("GET", "/a", TARGET, "")


def test_route_rejects_an_invalid_path():
    with pytest.raises(ValueError, match="route path 'a'"):
        Route("GET", "a", TARGET)


SLUG = re.compile(r"[A-Za-z0-9-]+")
LONGEST = "/a" * 64  # 64 segments, 128 characters: the longest path


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/"),
        ("ANY", "/files/{proxy+}"),
        ("GET", "/v1.2/my_items"),
        ("DELETE", "/" + "a" * 127),
        ("PATCH", LONGEST),
    ],
)
def test_slug_is_a_short_statement_id_part(method, path):
    slug = Route(method, path, TARGET).slug
    assert SLUG.fullmatch(slug), slug
    assert len(slug) <= 85
    assert slug.startswith(method.lower())


@pytest.mark.parametrize(
    "a, b",
    [
        (("GET", "/a/{id}"), ("GET", "/a/id")),
        (("GET", "/a/b"), ("GET", "/a-b")),
        (("GET", "/a.b"), ("GET", "/a_b")),
        (("GET", "/a"), ("ANY", "/a")),
        (("GET", "/" + "a" * 90 + "/x"), ("GET", "/" + "a" * 90 + "/y")),  # same readable part
    ],
)
def test_slug_differs_for_different_routes(a, b):
    (method_a, path_a), (method_b, path_b) = a, b
    assert Route(method_a, path_a, TARGET).slug != Route(method_b, path_b, TARGET).slug


def test_slug_is_stable():
    assert Route("GET", "/a/{id}", TARGET).slug == Route("GET", "/a/{id}", TARGET).slug
