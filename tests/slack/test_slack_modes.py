"""The ways learnbot meets Slack: multi-workspace OAuth install, Socket Mode, and `learnbot serve` itself."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path

import pytest
from sqlmodel import select

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.server import socket_mode_handler
from bot.app import open_bot, prepare
from bot.config import Settings
from bot.router import Router
from storage.models import ConversationReference, Feedback, SlackInstallation
from tests.fake_slack import FakeSlack, FakeSocketMode, event_body, payload_body, post, sign
from tests.slack_harness import SECRET, SlackApp, posted_message, slack_settings, texts

ROOT = Path(__file__).resolve().parents[2]
PEER = "how do I give feedback to a peer"


def _get(url: str, cookie: str = "") -> tuple[int, str, Message]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_a_workspace_installs_through_oauth_and_is_answered_with_its_own_token(
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
        status, page, headers = _get(app.url + "/slack/install")
        assert status == 200
        state = re.search(r"state=([\w-]+)", page)
        assert state and "client_id=111.222" in page and "app_mentions%3Aread" in page.replace(":", "%3A")
        cookie = str(headers.get("Set-Cookie")).split(";")[0]
        status, _, _ = _get(f"{app.url}/slack/oauth_redirect?code=abc&state={state.group(1)}", cookie)
        assert status == 200
        [exchange] = fake.called("oauth.v2.access")
        assert exchange.params["code"] == "abc"
        with app.adapter.router.bot.session() as session:
            [installed] = session.exec(select(SlackInstallation)).all()
        assert (installed.team_id, installed.user_id) == ("T0002", "U0INSTALLER")
        with app.adapter.router.bot.session() as session:  # the installer can be messaged from now on
            [ref] = session.exec(select(ConversationReference)).all()
        assert (ref.platform, ref.platform_user_id, ref.data) == ("slack", "U0INSTALLER", {"team": "T0002"})

        event = {
            "type": "app_mention",
            "user": "U0B",
            "text": f"<@UBOT> {PEER}",
            "ts": "40.1",
            "channel": "C0B",
        }
        body = event_body(event, "Ev-oauth", team="T0002")
        assert post(app.url + "/slack/events", body, "application/json", sign(SECRET, body))[0] == 200
        [answer] = fake.wait_for("chat.postMessage")
        assert answer.token == "xoxb-installed-token"
        assert answer.params["thread_ts"] == "40.1"
        status, _, _ = _get(f"{app.url}/slack/oauth_redirect?code=abc&state=forged", cookie)
        assert status == 400  # a replayed or forged state is refused
    finally:
        app.stop()


def test_socket_mode_answers_a_mention_through_the_bolt_socket_mode_handler(
    settings: Settings, fake: FakeSlack
) -> None:
    socket = FakeSocketMode()
    fake.socket_url = socket.url
    settings = settings.model_copy(update={"slack_app_token": "xapp-test", "slack_signing_secret": None})
    bot = open_bot(settings)
    handler = socket_mode_handler(SlackAdapter(Router(bot), settings), "xapp-test")
    try:
        handler.connect()
        assert socket.wait_connected()
        [opened] = fake.called("apps.connections.open")
        assert opened.token == "xapp-test"
        event = {
            "type": "app_mention",
            "user": "U0S",
            "text": f"<@UBOT> {PEER}",
            "ts": "50.1",
            "channel": "C0S",
        }
        socket.send(
            {
                "envelope_id": "env-1",
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "payload": json.loads(event_body(event, "Ev-socket")),
            }
        )
        assert socket.wait_ack("env-1") is not None
        [answer] = fake.wait_for("chat.postMessage")
        assert answer.params["thread_ts"] == "50.1"
        assert "Give useful feedback to a peer" in texts(answer.params["blocks"])
    finally:
        handler.close()
        socket.close()
        bot.engine.dispose()


def test_learnbot_serve_answers_a_mention_in_the_thread_and_the_click_round_trips(
    settings: Settings, fake: FakeSlack, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-serve",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
        "LEARNBOT_CONFIG": str(settings.config_path),
        "LEARNBOT_DATA_DIR": str(settings.data_dir),
    }
    env.pop("SLACK_APP_TOKEN", None)
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"]
    server = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/slack/events", line)
        assert match, line + (server.stderr.read() if server.poll() is not None and server.stderr else "")
        url = f"http://127.0.0.1:{match.group(1)}/slack/events"

        event = {
            "type": "app_mention",
            "user": "U0L",
            "text": f"<@UBOT> {PEER}",
            "ts": "60.1",
            "channel": "C0X",
        }
        body = event_body(event, "Ev-serve")
        assert post(url, body, "application/json", sign(SECRET, body))[0] == 200
        [answer] = fake.wait_for("chat.postMessage", timeout=10)
        assert answer.params["thread_ts"] == "60.1" and answer.token == "xoxb-serve"

        message = posted_message(answer)
        helpful = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"])
        click = {
            "type": "block_actions",
            "team": {"id": "T0001"},
            "user": {"id": "U0L"},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C0X"},
            "channel": {"id": "C0X"},
            "message": message,
            "actions": [helpful | {"block_id": "lb_actions_0"}],
        }
        body = payload_body(click)
        assert post(url, body, "application/x-www-form-urlencoded", sign(SECRET, body))[0] == 200
        [update] = fake.wait_for("chat.update", timeout=10)
        assert update.params["ts"] == message["ts"] and "Glad it helped!" in texts(update.params["blocks"])
        with open_bot(settings).session() as session:
            assert [f.verdict for f in session.exec(select(Feedback))] == ["helpful"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def _serve(settings: Settings, tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    """`learnbot serve` as someone starts it, with this environment on top of the test's (Slack unset)."""
    base = {**os.environ, "LEARNBOT_CONFIG": str(settings.config_path)}
    base["LEARNBOT_DATA_DIR"] = str(settings.data_dir)
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "TEAMS_APP_ID",
    ):
        base.pop(name, None)
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0", "--no-nudges"]
    return subprocess.Popen(
        command, cwd=tmp_path, env=base | env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_learnbot_serve_in_socket_mode_answers_over_the_socket_and_still_answers_health_checks(
    settings: Settings, fake: FakeSlack, tmp_path: Path
) -> None:
    socket = FakeSocketMode()
    fake.socket_url = socket.url
    server = _serve(
        settings,
        tmp_path,
        SLACK_API_URL=fake.url,
        SLACK_BOT_TOKEN="xoxb-socket",
        SLACK_APP_TOKEN="xapp-serve",
    )
    try:
        assert server.stdout is not None
        connected, health = server.stdout.readline(), server.stdout.readline()
        assert connected.strip() == "learnbot is connected to Slack in Socket Mode", connected
        match = re.search(r"health check at (http://127\.0\.0\.1:\d+)/healthz \(Ctrl-C to stop\)", health)
        assert match, health
        assert _get(match.group(1) + "/healthz")[:2] == (200, "ok")
        assert _get(match.group(1) + "/slack/events")[0] == 404  # Slack comes over the socket, not HTTP
        assert socket.wait_connected()
        assert fake.called("apps.connections.open")[0].token == "xapp-serve"
        event = {
            "type": "app_mention",
            "user": "U0S",
            "text": f"<@UBOT> {PEER}",
            "ts": "70.1",
            "channel": "C0S",
        }
        envelope = {"envelope_id": "env-serve", "type": "events_api", "accepts_response_payload": False}
        socket.send(envelope | {"retry_attempt": 0, "payload": json.loads(event_body(event, "Ev-sock"))})
        assert socket.wait_ack("env-serve") is not None
        [answer] = fake.wait_for("chat.postMessage", timeout=10)
        assert answer.params["thread_ts"] == "70.1" and answer.token == "xoxb-socket"
        server.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        assert server.wait(timeout=20) == 0
    finally:
        server.kill()
        server.wait(timeout=10)
        socket.close()


def test_learnbot_serve_with_oauth_prints_where_to_install_it(
    settings: Settings, fake: FakeSlack, tmp_path: Path
) -> None:
    oauth = {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "shh", "SLACK_SIGNING_SECRET": SECRET}
    server = _serve(settings, tmp_path, SLACK_API_URL=fake.url, **oauth)
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        assert re.search(r"listening for Slack on http://127\.0\.0\.1:\d+/slack/events$", lines[0]), lines
        match = re.search(r"install it in a workspace at (http://127\.0\.0\.1:\d+/slack/install)$", lines[1])
        assert match, lines
        assert "/healthz (Ctrl-C to stop)" in lines[2]
        status, page, _ = _get(match.group(1))
        assert status == 200 and "client_id=111.222" in page
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_manifest_declares_everything_the_app_listens_to() -> None:
    import yaml

    from bot.adapters import slack
    from bot.adapters.slack.manifest import SAVE_LESSON_SHORTCUT

    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    features, settings = manifest["features"], manifest["settings"]
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(slack.SCOPES)
    assert [c["command"] for c in features["slash_commands"]] == [slack.COMMAND]
    assert [(s["type"], s["callback_id"]) for s in features["shortcuts"]] == [
        ("message", slack.SHORTCUT),
        ("global", slack.CAMPAIGN_SHORTCUT),
        ("message", SAVE_LESSON_SHORTCUT),
    ]
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert {"app_mention", "message.im", "app_home_opened", "message.channels"} <= set(
        settings["event_subscriptions"]["bot_events"]
    )
    urls = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    urls += [c["url"] for c in features["slash_commands"]]
    assert {url.removeprefix("https://learnbot.example.com") for url in urls} == {slack.EVENTS_PATH}
    assert manifest["oauth_config"]["redirect_urls"][0].endswith(slack.REDIRECT_PATH)


def test_serve_refuses_to_start_without_its_secrets_and_names_them(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(settings.data_dir)  # no .env here
    assert main(["--config", str(settings.config_path), "serve"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_SIGNING_SECRET is not set" in err and "set SLACK_BOT_TOKEN" in err
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-only")
    assert main(["--config", str(settings.config_path), "serve"]) == 2
    assert "SLACK_BOT_TOKEN is not set (Socket Mode needs the bot token)" in capsys.readouterr().err


def test_the_slack_package_is_small_modules_with_public_names_only() -> None:
    import ast

    from bot.adapters import slack

    assert all(getattr(slack, name) is not None for name in slack.__all__)
    folder = ROOT / "bot" / "adapters" / "slack"
    for module in folder.glob("*.py"):
        source = module.read_text()
        assert len(source.splitlines()) <= 220, f"{module.name} no longer fits on a screen or two"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.adapters.slack"):
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                assert not private, f"{module.name} imports private {private} from {node.module}"
