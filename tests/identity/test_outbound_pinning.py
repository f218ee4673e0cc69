"""Outside development the hub connects only to the address it checked: one DNS resolution,
then the connection to that address (TLS still verified against the host name), and every
redirect hop checked the same way.

The test's "public" IdP is a TLS server on 127.0.0.2 with a certificate for idp.example.kr.
Two things are replaced, and only these: `outbound.resolve` (the DNS answers, so that a name
can change its answer between two lookups) and `outbound.is_public` (which counts 127.0.0.2,
and only it, as public, standing for an address on the internet)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from saas.control.identity.errors import SignInRefused
from saas.control.identity.signin import outbound

PUBLIC = "127.0.0.2"  # stands for an IdP on the internet
NAMES = ("idp.example.kr", "inside.example.kr", "rebind.example.kr")


def _certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.kr")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * 30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in NAMES]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


class _Server:
    """A TLS server on `address`: /doc answers JSON, /to?url=U redirects to U; records hits."""

    def __init__(self, address: str, cert_file, key_file) -> None:
        self.hits: list[tuple[str, str]] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append((self.path, self.headers.get("Host", "")))
                if self.path.startswith("/to?url="):
                    self.send_response(302)
                    self.send_header("Location", self.path.removeprefix("/to?url="))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def world(tmp_path, app, settings, monkeypatch):
    """A production hub, a 'public' IdP, a server on the private side, and a DNS we control."""
    cert_file, key_file = _certificate(tmp_path)
    public = _Server(PUBLIC, cert_file, key_file)
    # The private side, on 127.0.0.1: any request that reaches it is a leak.
    private = _Server("127.0.0.1", cert_file, key_file)
    answers: dict[str, list[list[str]]] = {
        "idp.example.kr": [[PUBLIC]],
        "inside.example.kr": [["127.0.0.1"]],
        # A rebinding name: public for the first lookup, private for any later one.
        "rebind.example.kr": [[PUBLIC], ["127.0.0.1"]],
    }
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        try:
            return [str(ipaddress.ip_address(host))]  # an address literal resolves to itself
        except ValueError:
            pass
        queue = answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(outbound, "resolve", resolve)
    monkeypatch.setattr(outbound, "is_public", lambda address: address == PUBLIC)
    production = replace(settings, environment="production", outbound_loopback_for_tests=False)
    monkeypatch.setitem(app.config, "CHAMYEO_SETTINGS", production)
    with app.app_context():
        yield {"public": public, "private": private, "lookups": lookups, "ca": str(cert_file), "dns": answers}
    public.close()
    private.close()


def _get(world, url: str):
    return outbound.session().get(url, timeout=5, verify=world["ca"])


def test_the_connection_goes_to_the_checked_address_with_the_host_name_for_tls_and_host(world):
    port = world["public"].port
    response = _get(world, f"https://idp.example.kr:{port}/doc")
    assert response.json() == {"ok": True}
    assert world["public"].hits == [("/doc", f"idp.example.kr:{port}")]
    assert world["lookups"] == ["idp.example.kr"]


def test_a_name_that_changes_its_answer_after_the_check_is_not_resolved_again(world):
    port = world["public"].port
    # Was: the check resolved (public), the request resolved again (now 127.0.0.1) and
    # connected there. Now the one answer that was checked is the one connected to.
    assert _get(world, f"https://rebind.example.kr:{port}/doc").json() == {"ok": True}
    assert world["lookups"] == ["rebind.example.kr"]
    assert world["public"].hits and world["private"].hits == []
    # The next request resolves anew, gets the private answer, and is refused before connecting.
    with pytest.raises(SignInRefused, match="not a public address"):
        _get(world, f"https://rebind.example.kr:{port}/doc")
    assert world["private"].hits == []


@pytest.mark.parametrize(
    "target, why",
    [
        ("https://inside.example.kr:{private}/doc", "not a public address"),  # a private answer
        ("https://127.0.0.1:{private}/doc", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("http://idp.example.kr:{public}/doc", "not an https URL"),
    ],
)
def test_a_redirect_to_a_non_public_address_is_not_followed(world, target, why):
    target = target.format(private=world["private"].port, public=world["public"].port)
    with pytest.raises(SignInRefused, match=why):
        _get(world, f"https://idp.example.kr:{world['public'].port}/to?url={target}")
    assert world["private"].hits == [], "the private side was reached"


def test_a_redirect_to_a_public_address_is_checked_and_followed(world):
    port = world["public"].port
    response = _get(world, f"https://idp.example.kr:{port}/to?url=https://idp.example.kr:{port}/doc")
    assert response.json() == {"ok": True}
    paths = [path for path, _ in world["public"].hits]
    assert paths == [f"/to?url=https://idp.example.kr:{port}/doc", "/doc"]
    assert world["lookups"] == ["idp.example.kr", "idp.example.kr"]  # each hop checked


def test_the_certificate_is_still_verified_against_the_host_name(world):
    # 127.0.0.2 serves a certificate for idp.example.kr and two other names: a request for a
    # name it does not hold fails TLS verification, though it connects to the checked address.
    world["dns"]["other.example.kr"] = [[PUBLIC]]
    with pytest.raises(requests.exceptions.SSLError, match="other.example.kr|certificate"):
        _get(world, f"https://other.example.kr:{world['public'].port}/doc")
