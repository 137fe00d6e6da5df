"""app.yaml validation: every problem names its key path, and a bad file changes nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.config import ConfigError, load_config, load_settings
from tests.conftest import write_config


def problems_for(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "app.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_the_sample_app_yaml_is_valid() -> None:
    config = load_config(Path(__file__).parent.parent / "app.yaml")
    assert {p.id for p in config.pillars} == {"customer-trust", "efficiency", "people-growth"}
    assert len(config.pathways) == 3
    assert all(len(p.steps) >= 3 for p in config.pathways)


def test_unknown_key_and_wrong_type_name_the_key_path(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        """
pillars:
  - {id: growth, name: Growth}
pathways:
  - {id: p1, title: One, pillar: growth, steps: [a], cadense_days: 3}
nudges:
  max_per_week: lots
""",
    )
    assert "pathways[0].cadense_days: unknown key (check the spelling)" in problems
    assert any(p.startswith("nudges.max_per_week:") and "integer" in p for p in problems)


def test_unknown_pillar_bad_time_zone_and_duplicate_ids(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, nudges={"default_timezone": "Mars/Olympus"}))
    assert caught.value.problems == [
        "nudges.default_timezone: unknown time zone 'Mars/Olympus' (use an IANA name like 'Europe/London')"
    ]
    problems = problems_for(
        tmp_path,
        """
pillars:
  - {id: growth, name: Growth}
  - {id: growth, name: Growth again}
pathways:
  - {id: p1, title: One, pillar: grwoth, steps: [a]}
""",
    )
    assert "pillars[1].id: duplicate id 'growth' (first at pillars[0])" in problems
    assert "pathways[0].pillar: unknown pillar 'grwoth' (known: growth)" in problems


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "pillars:\n  - id: a\n    name: [unclosed\n")
    assert problems[0].startswith("line 4, column 1: not valid YAML")


def test_missing_source_folder_and_unknown_source_type(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        """
pillars: [{id: a, name: A}]
content_sources:
  - {name: lessons, type: markdown, path: no/such/folder}
  - {name: wiki, type: confluence, path: .}
""",
    )
    assert "content_sources[0].path: 'no/such/folder' does not exist" in problems or any(
        "content_sources[1]" in p and "confluence" in p for p in problems
    )
    assert any(p.startswith("content_sources[1]") and "'confluence'" in p for p in problems)


def test_pathway_step_naming_unknown_content_stops_index_before_anything_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_config(tmp_path)
    data_dir = tmp_path / "data"
    assert main(["--config", str(good), "--data-dir", str(data_dir), "index", "--no-progress"]) == 0
    db_before = (data_dir / "learnbot.db").read_bytes()

    data = yaml.safe_load(good.read_text())
    data["pathways"][1]["steps"][2] = "excel-pivots"
    good.write_text(yaml.safe_dump(data))
    capsys.readouterr()
    code = main(["--config", str(good), "--data-dir", str(data_dir), "index", "--no-progress"])

    err = capsys.readouterr().err
    assert code == 2
    assert "pathways[1].steps[2]: unknown content id 'excel-pivots'" in err
    assert "nothing was changed" in err
    assert (data_dir / "learnbot.db").read_bytes() == db_before


def test_secrets_come_from_the_environment_and_are_not_shown(tmp_path: Path) -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-secret-value", "DATABASE_URL": "postgres://u@h/db"})
    assert settings.has_slack
    assert settings.db_url == "postgresql+psycopg://u@h/db"
    assert "xoxb-secret-value" not in repr(settings)
    env_file = tmp_path / ".env"
    env_file.write_text("LEARNBOT_DATA_DIR=/srv/learnbot\n")
    assert str(load_settings(env_file=env_file).data_dir) == "/srv/learnbot"


def test_deleting_a_lesson_a_pathway_uses_warns_and_never_takes_the_bot_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file removed from the library: index warns, the bot still starts, admins see the gap."""
    import shutil

    from bot.app import open_bot
    from bot.config import Settings
    from bot.events import Incoming
    from bot.router import Router
    from tests.conftest import ROOT

    content = shutil.copytree(ROOT / "samples" / "content", tmp_path / "content")
    config = write_config(tmp_path)
    data = yaml.safe_load(config.read_text())
    data["content_sources"] = [{"name": "lessons", "type": "markdown", "path": str(content)}]
    config.write_text(yaml.safe_dump(data))
    data_dir = tmp_path / "data"
    args = ["--config", str(config), "--data-dir", str(data_dir)]
    assert main([*args, "index", "--no-progress"]) == 0

    (content / "hard-conversations.md").unlink()
    capsys.readouterr()
    assert main([*args, "index", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "pathways[0].steps[2]: lesson 'hard-conversations' is no longer in the library" in err

    bot = open_bot(Settings(data_dir=data_dir, config_path=config))  # serve, chat and tick start
    admin = Incoming(
        platform="console", user_id="console-admin", text="pathway feedback-culture", channel_id="dm"
    )
    [reply] = Router(bot).on_message(admin)
    assert "3. hard-conversations — missing from the library: learners skip this step" in (reply.quote or "")
