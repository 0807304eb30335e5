"""`make call`: signed requests checked by a server that verifies Signature Version 4 itself.

The server's verifier is written here from the specification (hashlib and hmac, no botocore):
it rebuilds the canonical request from the request *as received*, as an AWS endpoint does
(path and query decoded, then URI-encoded again), so a client that signs one encoding and sends
another is refused. The verifier is first checked against AWS's published SigV4 test suite.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from scripts import call

ACCESS_KEY, SECRET_KEY = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION, SERVICE = "eu-west-1", "execute-api"
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<scope>[^,]+), "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)
UNRESERVED = "-_.~"


@dataclass(frozen=True)
class Received:
    """A request as a server receives it: the request target as sent, headers, body."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes = b""


def canonical_uri(path: str) -> str:
    """The path as received, dot segments and repeated slashes removed, URI-encoded (again, for
    every service but S3)."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            segments = segments[:-1]
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    return urllib.parse.quote("/" + "/".join(segments) + trailing, safe="/" + UNRESERVED)


def canonical_query(query: str) -> str:
    """Each name and value decoded (`+` is a plus sign, not a space) and encoded again."""
    pairs = []
    for pair in filter(None, query.split("&")):
        name, _, value = pair.partition("=")
        pairs.append(
            tuple(
                urllib.parse.quote(urllib.parse.unquote(part), safe=UNRESERVED)
                for part in (name, value)
            )
        )
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_headers(headers: list[tuple[str, str]], signed: list[str]) -> str:
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(" ".join(value.split()))
    return "".join(f"{name}:{','.join(values[name])}\n" for name in signed)


def expected_signature(request: Received, secret: str, scope: str, signed: list[str]) -> str:
    path, _, query = request.target.partition("?")
    canonical = "\n".join(
        [
            request.method,
            canonical_uri(path),
            canonical_query(query),
            canonical_headers(request.headers, signed),
            ";".join(signed),
            hashlib.sha256(request.body).hexdigest(),
        ]
    )
    amz_date = dict((n.lower(), v) for n, v in request.headers)["x-amz-date"]
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def verify(request: Received, region: str = REGION, service: str = SERVICE) -> bool:
    """Whether the request is signed by ACCESS_KEY for this endpoint's region and service."""
    headers = dict((name.lower(), value) for name, value in request.headers)
    match = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if match is None or match["key"] != ACCESS_KEY:
        return False
    scope = f"{headers['x-amz-date'][:8]}/{region}/{service}/aws4_request"
    signed = match["signed"].split(";")
    return match["scope"] == scope and match["signature"] == expected_signature(
        request, SECRET_KEY, scope, signed
    )


