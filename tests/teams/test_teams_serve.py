"""`learnbot serve` as people run it: Teams at /api/messages (anonymous, warned about loudly) and Slack at
/slack/events on one port, answering through the fakes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from bot.app import prepare
from bot.config import Settings
from tests.conftest import ROOT, write_config
from tests.fake_slack import FakeSlack
from tests.slack_harness import SECRET, TOKEN
from tests.teams.fake_connector import FakeConnector
from tests.teams.harness import LEARNER, TeamsApp, post_json


def test_learnbot_serve_answers_teams_and_slack_on_one_port(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", config_path=write_config(tmp_path))
    prepare(settings)
    with FakeConnector() as connector, FakeSlack() as slack_api:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LEARNBOT_CONFIG": str(settings.config_path),
            "LEARNBOT_DATA_DIR": str(settings.data_dir),
            "TEAMS_ALLOW_ANONYMOUS": "1",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack_api.url,
        }
        for name in ("SLACK_APP_TOKEN", "DATABASE_URL", "TEAMS_APP_ID", "SLACK_CLIENT_ID"):
            env.pop(name, None)
        command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0", "--no-nudges"]
        server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            slack_line, teams_line = server.stdout.readline(), server.stdout.readline()
            assert re.search(r"listening for Slack on http://127\.0\.0\.1:\d+/slack/events", slack_line)
            url = re.search(r"(http://127\.0\.0\.1:\d+)/api/messages", teams_line)
            assert url, teams_line
            base = url.group(1)
            with urllib.request.urlopen(base + "/healthz", timeout=10) as health:
                assert health.read().strip() == b"ok"
            app = TeamsApp(connector, None)  # type: ignore[arg-type]  # only the activity builders
            message = {
                **app.base(LEARNER, app.personal(LEARNER)),
                "type": "message",
                "text": "make a pivot table",
            }
            assert post_json(base + "/api/messages", message)[0] == 202
            [answer] = connector.wait_for(1, timeout=30)
            assert "Summarise data with Excel pivot tables" in answer.text
            assert post_json(base + "/slack/events", {"type": "url_verification"})[0] == 401  # unsigned
        finally:
            server.terminate()
            _, err = server.communicate(timeout=20)
        assert "WARNING: TEAMS_ALLOW_ANONYMOUS=1" in err and "never expose this port" in err
