"""Issue 14 points 15-16: serving like a production service, and a clean tree after `make demo`.

`trilateral serve --certfile/--keyfile` speaks TLS (a real handshake against a self-signed
certificate made here with `cryptography`; taxii2-client reads over it), plain HTTP on a
non-loopback address is warned about, and `/docs` (a Swagger page loading scripts from a CDN) is
gone while `/openapi.json` stays. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.security.ops_support import DATABASES, OpsHub, serve_process, served_hub

ROOT = Path(__file__).resolve().parents[2]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files), made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trilateral test hub")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "hub.crt", directory / "hub.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.fixture(scope="module", params=[p if p == "sqlite" else pytest.param(p, marks=pytest.mark.postgres)
                                        for p in DATABASES])
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpsHub]:
    with served_hub(request.param, tmp_path_factory.mktemp(f"serve-{request.param}")) as h:
        yield h


def test_tls_handshake_and_taxii_reads_over_https(hub: OpsHub, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from taxii2client.v21 import Server

    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # requests lets these override `verify`
        monkeypatch.delenv(name, raising=False)

    cert, key = self_signed(tmp_path)
    with serve_process(hub.env, tmp_path, "--certfile", str(cert), "--keyfile", str(key),
                       scheme="https", verify=str(cert)) as (base, _process, stderr):
        context = ssl.create_default_context(cafile=str(cert))
        r = httpx.get(f"{base}/taxii2/", verify=context)
        assert r.status_code == 200 and r.http_version == "HTTP/1.1"
        with pytest.raises(httpx.ConnectError):  # not trusted without the certificate: a real handshake
            httpx.get(f"{base}/taxii2/")
        plain = base.replace("https://", "http://")
        with pytest.raises(httpx.HTTPError):  # plain HTTP to the TLS port is not served
            httpx.get(f"{plain}/taxii2/").raise_for_status()
        server = Server(f"{base}/taxii2/", user="KR", password=hub.server.tokens["KR"], verify=str(cert))
        assert server.api_roots[0].collections[0].id == "shared"
        text = stderr.read_text()
    assert "https://127.0.0.1" in text and "warning" not in text


def test_a_wrong_or_partial_tls_pair_is_one_clear_line(hub: OpsHub, tmp_path: Path) -> None:
    cert, _key = self_signed(tmp_path)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    _, other_key = self_signed(other_dir)
    for args, expected in ((["--certfile", str(cert)], "needs both --certfile"),
                           (["--certfile", str(cert), "--keyfile", str(other_key)], "matching private key"),
                           (["--certfile", str(tmp_path / "nope.pem"), "--keyfile", str(other_key)], "cannot read")):
        done = subprocess.run([sys.executable, "-m", "trilateral", "serve", "--port", "1", *args], env=hub.env,
                              capture_output=True, text=True, timeout=120)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode != 0 and len(lines) == 1 and expected in lines[0], done.stderr


def test_plain_http_beyond_loopback_is_warned_about(hub: OpsHub, tmp_path: Path) -> None:
    with serve_process(hub.env, tmp_path, host="0.0.0.0") as (_base, _process, stderr):
        text = stderr.read_text()
    assert "warning: serving plain HTTP on 0.0.0.0" in text and "--certfile" in text
    assert "warning" not in hub.server.stderr.read_text()  # the loopback server said nothing


def test_no_swagger_page_from_a_cdn_but_the_openapi_document_stays(hub: OpsHub) -> None:
    with hub.http("KR") as http:
        docs = http.get("/docs")
        assert docs.status_code == 404 and "cdn" not in docs.text.lower()
        assert http.get("/redoc").status_code == 404
        spec = http.get("/openapi.json")
    assert spec.status_code == 200 and "/api/v1/screen/" in spec.json()["paths"]


def test_make_demo_leaves_no_untracked_home_in_git_status(tmp_path: Path) -> None:
    """Point 16: `make demo` writes ./trilateral-demo; git must ignore it."""
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout")
    demo = ROOT / "trilateral-demo"
    made = not demo.exists()
    try:
        (demo / "reports").mkdir(parents=True, exist_ok=True)
        probe = demo / "reports" / f"probe-{os.getpid()}.html"
        probe.write_text("x")
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", str(demo)],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0 and status.stdout == "", status.stdout
        probe.unlink()
    finally:
        if made:
            import shutil

            shutil.rmtree(demo, ignore_errors=True)
