"""One learnbot install serves one workspace (finding 15): admins in app.yaml and learners' data
are not kept apart per workspace, so a second workspace's OAuth install is refused with a page
that says why, while the first workspace can reinstall whenever it likes."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable

from bot.app import prepare
from bot.config import Settings
from storage.models import SlackInstallation
from tests.fake_slack import FakeSlack, event_body
from tests.slack_harness import SlackApp, rows, slack_settings


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _install(app: SlackApp) -> tuple[int, str]:
    """Start an install in a browser, then come back from Slack's consent page with a code."""
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(app.url + "/slack/install", timeout=10) as started:
        page, cookie = started.read().decode(), str(started.headers.get("Set-Cookie")).split(";")[0]
    state = re.search(r"state=([\w-]+)", page)
    assert state
    request = urllib.request.Request(
        f"{app.url}/slack/oauth_redirect?code=abc&state={state.group(1)}", headers={"Cookie": cookie}
    )
    try:
        with opener.open(request, timeout=10) as finished:
            return finished.status, finished.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_second_workspace_cannot_install_and_is_told_why(
    make_settings: Callable[..., Settings], fake: FakeSlack, db_url: str
) -> None:
    settings = slack_settings(
        make_settings(database_url=db_url),
        fake,
        slack_bot_token=None,
        slack_client_id="111.222",
        slack_client_secret="shh",
    )
    prepare(settings)
    app = SlackApp.start(settings, fake)
    try:
        assert _install(app)[0] == 200
        assert _install(app)[0] == 200  # the same workspace reinstalls (new scopes, a new token)
        fake.installing_team = ("T0003", "Gamma")
        status, page = _install(app)
        assert status == 403
        assert "one install serves one workspace" in page and "T0002" in page and "T0003" in page
        assert {row.team_id for row in rows(app, SlackInstallation)} == {"T0002"}

        fake.reset()
        for n in range(3):  # the workspace's token is checked once, not before every request
            body = event_body(
                {
                    "type": "app_mention",
                    "user": "U0B",
                    "text": "<@UBOT> hi",
                    "ts": f"{n}.1",
                    "channel": "C0B",
                },
                f"Ev-{n}",
                team="T0002",
            )
            assert app.send(body, "application/json")[0] == 200
        app.finish()
        assert len(fake.called("auth.test")) == 1
    finally:
        app.stop()
