"""A real OCI registry: Debian's `docker-registry` (CNCF distribution 2.8), own config per run.

Without auth, with htpasswd Basic auth, or with the Docker token flow (a small token server in
this process signs RS256 JWTs that carry their certificate in `x5c`). The registry lists tags
unsorted and without pagination.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tests.peers.net import LOOPBACK, free_port, stop, wait_until

BINARY = "docker-registry"


@dataclass(frozen=True)
class Registry:
    host: str  # "127.0.0.1:PORT", as OCI references name it
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}"


def _config(root: Path, port: int, htpasswd: Path | None, token: str = "") -> str:
    """The registry config; `token` is a ready `auth:` section for the token flow."""
    auth = token or (
        f"auth:\n  htpasswd:\n    realm: test-registry\n    path: {htpasswd}\n" if htpasswd else ""
    )
    return (
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {root / 'data'}\n"
        "  delete:\n    enabled: true\n"
        "  maintenance:\n    uploadpurging:\n      enabled: false\n"
        f"http:\n  addr: {LOOPBACK}:{port}\n  secret: test-only\n" + auth
    )


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=1)
    try:
        conn.request("GET", "/v2/")
        return conn.getresponse().status in (200, 401)
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def run_registry(
    root: Path,
    *,
    basic_auth: tuple[str, str] | None = None,
    token_auth: tuple[str, str] | None = None,
) -> Iterator[Registry]:
    """Start a registry storing under `root`; with `basic_auth` it requires those credentials
    directly, with `token_auth` through a token server that accepts them."""
    if token_auth:
        with (
            run_token_server(root, *token_auth) as token_config,
            _run(root, None, token_config) as registry,
        ):
            yield Registry(registry.host, *token_auth)
        return
    with _run(root, basic_auth, "") as registry:
        yield registry


@contextmanager
def _run(root: Path, basic_auth: tuple[str, str] | None, token: str) -> Iterator[Registry]:
    root.mkdir(parents=True, exist_ok=True)
    binary = shutil.which(BINARY)
    if binary is None:
        raise RuntimeError(f"{BINARY} is not installed; `make test` installs it (Debian package)")
    htpasswd = None
    if basic_auth:
        import bcrypt

        user, password = basic_auth
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
        htpasswd = root / "htpasswd"
        htpasswd.write_text(f"{user}:{hashed}\n")
    for _attempt in range(3):  # the free port may be taken between probing and binding
        port = free_port()
        config = root / "config.yml"
        config.write_text(_config(root, port, htpasswd, token))
        log = root / "registry.log"
        with log.open("ab") as output:
            process = subprocess.Popen(
                [binary, "serve", str(config)], stdout=output, stderr=subprocess.STDOUT
            )
        try:
            wait_until(partial(_answers, port), what=BINARY, process=process, log=log)
        except RuntimeError:
            stop(process)
            continue
        try:
            yield Registry(f"{LOOPBACK}:{port}", *(basic_auth or (None, None)))
        finally:
            stop(process)
        return
    raise RuntimeError(f"{BINARY} could not start on a free port")


@contextmanager
def run_token_server(root: Path, user: str, password: str) -> Iterator[str]:
    """A Docker registry token service; yields the registry's `auth:` config for it."""
    import base64
    import datetime
    import http.server
    import threading
    import uuid
    from urllib.parse import parse_qs, urlparse

    import jwt
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-token-issuer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (root / "token.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()

    class TokenHandler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            auth = self.headers.get("Authorization", "")
            given = base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else ""
            if auth and given != f"{user}:{password}":
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            access = []
            if given:  # anonymous callers get a token without access
                for scope in query.get("scope", []):
                    kind, _, rest = scope.partition(":")
                    repository, _, actions = rest.rpartition(":")
                    access.append({"type": kind, "name": repository,
                                   "actions": actions.split(",")})  # fmt: skip
            moment = int(datetime.datetime.now(datetime.UTC).timestamp())
            claims = {"iss": "test-issuer", "sub": user, "aud": query.get("service", [""])[0],
                      "exp": moment + 300, "nbf": moment - 10, "iat": moment,
                      "jti": str(uuid.uuid4()), "access": access}  # fmt: skip
            token = jwt.encode(claims, key, "RS256", headers={"x5c": [x5c]})
            body = json.dumps({"token": token, "access_token": token}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer((LOOPBACK, free_port()), TokenHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="token-server", daemon=True)
    thread.start()
    try:
        yield (
            "auth:\n  token:\n"
            f"    realm: http://{LOOPBACK}:{server.server_address[1]}/token\n"
            "    service: test-registry\n    issuer: test-issuer\n"
            f"    rootcertbundle: {root / 'token.crt'}\n"
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
