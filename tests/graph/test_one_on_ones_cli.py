"""`learnbot org sync` and `learnbot one-on-ones scan` as a person runs them, against the fake Graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import SettingsError, load_settings
from tests.conftest import ROOT, write_config
from tests.graph.conftest import EXPECTED, GRAPH_CONFIG
from tests.graph.fake_graph import FakeGraph


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_graph: FakeGraph) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEARNBOT_CONFIG", str(write_config(tmp_path, **GRAPH_CONFIG)))
    monkeypatch.setenv("LEARNBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("GRAPH_API_URL", fake_graph.url)
    monkeypatch.setenv("GRAPH_ALLOW_ANONYMOUS", "1")
    assert main(["db", "upgrade"]) == 0
    return tmp_path


def test_scan_json_is_one_object_with_every_one_on_one(
    environment: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["org", "sync", "--json"]) == 0
    synced = json.loads(capsys.readouterr().out)
    assert (synced["source"], synced["listed"], synced["left"]) == ("graph", 9, 0)

    assert main(["one-on-ones", "scan", "--at", "2026-12-07T08:00:00Z", "--json"]) == 0

    out, err = capsys.readouterr()
    report = json.loads(out)  # exactly one JSON object on stdout
    assert set(report) == {"meetings", "prompts_queued"}
    assert {(m["manager"], m["report"], m["start"]) for m in report["meetings"]} == EXPECTED
    assert all(set(m) == {"manager", "report", "start", "source", "id"} for m in report["meetings"])
    assert isinstance(report["prompts_queued"], int)
    assert "Calendars.Read" in err and "omar@acme.example" in err  # the 403, once, on stderr
    assert err.count("Calendars.Read") == 1


def test_scan_prints_the_one_on_ones_for_a_person(environment: Path, capsys: pytest.CaptureFixture) -> None:
    main(["org", "sync"])
    assert "9 people listed, 9 added" in capsys.readouterr().out

    assert main(["one-on-ones", "scan", "--at", "2026-12-07T08:00:00Z"]) == 0

    out = capsys.readouterr().out
    assert "2026-12-08T10:00:00Z  maria@acme.example with sam@acme.example" in out
    assert "7 found for 3 of 4 managers: 7 new, 0 moved, 0 back, 0 cancelled" in out


def test_the_sample_roster_gives_maria_her_one_on_one_with_sam(
    environment: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["org", "sync", "--source", "roster"]) == 1  # app.yaml here names no roster file
    assert "org.roster is not set in app.yaml" in capsys.readouterr().err
    config = write_config(
        environment,
        org={"source": "roster", "roster": str(ROOT / "samples/org/roster.csv")},
        one_on_ones={"source": "roster", "roster": str(ROOT / "samples/org/one_on_ones.csv")},
    )
    assert main(["--config", str(config), "org", "sync"]) == 0
    capsys.readouterr()

    assert (
        main(["--config", str(config), "one-on-ones", "scan", "--at", "2026-12-07T08:00:00Z", "--json"]) == 0
    )

    report = json.loads(capsys.readouterr().out)
    pairs = {(m["manager"], m["report"], m["start"]) for m in report["meetings"]}
    assert ("maria@acme.example", "sam@acme.example", "2026-12-08T10:00:00Z") in pairs
    assert {m["source"] for m in report["meetings"]} == {"roster"}


def test_a_bad_roster_stops_the_command_with_the_line_and_exit_code_1(
    environment: Path, capsys: pytest.CaptureFixture
) -> None:
    roster = environment / "people.csv"
    roster.write_text("name,email,manager_email\nSam,sam@acme.example,maria@acme.example\n")
    config = write_config(environment, org={"source": "roster", "roster": str(roster)})

    assert main(["--config", str(config), "org", "sync"]) == 1

    err = capsys.readouterr().err
    assert "people.csv line 2: manager_email maria@acme.example is not anyone in the roster" in err


def test_anonymous_graph_is_refused_for_anything_but_a_loopback_address() -> None:
    with pytest.raises(SettingsError, match="GRAPH_ALLOW_ANONYMOUS is for local fakes only"):
        load_settings({"GRAPH_ALLOW_ANONYMOUS": "1", "GRAPH_API_URL": "https://graph.microsoft.com/v1.0"})
    with pytest.raises(SettingsError, match="GRAPH_API_URL must use https"):
        load_settings({"GRAPH_API_URL": "http://graph.example.com/v1.0"})
    local = load_settings({"GRAPH_ALLOW_ANONYMOUS": "true", "GRAPH_API_URL": "http://localhost:9/v1.0"})
    assert local.has_graph
    secret = load_settings({"GRAPH_TENANT_ID": "t", "GRAPH_CLIENT_ID": "c", "GRAPH_CLIENT_SECRET": "s3cret"})
    assert secret.has_graph and "s3cret" not in repr(secret)
    assert secret.graph_api_url == "https://graph.microsoft.com/v1.0"


def test_a_scan_at_prompt_time_queues_the_managers_prompt_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: Path, capsys: pytest.CaptureFixture
) -> None:
    from storage.db import make_engine, session_scope
    from storage.people import person_by_email, remember_reference

    config = write_config(
        environment,
        **{
            **GRAPH_CONFIG,
            "one_on_ones": {
                "source": "graph",
                "lookahead_days": 14,
                "lead_hours": 2,
                "when_nothing_new": "suggest",
            },
        },
    )
    monkeypatch.setenv("LEARNBOT_CONFIG", str(config))
    assert main(["org", "sync"]) == 0
    engine = make_engine(f"sqlite:///{environment / 'data' / 'learnbot.db'}")
    with session_scope(engine) as session:  # Maria has used the console, so learnbot can reach her there
        maria = person_by_email(session=session, email="maria@acme.example")
        assert maria is not None and maria.id is not None
        remember_reference(
            session=session, person_id=maria.id, platform="console", platform_user_id="console-manager"
        )
    engine.dispose()
    capsys.readouterr()

    # Sam's 1:1 is Tuesday 10:00 London time; two hours before is outside Maria's working hours, so the
    # prompt is due in her last working hour before it, Monday 16:30
    assert main(["one-on-ones", "scan", "--at", "2026-12-07T16:45:00Z", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["one-on-ones", "scan", "--at", "2026-12-07T16:50:00Z", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)

    assert first["prompts_queued"] == 1
    assert again["prompts_queued"] == 0  # the same occurrence is never prompted twice
    assert ("maria@acme.example", "sam@acme.example", "2026-12-08T10:00:00Z") in {
        (m["manager"], m["report"], m["start"]) for m in first["meetings"]
    }
