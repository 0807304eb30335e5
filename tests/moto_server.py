"""moto in server mode, in its own process, as the AWS endpoint of the handler tests.

A process of its own because moto keeps its state and its settings (IAM enforcement included)
per process: a test that turns enforcement on cannot leak it into others. Run as a script, this
file starts moto on a free port of 127.0.0.1, prints the port, and serves until its standard
input closes (the test process finished or died) or it gets SIGTERM. With a certificate and key
(`tls_certificate`) it serves HTTPS only, as AWS endpoints do.

Where moto differs from AWS in a way a stack depends on, the server process closes the gap
(`tests/moto_gaps.py`, each fix documented and tested there).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import ssl
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import boto3

HOST = "127.0.0.1"
# The credentials every client of the emulator signs with (moto accepts any).
TEST_CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}
STARTUP_TIMEOUT_S = 30
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    key: Path


def tls_files(folder: Path) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1 and its key, written into `folder`.

    Clients trust exactly this certificate: boto3 through `verify=`, Terraform's AWS provider
    (Go) through SSL_CERT_FILE.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(certificate=folder / "emulator.pem", key=folder / "emulator.key")
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@contextmanager
def moto_server(
    environment: Mapping[str, str] | None = None, tls: TlsFiles | None = None
) -> Iterator[str]:
    """Start a moto server process; yield its endpoint URL; stop it on exit."""
    tls_arguments = [str(tls.certificate), str(tls.key)] if tls else []
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.moto_server", *tls_arguments],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(environment or {})},
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"moto server did not start (exit code {process.poll()})"
        yield f"{'https' if tls else 'http'}://{HOST}:{port}"
    finally:
        process.stdin.close()
        process.wait(timeout=STARTUP_TIMEOUT_S)


def emulator_clients(endpoint_url: str, region: str) -> Callable[[str], Any]:
    """`clients(service)`: a boto3 client of the emulator at `endpoint_url`, signed with the
    test credentials."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=TEST_CREDENTIALS["access_key"],
            aws_secret_access_key=TEST_CREDENTIALS["secret_key"],
        )

    return client


def reset(endpoint_url: str) -> None:
    """Forget every resource, so each test starts from an empty account."""
    _post(endpoint_url, "/moto-api/reset", b"")


def enforce_iam(endpoint_url: str, tls: TlsFiles | None = None) -> None:
    """Authenticate and authorize every later request against moto's IAM.

    The server-mode switch for moto's INITIAL_NO_AUTH_ACTION_COUNT: the count becomes 0, so
    from now on no action is allowed without a signature of a known key and a policy allowing it.
    """
    _post(endpoint_url, "/moto-api/reset-auth", b"0", tls)


def _post(endpoint_url: str, path: str, data: bytes, tls: TlsFiles | None = None) -> None:
    # Not urllib's default form type: the server would parse the body as a form and see nothing.
    headers = {"Content-Type": "text/plain"}
    request = urllib.request.Request(endpoint_url + path, data=data, headers=headers)
    context = ssl.create_default_context(cafile=str(tls.certificate)) if tls else None
    with urllib.request.urlopen(request, context=context) as reply:
        assert reply.status == 200, f"{path}: HTTP {reply.status}"


# "1": authorization as AWS names actions and resources (tests/moto_authorization.py); off by
# default, since the handler tests' expectations are written against moto's own.
AWS_AUTHORIZATION_VARIABLE = "MOTO_AWS_AUTHORIZATION"
# Names a file: the server appends every request's IAM action there, authorized or not.
ACTION_LOG_VARIABLE = "MOTO_ACTION_LOG"


def _record_actions(log: Path) -> None:
    """One line per request: `<signing service>:<operation> <method> <path> <resource>`, the
    action as moto's authorization names it, whether or not authorization is on."""
    from moto.core.authorization import ActionAuthenticatorMixin

    authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action
    lock = threading.Lock()

    def recording(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        scope = self.headers.get("Authorization", "").partition("Credential=")[2].split("/")
        service = scope[3] if len(scope) > 3 else "-"
        line = f"{service}:{self._get_action()} {self.method} {self.raw_path} {resource}\n"
        with lock, log.open("a") as file:
            file.write(line)
        authorize(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = recording  # type: ignore[method-assign]


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(0)


def main(arguments: list[str]) -> None:
    # Imported here: the tests import this module only to start the server process.
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from tests import moto_authorization, moto_gaps

    # werkzeug would print an access line for every call into the test output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _terminate)
    ssl_context = (arguments[0], arguments[1]) if arguments else None
    moto_gaps.install(secure_transport=ssl_context is not None)
    if os.environ.get(AWS_AUTHORIZATION_VARIABLE) == "1":
        moto_authorization.install()
    action_log = os.environ.get(ACTION_LOG_VARIABLE)
    if action_log:
        _record_actions(Path(action_log))
    server = make_server(
        HOST,
        0,
        DomainDispatcherApplication(create_backend_app),
        threaded=True,
        request_handler=MotoRequestHandler,
        ssl_context=ssl_context,
    )
    # A deep queue: Terraform opens many connections at once.
    server.socket.listen(128)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(server.server_address[1], flush=True)
    try:
        sys.stdin.read()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
