"""`learnbot serve` when Slack cannot be reached or refuses the token at start (finding 18): a clear
error naming the URL, what failed and what to check; exit code 2; no traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import write_config
from tests.fake_slack import FakeSlack
from tests.slack_harness import SECRET


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-start")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("LEARNBOT_CONFIG", str(write_config(tmp_path)))
    monkeypatch.setenv("LEARNBOT_DATA_DIR", str(tmp_path / "data"))
    for name in ("SLACK_APP_TOKEN", "DATABASE_URL", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["db", "upgrade"]) == 0
    return monkeypatch


def test_serve_says_which_url_it_could_not_reach(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api/"
    env.setenv("SLACK_API_URL", url)
    assert main(["serve", "--port", "0", "--no-nudges"]) == 2
    err = capsys.readouterr().err
    assert f"could not reach Slack at {url}auth.test" in err
    assert "Check this machine's network" in err and "Traceback" not in err


def test_serve_says_when_slack_refuses_the_token(
    env: pytest.MonkeyPatch, fake: FakeSlack, capsys: pytest.CaptureFixture
) -> None:
    env.setenv("SLACK_API_URL", fake.url)
    fake.fail("auth.test", "invalid_auth")
    assert main(["serve", "--port", "0", "--no-nudges"]) == 2
    err = capsys.readouterr().err
    assert f"Slack refused learnbot's token at {fake.url}auth.test" in err
    assert "invalid_auth" in err and "SLACK_BOT_TOKEN" in err and "Traceback" not in err


def test_serve_says_when_its_port_is_taken(
    env: pytest.MonkeyPatch, fake: FakeSlack, capsys: pytest.CaptureFixture
) -> None:
    env.setenv("SLACK_API_URL", fake.url)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", "--host", "127.0.0.1", "--port", str(port), "--no-nudges"]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "choose another with --port" in err and "Traceback" not in err


def test_socket_mode_says_when_slack_refuses_the_app_token(
    env: pytest.MonkeyPatch, fake: FakeSlack, capsys: pytest.CaptureFixture
) -> None:
    env.setenv("SLACK_API_URL", fake.url)
    env.setenv("SLACK_APP_TOKEN", "xapp-revoked")
    fake.fail("apps.connections.open", "invalid_auth")
    assert main(["serve", "--host", "127.0.0.1", "--port", "0", "--no-nudges"]) == 2
    captured = capsys.readouterr()
    assert f"Slack refused learnbot's token at {fake.url}apps.connections.open" in captured.err
    assert "SLACK_APP_TOKEN" in captured.err and "Traceback" not in captured.err
    assert "connected" not in captured.out