# AWS's published Signature Version 4 test suite (aws-sig-v4-test-suite, credentials
# AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service"): the request and its signature.
SUITE_REGION, SUITE_SERVICE = "us-east-1", "service"
SUITE_SCOPE = f"20150830/{SUITE_REGION}/{SUITE_SERVICE}/aws4_request"
SUITE = {
    "get-vanilla-query-order-key-case": (
        Received("GET", "/?Param2=value2&Param1=value1", []),
        "host;x-amz-date",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ),
    "get-vanilla-utf8-query": (
        Received("GET", "/?ሴ=bar", []),
        "host;x-amz-date",
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    ),
    "get-space": (
        Received("GET", "/example space/", []),
        "host;x-amz-date",
        "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
    ),
    "get-header-value-trim": (
        Received("GET", "/", [("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')]),
        "host;my-header1;my-header2;x-amz-date",
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    ),
    "post-x-www-form-urlencoded": (
        Received(
            "POST", "/", [("Content-Type", "application/x-www-form-urlencoded")], b"Param1=value1"
        ),
        "content-type;host;x-amz-date",
        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    ),
}


@pytest.mark.parametrize("name", SUITE)
def test_the_verifier_reproduces_aws_published_signatures(name):
    request, signed, signature = SUITE[name]
    headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        *request.headers,
    ]
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{SUITE_SCOPE}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    received = Received(
        request.method, request.target, [*headers, ("Authorization", authorization)], request.body
    )
    assert verify(received, SUITE_REGION, SUITE_SERVICE)
    # ... and refuses the same request with one byte of the body or the path changed.
    changed = Received(received.method, received.target + "x", received.headers, received.body)
    assert not verify(changed, SUITE_REGION, SUITE_SERVICE)


class Recorder(BaseHTTPRequestHandler):
    """Answers 200 with what it received when the signature verifies, else 403."""

    seen: ClassVar[list[Received]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = Received(
            self.command, self.path, list(self.headers.items()), self.rfile.read(length)
        )
        self.seen.append(received)
        valid = verify(received)
        body = b'{"message": "Hello"}' if valid else b'{"message": "Forbidden"}'
        self.send_response(200 if valid else 403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen = []
    httpd = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/dev"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def credentials(monkeypatch, tmp_path) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def run(server: str, *arguments: str, path: str = "/hello") -> int:
    return call.main(["--url", server + path, "--region", REGION, *arguments])


def decoded_query(received: Received) -> list[tuple[str, str]]:
    query = received.target.partition("?")[2]
    return [
        (urllib.parse.unquote(name), urllib.parse.unquote(value))
        for name, _, value in (pair.partition("=") for pair in query.split("&"))
    ]


def test_signed_get_with_a_space_in_the_value_is_accepted(server, credentials, capsys):
    assert run(server, "--name", "Ada Lovelace") == 0
    assert capsys.readouterr().out.splitlines()[0] == "HTTP 200"
    [request] = Recorder.seen
    assert request.target == "/dev/hello?name=Ada%20Lovelace"
    assert decoded_query(request) == [("name", "Ada Lovelace")]


def test_a_plus_for_a_space_is_refused_by_the_verifier():
    """What `make call` used to send: urlencode's `+`, signed as it is by botocore. An endpoint
    that decodes the query before canonicalizing it computes another signature: 403."""
    url = "http://127.0.0.1/dev/hello?name=Ada+Lovelace"
    request = AWSRequest(method="GET", url=url, headers={"Host": "127.0.0.1"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), SERVICE, REGION).add_auth(request)
    received = Received("GET", "/dev/hello?name=Ada+Lovelace", list(request.headers.items()))
    assert not verify(received)


@pytest.mark.parametrize(
    "value", ["50% off & more", "a+b=c", "ünïcödé / ~tilde", "?#[]", "", "  leading spaces"]
)
def test_every_query_value_reaches_the_server_as_written(server, credentials, value):
    assert run(server, "--query", f"note={value}", "--query", "two words=x") == 0
    [request] = Recorder.seen
    assert decoded_query(request) == [("note", value), ("two words", "x")]


def test_any_method_with_a_body_and_headers_is_signed_and_sent_as_given(server, credentials):
    body = '{"item": "green tea", "note": "50% off"}'
    arguments = [
        "--method",
        "post",
        "--data",
        body,
        "--header",
        "Content-Type: application/json",
        "--header",
        "X-Request-Note:  two   spaces",
    ]
    assert run(server, *arguments, path="/orders") == 0
    [request] = Recorder.seen
    assert (request.method, request.target, request.body) == ("POST", "/dev/orders", body.encode())
    headers = dict((name.lower(), value) for name, value in request.headers)
    assert headers["content-type"] == "application/json"
    assert headers["x-request-note"] == "two   spaces"
    authorization = AUTHORIZATION.fullmatch(headers["authorization"])
    assert authorization, headers["authorization"]
    signed = authorization["signed"].split(";")
    assert {"content-type", "host", "x-amz-date", "x-request-note"} <= set(signed)


def test_a_body_from_a_file_is_sent_byte_for_byte(server, credentials, tmp_path):
    payload = tmp_path / "payload.bin"
    payload.write_bytes(bytes(range(256)))
    assert run(server, "--method", "PUT", "--data-file", str(payload)) == 0
    [request] = Recorder.seen
    assert request.body == bytes(range(256))


def test_a_path_with_a_space_is_encoded_once_and_verifies(server, credentials, monkeypatch):
    monkeypatch.setattr(call, "read_invoke_url", lambda stack_dir: server)
    assert call.main(["--path", "/escape/a b", "--region", REGION]) == 0
    [request] = Recorder.seen
    assert request.target == "/dev/escape/a%20b"


def test_wrong_signing_region_is_refused_by_the_checker(server, credentials, capsys):
    """The checker can fail: a request signed for another region gets the 403."""
    assert call.main(["--url", server + "/hello", "--region", "us-east-1"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == "HTTP 403"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--header", "no colon"], "--header 'no colon': expected 'Name: value'"),
        (["--header", "bad name: x"], "--header 'bad name: x': expected 'Name: value'"),
        (["--query", "novalue"], "--query 'novalue': expected NAME=VALUE"),
        (["--method", "GE T"], "--method 'GE T': not an HTTP method"),
    ],
)
def test_a_malformed_option_is_one_line_and_exit_2(credentials, capsys, arguments, message):
    assert call.main(["--url", "http://127.0.0.1:9/dev/hello", *arguments]) == 2
    assert capsys.readouterr().err == f"call: {message}\n"


def test_region_comes_from_the_api_host_name():
    url = "https://abc123.execute-api.ap-southeast-4.amazonaws.com/prod/hello"
    assert call.region_of(url) == "ap-southeast-4"
    with pytest.raises(call.CallError, match="--region"):
        call.region_of("http://127.0.0.1:8080/dev/hello")


def test_url_is_read_from_terraform_outputs():
    outputs = {"api_invoke_url": {"sensitive": False, "type": "string", "value": "https://x"}}
    assert call.invoke_url_from_outputs(outputs) == "https://x"
    with pytest.raises(call.CallError, match="applied"):
        call.invoke_url_from_outputs({})


def test_no_stack_output_exits_2(tmp_path, capsys):
    assert call.main(["--stack-dir", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.startswith("call: ")


def test_without_a_path_or_a_url_is_one_line_and_exit_2(credentials, capsys):
    assert call.main(["--region", "us-east-1"]) == 2
    assert capsys.readouterr().err == "call: pass --path (a route's path, e.g. /orders) or --url\n"
