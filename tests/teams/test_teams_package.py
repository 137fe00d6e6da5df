"""The Teams app package: `learnbot teams package` fills in the app id, the manifest validates against
Microsoft's published schema (manifestVersion 1.29), and the icons are the sizes Teams asks for."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest

from bot.adapters.teams.package import ROOT
from bot.cli import main

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "MicrosoftTeams.schema.json").read_text())
APP_ID = "11111111-2222-4333-8444-555555555555"


def validate(manifest: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(manifest)]


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGBA rows of one of our PNGs (8-bit RGBA, filter 0 rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, kind = struct.unpack(">IIBB", data[16:26])
    assert (depth, kind) == (8, 6)  # 8-bit RGBA
    body = zlib.decompress(data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8])
    stride = width * 4 + 1
    return width, height, [body[n * stride + 1 : (n + 1) * stride] for n in range(height)]


def test_the_package_has_the_app_id_validates_and_carries_both_icons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("LEARNBOT_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "learnbot-teams.zip"
    assert main(["teams", "package", "--out", str(out), "--domain", "learnbot.example.com"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color, outline = archive.read("color.png"), archive.read("outline.png")
    assert validate(manifest) == []
    assert manifest["manifestVersion"] == "1.29"  # draft-04 does not check the schema's `const`
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["composeExtensions"][0]["botId"] == APP_ID
    assert manifest["composeExtensions"][0]["commands"][0]["title"] == "Find a lesson"
    assert manifest["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    assert manifest["validDomains"] == ["learnbot.example.com"]
    commands = {c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]}
    assert commands == {"help", "nudges off", "nudges on"}  # each one a command the router knows

    width, height, rows = png_pixels(color)
    assert (width, height) == (192, 192)
    assert all(row[3::4] == b"\xff" * 192 for row in rows)  # opaque colour icon
    width, height, rows = png_pixels(outline)
    assert (width, height) == (32, 32)
    pixels = [row[i : i + 4] for row in rows for i in range(0, len(row), 4)]
    assert {p for p in pixels if p[3]} == {b"\xff\xff\xff\xff"}  # white strokes…
    assert sum(1 for p in pixels if not p[3]) > 512  # …on a transparent background


def test_the_committed_manifest_validates_as_it_is() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert validate(manifest) == []
    [save] = [c for c in manifest["composeExtensions"][0]["commands"] if c["id"] == "saveLesson"]
    assert (save["type"], save["title"], save["context"], save["fetchTask"]) == (
        "action",
        "Save as micro-lesson",
        ["message"],
        True,
    )  # the id the adapter answers (bot.adapters.teams.lesson_form.COMMAND), on a message's … menu


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--app-id", "not-a-guid"],
            "the app id must be the Azure bot's Microsoft App ID, a GUID (got 'not-a-guid')",
        ),
        ([], "give --app-id or set TEAMS_APP_ID"),
        (["--app-id", APP_ID, "--domain", "https://x.example.com/"], "--domain must be a host name"),
    ],
)
def test_bad_values_are_refused_and_named(
    args: list[str], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("TEAMS_APP_ID", raising=False)
    monkeypatch.setenv("LEARNBOT_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "p.zip"
    assert main(["teams", "package", "--out", str(out), *args]) == 2
    assert said in capsys.readouterr().err and not out.exists()


def test_serve_with_half_a_teams_setup_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from tests.conftest import write_config

    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "TEAMS_APP_PASSWORD",
        "DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("LEARNBOT_CONFIG", str(write_config(tmp_path)))
    monkeypatch.setenv("LEARNBOT_DATA_DIR", str(tmp_path / "data"))
    assert main(["serve", "--port", "0", "--no-nudges"]) == 2
    err = capsys.readouterr().err
    assert "TEAMS_APP_ID is set but neither TEAMS_APP_PASSWORD nor TEAMS_CERT_PFX_FILE is" in err
    assert "see README, 'Install in Teams'" in err and "Traceback" not in err
