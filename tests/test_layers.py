"""The import rules hold on the real code, and the check catches a rule being broken."""

from __future__ import annotations

import re
from pathlib import Path

from tests.import_rules import violations

ROOT = Path(__file__).resolve().parent.parent


def test_every_import_points_down_and_the_graph_has_no_cycle() -> None:
    assert violations(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in ("bot", "handlers", "nudges", "content_index", "storage"):
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    return tmp_path


def test_storage_importing_a_handler_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"storage/users.py": "from handlers.answer import reply\n", "handlers/answer.py": "reply = 1\n"},
    )
    assert violations(root) == [
        "storage/users.py:1: storage.users (storage) imports handlers.answer (handlers), a layer above it"
    ]


def test_a_late_import_inside_a_function_counts(tmp_path: Path) -> None:
    late = "def tick():\n    from bot.app import LearnBot\n    return LearnBot\n"
    root = _tree(tmp_path, {"nudges/scheduler.py": late, "bot/app.py": "LearnBot = 1\n"})
    assert violations(root) == [
        "nudges/scheduler.py:2: nudges.scheduler (nudges) imports bot.app (context), a layer above it"
    ]


def test_cycles_platform_sdks_and_adapters_importing_each_other_are_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "handlers/a.py": "import handlers.b\n",
            "handlers/b.py": "from handlers import a\n",
            "handlers/slacky.py": "from slack_sdk import WebClient\n",
            "bot/adapters/__init__.py": "",
            "bot/adapters/console.py": "from bot.adapters.slack import blocks\n",
            "bot/adapters/slack/__init__.py": "",
            "bot/adapters/slack/blocks.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import handlers.a\n"
            ),
        },
    )
    found = violations(root)
    assert "handlers/slacky.py:1: handlers.slacky imports the platform SDK slack_sdk" in found
    assert any(re.match(r"bot/adapters/console.py:1: adapter .* imports another adapter", f) for f in found)
    assert "import cycle: handlers.a -> handlers.b -> handlers.a" in found
    assert len(found) == 3  # the TYPE_CHECKING import is not a runtime dependency
