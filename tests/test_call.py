"""`make call`: the signed request against a local server that checks the signature."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from scripts import call

ACCESS_KEY, SECRET_KEY = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AUTHORIZATION = re.compile(
    rf"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/(\d{{8}})/eu-west-1/execute-api/aws4_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})"
)


def expected_signature(url: str, amz_date: str) -> str:
    """Sign the same request again at the same instant: equal only if the call signed right."""
    request = AWSRequest(method="GET", url=url, headers={"X-Amz-Date": amz_date})
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "execute-api", "eu-west-1")
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request)


class Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append({"path": self.path, **dict(self.headers.items())})
        match = AUTHORIZATION.fullmatch(self.headers.get("Authorization", ""))
        host = self.headers["Host"]
        url = f"http://{host}{self.path}"
        valid = match is not None and match[3] == expected_signature(
            url, self.headers["X-Amz-Date"]
        )
        body = b'{"message": "Hello, World!"}' if valid else b'{"message": "Forbidden"}'
        self.send_response(200 if valid else 403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen = []
    httpd = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/dev/hello"
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


def test_signed_get_is_accepted(server, credentials, capsys):
    assert call.main(["--url", server, "--region", "eu-west-1", "--name", "World"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "HTTP 200"
    assert "Hello, World!" in out
    [request] = Recorder.seen
    assert request["path"] == "/dev/hello?name=World"
    match = AUTHORIZATION.fullmatch(request["Authorization"])
    assert match and set(match[2].split(";")) >= {"host", "x-amz-date"}


def test_wrong_signing_region_is_refused_by_the_checker(server, credentials, capsys):
    """The checker can fail: a request signed for another region gets the 403."""
    assert call.main(["--url", server, "--region", "us-east-1"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == "HTTP 403"


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
