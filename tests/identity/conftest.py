"""Identity tests: the hub served over real HTTP, and two instances of the npm package
oidc-provider (an independent OpenID provider) standing for the national IdP and the IdP
of municipality `alpha`. `npm ci` runs once per session from the committed lock file."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.identity.servers import Peer, start_peer

PEER = Path(__file__).parent / "peer"
HUB_CLIENT_ID = "chamyeo-hub"
HUB_CLIENT_SECRET = "hub-secret-at-the-idp"
NATIONAL_ACCOUNTS = {
    "resident-kim": {
        "claims": {"name": "김민지", "email": "kim@example.kr"},
        "acr": "urn:chamyeo:acr:verified",
    },
    "resident-park": {
        "claims": {"name": "박서준", "email": "kim@example.kr"},
        "acr": "urn:chamyeo:acr:basic",
    },
    "resident-lee": {"claims": {"name": "이하은"}, "acr": "urn:chamyeo:acr:verified"},
    "resident-jung": {
        "claims": {"name": "정우진", "email": "jung@example.kr"},
        "acr": "urn:chamyeo:acr:verified",
    },
    "minister-choi": {"claims": {"name": "최장관", "roles": ["ministry-admin"]}},
}
MUNICIPAL_ACCOUNTS = {
    "staff-lee": {"claims": {"name": "이주무관", "roles": ["pb-staff", "ministry-admin"]}},
}


@pytest.fixture(scope="session")
def node_peer() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js is not installed: the identity tests need it to run the oidc-provider peer")
    # Every xdist worker comes here, and `npm ci` first deletes node_modules: one worker at a
    # time, and only while the installed tree is not that of the lock file, so no worker
    # wipes the packages under another's running peer.
    lock = hashlib.sha256((PEER / "package-lock.json").read_bytes()).hexdigest()
    stamp = PEER / "node_modules" / ".installed-from-lock"
    where = hashlib.sha256(str(PEER.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"chamyeo-npm-ci-{where}.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not stamp.exists() or stamp.read_text() != lock:
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=PEER,
                check=True,
                capture_output=True,
                timeout=180,
            )
            stamp.write_text(lock)
    return PEER


@dataclass
class Hub:
    url: str
    port: int

    def portal(self, slug: str) -> str:
        """A portal's origin on its own host name."""
        return f"http://{slug}.chamyeo.test:{self.port}"


@pytest.fixture(scope="session")
def hub(app, settings) -> Iterator[Hub]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    url = f"http://localhost:{port}"
    app.config["CHAMYEO_SETTINGS"] = replace(settings, identity_hub_url=url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Hub(url, port)
    server.shutdown()
    app.config["CHAMYEO_SETTINGS"] = settings


def hub_registration(hub: Hub, key: str, **extra) -> dict:
    """How the hub is registered at an upstream IdP: its exact callback, logout URIs."""
    return {
        "client_id": HUB_CLIENT_ID,
        "client_secret": HUB_CLIENT_SECRET,
        "redirect_uris": [f"{hub.url}/identity/callback/{key}"],
        "post_logout_redirect_uris": [f"{hub.url}/identity/signed-out"],
        "backchannel_logout_uri": f"{hub.url}/identity/backchannel-logout/{key}",
        "backchannel_logout_session_required": True,
        # The peer sends `acr` only when asked; a national IdP registers this default.
        "default_acr_values": ["urn:chamyeo:acr:verified", "urn:chamyeo:acr:basic"],
        **extra,
    }


@pytest.fixture(scope="session")
def national_idp(node_peer, hub) -> Iterator[Peer]:
    other_app = {
        "client_id": "other-app",
        "client_secret": "other-secret",
        "redirect_uris": [f"{hub.url}/identity/callback/national"],
    }
    peer = start_peer(
        node_peer, "national", [hub_registration(hub, "national"), other_app], NATIONAL_ACCOUNTS
    )
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def alpha_idp(node_peer, hub) -> Iterator[Peer]:
    peer = start_peer(node_peer, "alphacity", [hub_registration(hub, "alpha-city")], MUNICIPAL_ACCOUNTS)
    yield peer
    peer.stop()


def register_provider(engine, settings, *, key, issuer, tenant_id, role_mapping) -> int:
    from saas.control.identity.models import IdentityProvider, ProviderStatus
    from saas.control.identity.sealing import SecretBox
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        provider = IdentityProvider(
            key=key,
            display_name=key,
            tenant_id=tenant_id,
            issuer=issuer,
            metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_id=HUB_CLIENT_ID,
            client_secret_encrypted=SecretBox(settings).seal(HUB_CLIENT_SECRET),
            scopes="openid email profile roles",
            role_claim="roles",
            role_mapping=role_mapping,
            status=ProviderStatus.APPROVED,
        )
        session.add(provider)
        session.commit()
        return provider.id


@pytest.fixture(scope="session")
def federation(engine, settings, hub, national_idp, alpha_idp, alpha, beta) -> dict[str, Peer]:
    """Both IdPs registered and approved: national for everyone, alpha-city for alpha only."""
    register_provider(
        engine,
        settings,
        key="national",
        issuer=national_idp.issuer,
        tenant_id=None,
        role_mapping={"ministry-admin": "ministry_admin"},
    )
    register_provider(
        engine,
        settings,
        key="alpha-city",
        issuer=alpha_idp.issuer,
        tenant_id=alpha.id,
        role_mapping={"pb-staff": "staff"},
    )
    return {"national": national_idp, "alpha-city": alpha_idp}
