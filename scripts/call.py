"""Call the deployed API with a SigV4-signed GET and print the response.

    python -m scripts.call [--env dev] [--path /hello] [--name World]
                                    # stage URL from `terraform output -json`, plus the path
    python -m scripts.call --url https://ID.execute-api.REGION.amazonaws.com/dev/hello

With authorization = "AWS_IAM" (the default) API Gateway answers an unsigned request with 403.
This signs it for the service `execute-api` with the credentials botocore finds (environment,
profile, SSO, instance role); they need `execute-api:Invoke` on the API. The region comes from
the URL's host name, or --region. Exit status: 0 for a 2xx answer, 1 otherwise, 2 when there
is nothing to call or no credentials.
"""

from __future__ import annotations

import argparse
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
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
# The shipped configurations' route.
DEFAULT_PATH = "/hello"
TIMEOUT_S = 35  # API Gateway gives up after 29 s
EXIT_BAD_INPUT = 2
_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


class CallError(Exception):
    """Nothing to call: no URL, no region, no credentials. One line for stderr."""


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
        default=DEFAULT_PATH,
        help=f"a GET route's path, after the stage URL (default {DEFAULT_PATH})",
    )
    parser.add_argument("--url", help="the full URL to call; skips `terraform output`")
    parser.add_argument("--region", help="signing region (default: from the URL)")
    parser.add_argument("--name", help="sent as ?name=...")
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


def signed_headers(url: str, region: str, credentials: Credentials) -> dict[str, str]:
    """The headers of a GET of `url` signed with Signature Version 4 for execute-api."""
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return dict(request.headers.items())


def with_query(url: str, name: str | None) -> str:
    if name is None:
        return url
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parts.query), ("name", name)])
    return urllib.parse.urlunsplit(parts._replace(query=query))


def call(url: str, region: str, credentials: Credentials) -> tuple[int, str]:
    request = urllib.request.Request(
        url, headers=signed_headers(url, region, credentials), method="GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        stack_dir = args.stack_dir or PROJECT_ROOT / "cdktf.out" / "stacks" / args.env
        url = with_query(args.url or read_invoke_url(stack_dir) + args.path, args.name)
        region = args.region or region_of(url)
        credentials = Session().get_credentials()
        if credentials is None:
            raise CallError("no AWS credentials found (environment, profile or role)")
    except (CallError, OutputsError) as error:
        print(f"call: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    status, body = call(url, region, credentials.get_frozen_credentials())
    print(f"HTTP {status}")
    print(body)
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
