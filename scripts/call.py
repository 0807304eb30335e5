"""Call the deployed API with a SigV4-signed request and print the response.

    python -m scripts.call [--env dev] --path /orders [--name World]
                                    # stage URL from `terraform output -json`, plus the path
    python -m scripts.call --method POST --path /orders --header 'Content-Type: application/json'
                           --data '{"item": "tea"}' --query 'note=two words'
    python -m scripts.call --url https://ID.execute-api.REGION.amazonaws.com/dev/orders

With authorization = "AWS_IAM" (the default) API Gateway answers an unsigned request with 403.
This signs it for the service `execute-api` with the credentials botocore finds (environment,
profile, SSO, instance role); they need `execute-api:Invoke` on the API. The region comes from
the URL's host name, or --region. Query values are percent-encoded as Signature Version 4
wants them (a space is `%20`, never `+`), and the request sent is exactly the one signed: the
method, path, query, the given headers and the body. Exit status: 0 for a 2xx answer, 1
otherwise, 2 when there is nothing to call, no credentials, or a malformed option.
"""

from __future__ import annotations

import argparse
import http.client
import re
import ssl
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.session import Session

from scripts.terraform_outputs import OutputsError, read_outputs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SERVICE = "execute-api"
OUTPUT_NAME = "api_invoke_url"
TIMEOUT_S = 35  # API Gateway gives up after 29 s
EXIT_BAD_INPUT = 2
_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
# RFC 7230 token: what an HTTP method and a header name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# SigV4's URI encoding leaves only these unescaped (RFC 3986 unreserved characters).
_UNRESERVED = "-_.~"


class CallError(Exception):
    """Nothing to call: no URL, no region, no credentials, a malformed option. One line."""


@dataclass(frozen=True)
class Call:
    """One request: what is signed is what is sent."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", help="stack whose output to read (default dev)")
    parser.add_argument(
        "--stack-dir",
        type=Path,
        help="folder to run `terraform output` in (default cdktf.out/stacks/<env>)",
    )
    parser.add_argument(
        "--path",
        help="a route's path, after the stage URL, unencoded (needed unless --url)",
    )
    parser.add_argument(
        "--url", help="the full URL to call, percent-encoded; skips `terraform output`"
    )
    parser.add_argument("--region", help="signing region (default: from the URL)")
    parser.add_argument("--method", default="GET", help="HTTP method (default GET)")
    parser.add_argument("--name", help="sent as ?name=... (same as --query name=...)")
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a query parameter, added to the URL's (repeatable)",
    )
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header, signed and sent (repeatable)",
    )
    body = parser.add_mutually_exclusive_group()
    body.add_argument("--data", help="the request body, as UTF-8 text")
    body.add_argument("--data-file", type=Path, help="the request body, read from a file")
    return parser.parse_args(argv)


def invoke_url_from_outputs(outputs: dict[str, Any]) -> str:
    """The API stage's URL in the outputs `terraform output -json` prints."""
    if OUTPUT_NAME not in outputs:
        raise CallError(f"no {OUTPUT_NAME} output: has the stack been applied?")
    return str(outputs[OUTPUT_NAME]["value"])


def read_invoke_url(stack_dir: Path) -> str:
    return invoke_url_from_outputs(read_outputs(stack_dir))


def region_of(url: str) -> str:
    match = _REGION_IN_HOST.search(urllib.parse.urlsplit(url).hostname or "")
    if match is None:
        raise CallError(f"no region in {url}: pass --region")
    return match[1]


def with_query(url: str, parameters: list[tuple[str, str]]) -> str:
    """`url` with `parameters` added to its query, every name and value percent-encoded the
    way SigV4 canonicalizes them, so the query signed is the query sent."""
    if not parameters:
        return url
    parts = urllib.parse.urlsplit(url)
    given = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = urllib.parse.urlencode([*given, *parameters], quote_via=_sigv4_quote)
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _sigv4_quote(text: str | bytes, *_: object) -> str:
    """`urlencode`'s `quote_via`, which it calls with (text, safe, encoding, errors)."""
    return urllib.parse.quote(text, safe=_UNRESERVED)


def query_parameters(pairs: list[str], name: str | None) -> list[tuple[str, str]]:
    """--query NAME=VALUE options (VALUE as typed, spaces and all) and --name."""
    parameters = []
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise CallError(f"--query {pair!r}: expected NAME=VALUE")
        parameters.append((key, value))
    if name is not None:
        parameters.append(("name", name))
    return parameters


def request_headers(lines: list[str]) -> tuple[tuple[str, str], ...]:
    """--header 'NAME: VALUE' options."""
    headers = []
    for line in lines:
        name, separator, value = line.partition(":")
        if not separator or _TOKEN.fullmatch(name.strip()) is None or "\n" in value:
            raise CallError(f"--header {line!r}: expected 'Name: value'")
        headers.append((name.strip(), value.strip()))
    return tuple(headers)


def method_of(text: str) -> str:
    method = text.upper()
    if _TOKEN.fullmatch(method) is None:
        raise CallError(f"--method {text!r}: not an HTTP method")
    return method


def signed_headers(call: Call, region: str, credentials: Credentials) -> dict[str, str]:
    """The call's headers plus the Signature Version 4 ones (`X-Amz-Date`, `Authorization`,
    `X-Amz-Security-Token` with temporary credentials) for execute-api. Host is signed too."""
    host = urllib.parse.urlsplit(call.url).netloc
    request = AWSRequest(
        method=call.method,
        url=call.url,
        headers={"Host": host, **dict(call.headers)},
        data=call.body,
    )
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return dict(request.headers.items())


def send(call: Call, headers: dict[str, str]) -> tuple[int, str]:
    """Send the call with exactly these headers (http.client adds only Content-Length and
    Accept-Encoding, neither of them signed)."""
    parts = urllib.parse.urlsplit(call.url)
    connection = (
        http.client.HTTPSConnection(
            parts.netloc, timeout=TIMEOUT_S, context=ssl.create_default_context()
        )
        if parts.scheme == "https"
        else http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT_S)
    )
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    try:
        connection.request(call.method, target, body=call.body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def build_call(args: argparse.Namespace) -> Call:
    if args.url is not None:
        url = args.url
    else:
        if args.path is None:
            raise CallError("pass --path (a route's path, e.g. /orders) or --url")
        stack_dir = args.stack_dir or PROJECT_ROOT / "cdktf.out" / "stacks" / args.env
        # --path is the path as a route sees it (`/escape/a b`): encoded here, once.
        url = read_invoke_url(stack_dir) + urllib.parse.quote(args.path, safe="/" + _UNRESERVED)
    body = args.data.encode() if args.data is not None else b""
    if args.data_file is not None:
        try:
            body = args.data_file.read_bytes()
        except OSError as error:
            raise CallError(f"--data-file {args.data_file}: {error.strerror}") from None
    return Call(
        method=method_of(args.method),
        url=with_query(url, query_parameters(args.query, args.name)),
        headers=request_headers(args.header),
        body=body,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        call = build_call(args)
        region = args.region or region_of(call.url)
        credentials = Session().get_credentials()
        if credentials is None:
            raise CallError("no AWS credentials found (environment, profile or role)")
    except (CallError, OutputsError) as error:
        print(f"call: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    headers = signed_headers(call, region, credentials.get_frozen_credentials())
    status, body = send(call, headers)
    print(f"HTTP {status}")
    print(body)
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
