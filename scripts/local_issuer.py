"""The local token issuer of `make serve`, and the command that prints a test token.

    .venv/bin/python -m scripts.local_issuer --claims '{"sub": "alice", "scope": "orders/write"}'

Routes whose authorizer checks JWTs (a `jwt` or `cognito` authorizer) accept, locally, the
tokens of one issuer only: this one, at `http://127.0.0.1:<issuer port>` (default 8083), in
place of the issuer the file configures, which a machine without the identity provider's keys
could not stand in for. Its RSA signing key is made once and kept in
`.cache/local-issuer/signing-key.json` (readable by its owner only), so a token printed by this
command, or before a restart, stays valid until its `exp`; delete the file for a new key. While
`make serve` runs, the issuer publishes its OpenID discovery document and its key set
(`/.well-known/openid-configuration`, `/.well-known/jwks.json`) as an identity provider does.

The token gets `iss` (this issuer), `iat`, `exp` (`--expires-in`, default an hour) and Cognito's
`token_use` (`access` when the claims have a `scope`, else `id`) unless the claims give them,
and `aud` when they give neither `aud` nor `client_id` (`--audience`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KEY_FILE = PROJECT_ROOT / ".cache" / "local-issuer" / "signing-key.json"
HOST = "127.0.0.1"
DEFAULT_PORT = 8083
ALGORITHM = "RS256"
RSA_KEY_BITS = 2048
DEFAULT_LIFETIME_S = 3600
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"

Clock = Callable[[], float]


class TokenRejected(Exception):
    """A token the authorizer refuses: `description` is what API Gateway puts in the answer's
    `www-authenticate` header."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def issuer_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def signing_key(path: Path = DEFAULT_KEY_FILE) -> RSAKey:
    """The issuer's private key, made on first use; several processes starting at once all end
    up with the one that was written first."""
    if not path.is_file():
        key = RSAKey.generate_key(
            RSA_KEY_BITS, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as scratch:
            os.chmod(scratch.name, 0o600)
            json.dump(key.as_dict(private=True), scratch)
        try:
            os.link(scratch.name, path)  # fails when another process was first
        except FileExistsError:
            pass
        finally:
            os.unlink(scratch.name)
    return RSAKey.import_key(json.loads(path.read_text()))


@dataclass(frozen=True)
class LocalIssuer:
    key: RSAKey
    url: str

    def key_set(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": self.url + JWKS_PATH,
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
        }

    def token(
        self,
        claims: Mapping[str, Any],
        *,
        audience: str | None,
        now: float,
        lifetime_s: int = DEFAULT_LIFETIME_S,
    ) -> str:
        """A signed token: the given claims over the defaults."""
        defaults: dict[str, Any] = {
            "iss": self.url,
            "iat": int(now),
            "exp": int(now) + lifetime_s,
            "jti": str(uuid.uuid4()),
            # Cognito's access tokens carry the scopes; its ID tokens none.
            "token_use": "access" if "scope" in claims else "id",
        }
        if audience is not None and "aud" not in claims and "client_id" not in claims:
            defaults["aud"] = audience
        header = {"alg": ALGORITHM, "kid": self.key.kid, "typ": "JWT"}
        return jwt.encode(header, {**defaults, **claims}, self.key)

    def verify(self, token: str, audiences: Sequence[str] | None, now: float) -> dict[str, Any]:
        """The token's claims, once its signature, issuer, audience (unless None: any) and
        times pass as an API Gateway JWT authorizer checks them; TokenRejected otherwise."""
        try:
            claims = jwt.decode(token, KeySet([self.key]), algorithms=[ALGORITHM]).claims
        except (JoseError, ValueError) as error:
            raise TokenRejected(f"the token is not a valid JWT signed by {self.url}") from error
        if claims.get("iss") != self.url:
            raise TokenRejected("the token does not have a valid issuer")
        if audiences is not None and not _audience_matches(claims, audiences):
            raise TokenRejected("the token does not have a valid audience")
        _check_times(claims, now)
        return claims


def _audience_matches(claims: Mapping[str, Any], audiences: Sequence[str]) -> bool:
    """`aud` (a string or a list) against the audiences; `client_id` only without `aud`."""
    if "aud" in claims:
        given = claims["aud"]
        values = given if isinstance(given, list) else [given]
    else:
        values = [claims.get("client_id")]
    return any(value in audiences for value in values if isinstance(value, str))


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise TokenRejected("the token has no valid exp")
    if now >= expires:
        raise TokenRejected("the token has expired")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and now < value:
            raise TokenRejected(f"the token's {name} is in the future")


def token_scopes(claims: Mapping[str, Any]) -> list[str]:
    """The token's scopes: `scope` (space-separated, OAuth's and Cognito's access tokens) or
    `scp` (a list, or space-separated)."""
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [scope for scope in value if isinstance(scope, str)]
    return []


class IssuerServer(ThreadingHTTPServer):
    """Serves the discovery document and the key set."""

    daemon_threads = True

    def __init__(self, port: int, key: RSAKey) -> None:
        super().__init__((HOST, port), _IssuerRequestHandler)
        self.issuer = LocalIssuer(key, issuer_url(self.server_address[1]))


class _IssuerRequestHandler(BaseHTTPRequestHandler):
    server: IssuerServer

    def do_GET(self) -> None:
        documents = {
            DISCOVERY_PATH: self.server.issuer.discovery,
            JWKS_PATH: self.server.issuer.key_set,
        }
        document = documents.get(self.path)
        status = HTTPStatus.OK if document is not None else HTTPStatus.NOT_FOUND
        body = json.dumps(document() if document else {"message": "Not Found"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the functions' logs are what the terminal is for."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Print a token of make serve's local issuer.")
    parser.add_argument("--claims", default="{}", help="the token's claims, a JSON object")
    parser.add_argument(
        "--issuer-port",
        type=int,
        default=DEFAULT_PORT,
        help="the port make serve runs its issuer on (SERVE_ISSUER_PORT)",
    )
    parser.add_argument("--audience", help="aud, unless the claims give aud or client_id")
    parser.add_argument(
        "--expires-in", type=int, default=DEFAULT_LIFETIME_S, help="seconds until exp"
    )
    parser.add_argument("--key-file", type=Path, default=DEFAULT_KEY_FILE, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, clock: Clock = time.time) -> int:
    args = parse_args(argv)
    try:
        claims = json.loads(args.claims)
    except json.JSONDecodeError as error:
        print(f"--claims: not JSON: {error}", file=sys.stderr)
        return 2
    if not isinstance(claims, dict):
        print("--claims: must be a JSON object of claims", file=sys.stderr)
        return 2
    issuer = LocalIssuer(signing_key(args.key_file), issuer_url(args.issuer_port))
    token = issuer.token(claims, audience=args.audience, now=clock(), lifetime_s=args.expires_in)
    print(token)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
