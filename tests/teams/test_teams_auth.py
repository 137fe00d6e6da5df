"""Every request to /api/messages must carry a valid Bot Framework token unless anonymous mode is on.

Tokens are signed with a throwaway RSA key; the fake connector serves its public half as the JWKS,
and the SDK's validator is pointed at that JWKS for the Bot Framework issuer (as the SDK's own
tests patch the key lookup). The real `JwtTokenValidator` checks signature, audience and expiry.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from microsoft_agents.hosting.core import JwtTokenValidator
from microsoft_agents.hosting.core.authorization.authentication_constants import AuthenticationConstants
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import _JwkClientCacheEntry
from sqlmodel import select

from bot.app import prepare
from bot.config import Settings
from bot.serve import ANONYMOUS_WARNING, teams_problems
from storage.models import ConversationReference, Question
from tests.conftest import write_config
from tests.teams.fake_connector import FakeConnector
from tests.teams.harness import TENANT, TeamsApp

APP_ID = "11111111-2222-4333-8444-555555555555"
ISSUER = "https://api.botframework.com"
KID = "test-key-1"
USER = "00000000-0000-4000-8000-00000000c001"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING, FORGER = _key(), _key()


def token(key: rsa.RSAPrivateKey = SIGNING, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": APP_ID,
        "nbf": now - 10,
        "exp": now + 600,
        "serviceurl": "http://x",
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": KID})


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeConnector]:
    public = json.loads(RSAAlgorithm.to_jwk(SIGNING.public_key()))
    with FakeConnector(jwks={"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}) as server:
        cache = JwtTokenValidator._jwk_client_manager._cache
        uri = AuthenticationConstants.PUBLIC_ABS_JWKS_URL
        saved = cache.pop(uri, None)
        cache[uri] = _JwkClientCacheEntry(jwt.PyJWKClient(server.url + "keys"), threading.Lock())
        yield server
        cache.pop(uri, None)
        if saved is not None:
            cache[uri] = saved


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, fake: FakeConnector) -> Iterator[TeamsApp]:
    folder = tmp_path_factory.mktemp("teams-auth")
    settings = Settings(
        data_dir=folder / "data",
        config_path=write_config(folder),
        teams_app_id=APP_ID,
        teams_app_password="not-a-real-secret",
        teams_tenant_id=TENANT,
    )
    prepare(settings)
    served = TeamsApp.start(settings, fake)
    # Entra is not reachable from a test: the connection's token provider (what MSAL fills) is a local one.
    manager = served.served.teams.cloud._channel_service_client_factory._connection_manager
    manager._connections["SERVICE_CONNECTION"] = LocalEntra(manager._connections["SERVICE_CONNECTION"])
    yield served
    served.stop()


class LocalEntra:
    """A fixed access token for the bot's outbound calls, as Entra gives after client credentials."""

    def __init__(self, real: Any) -> None:
        self.configuration = real.configuration
        self.asked: list[str] = []

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        self.asked.append(resource_url)
        return "entra-access-token"


def rows(app: TeamsApp, model: type) -> list:
    with app.router.bot.session() as session:
        return list(session.exec(select(model)))


def test_without_a_token_or_with_a_forged_one_the_answer_is_401_and_nothing_is_stored(
    app: TeamsApp, fake: FakeConnector
) -> None:
    message = {**app.base(USER, app.personal(USER)), "type": "message", "text": "how do I give feedback"}
    assert app.send(message)[0] == 401
    assert app.send(message, {"Authorization": f"Bearer {token(FORGER)}"})[0] == 401
    assert app.send(message, {"Authorization": f"Bearer {token(aud='someone-else')}"})[0] == 401
    assert app.send(message, {"Authorization": f"Bearer {token(exp=int(time.time()) - 3600)}"})[0] == 401
    assert app.send(message, {"Authorization": "Basic dXNlcjpwYXNz"})[0] == 401
    assert app.send(message, {"Authorization": f"Bearer {token()} extra"})[0] == 401
    app.finish()
    assert rows(app, Question) == [] and fake.posts() == []


def test_a_valid_token_is_accepted_and_replies_carry_learnbots_own_token(
    app: TeamsApp, fake: FakeConnector
) -> None:
    headers = {"Authorization": f"Bearer {token()}"}
    install = {**app.base(USER, app.personal(USER)), "type": "installationUpdate", "action": "add"}
    assert app.send(install, headers)[0] == 202
    app.finish()
    [reference] = rows(app, ConversationReference)
    assert reference.platform_user_id == USER and reference.channel_id == f"a:personal-{USER}"

    message = {
        **app.base(USER, app.personal(USER)),
        "type": "message",
        "text": "how do I give feedback to a peer",
    }
    assert app.send(message, headers)[0] == 202
    [answer] = fake.wait_for(1)
    assert "Give useful feedback to a peer" in answer.text
    assert answer.authorization == "Bearer entra-access-token"


def test_anonymous_mode_still_validates_a_token_that_is_sent(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeConnector
) -> None:
    folder = tmp_path_factory.mktemp("teams-anon")
    settings = Settings(
        data_dir=folder / "data", config_path=write_config(folder), teams_allow_anonymous=True
    )
    prepare(settings)
    anonymous = TeamsApp.start(settings, fake)
    try:
        install = {
            **anonymous.base(USER, anonymous.personal(USER)),
            "type": "installationUpdate",
            "action": "add",
        }
        assert anonymous.send(install, {"Authorization": f"Bearer {token(FORGER)}"})[0] == 401
        assert anonymous.send(install)[0] == 202
    finally:
        anonymous.stop()


def test_serve_names_what_is_missing_and_warns_loudly_about_anonymous_mode() -> None:
    half = Settings(teams_app_id=APP_ID)
    assert teams_problems(half) == [
        "TEAMS_APP_ID is set but neither TEAMS_APP_PASSWORD nor TEAMS_CERT_PFX_FILE is",
        "TEAMS_TENANT_ID is not set (the bot's single tenant, from its Azure registration)",
    ]
    assert teams_problems(Settings(teams_allow_anonymous=True)) == []
    assert "never expose this port" in ANONYMOUS_WARNING
    assert "not-a-real-secret" not in repr(Settings(teams_app_password="not-a-real-secret"))
