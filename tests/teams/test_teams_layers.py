"""The Agents SDK belongs to the Teams adapter alone (and Slack's SDKs to the Slack adapter)."""

from __future__ import annotations

from pathlib import Path

from tests.import_rules import violations


def test_only_the_teams_adapter_may_import_the_agents_sdk(tmp_path: Path) -> None:
    files = {
        "bot/adapters/__init__.py": "",
        "bot/adapters/console.py": "from microsoft_agents.activity import Activity\n",
        "bot/adapters/teams/__init__.py": "from microsoft_agents.hosting.core import TurnContext\n",
        "bot/adapters/teams/slacky.py": "import slack_sdk\n",
    }
    for package in ("bot", "handlers", "nudges", "content_index", "storage"):
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert violations(tmp_path) == [
        "bot/adapters/console.py:1: bot.adapters.console imports microsoft_agents.activity, "
        "the teams adapter's SDK",
        "bot/adapters/teams/slacky.py:1: bot.adapters.teams.slacky imports slack_sdk, "
        "the slack adapter's SDK",
    ]
