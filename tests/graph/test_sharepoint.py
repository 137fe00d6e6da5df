"""SharePoint lessons through the real msgraph-sdk client against a local fake Graph: `learnbot index` reads
documents in a drive folder and site pages, then only what changed (the stored delta link), and keeps
everything indexed before when Graph refuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from bot.app import prepare
from bot.config import ConfigError, Settings, load_config
from storage.db import make_engine, session_scope
from storage.models import ContentItem, SourceState
from tests.graph.fake_sharepoint import FakeSharePoint, running

FEEDBACK_LESSON = """---
title: Giving feedback that lands
pillar: people
skills: [feedback, coaching]
duration_minutes: 5
---
# Giving feedback that lands

Name the behaviour, its effect, and ask what they think.
"""

PILLARS = [
    {"id": "people", "name": "Grow our people"},
    {"id": "customer-first", "name": "Customer first"},
]


@pytest.fixture
def fake() -> Iterator[FakeSharePoint]:
    with running() as server:
        lessons = server.add_folder("Lessons")
        server.add_folder("Drafts")
        server.feedback = server.add_file("giving-feedback.md", folder=lessons, text=FEEDBACK_LESSON)  # type: ignore[attr-defined]
        server.escalation = server.add_file(  # type: ignore[attr-defined]
            "Escalation checklist.pdf",
            folder=lessons,
            description="The five checks before you escalate a ticket.",
            fields={"Pillar": "customer-first", "Skills": "escalation;triage", "Minutes": 10},
        )
        server.draft = server.add_file("unfinished.md", text="---\ntitle: Not ready\n---\n")  # type: ignore[attr-defined]
        server.page = server.add_page(  # type: ignore[attr-defined]
            "Welcome-to-support.aspx",
            "Welcome to support",
            description="Your first week in the support team.",
            html="<h2>Week one</h2><p>Shadow two calls a day &amp; read the runbook.</p>",
            fields={"Pillar": "customer-first", "Skills": "onboarding;support"},
        )
        server.add_page("Holiday-rota.aspx", "Holiday rota", description="Who is off when.")
        yield server


def workspace(tmp_path: Path, fake: FakeSharePoint, db_url: str | None = None, **source: object) -> Settings:
    lessons = tmp_path / "lessons"
    lessons.mkdir(exist_ok=True)
    (lessons / "vpn.md").write_text("---\ntitle: Connect to the VPN\npillar: people\n---\nOpen the app.\n")
    sharepoint = {
        "name": "sharepoint",
        "type": "sharepoint",
        "site_id": fake.site_id,
        "drive_id": fake.drive_id,
        "folder": "Lessons",
        "pages_list": fake.pages_list_id,
        "fields": {"pillar": "Pillar", "skills": "Skills", "duration_minutes": "Minutes"},
        "defaults": {"audience": ["everyone"]},
        **source,
    }
    config = tmp_path / "app.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "pillars": PILLARS,
                "content_sources": [{"name": "lessons", "type": "markdown", "path": "lessons"}, sharepoint],
            }
        )
    )
    return Settings(
        data_dir=tmp_path / "data",
        config_path=config,
        database_url=db_url,
        graph_api_url=fake.base_url,
        graph_allow_anonymous=True,
    )


def stored(settings: Settings) -> dict[str, ContentItem]:
    with session_scope(make_engine(settings.db_url)) as session:
        return {item.id: item for item in session.exec(select(ContentItem))}


def active(settings: Settings) -> set[str]:
    return {item.id for item in stored(settings).values() if item.active}


def test_first_run_indexes_documents_in_the_folder_and_site_pages(
    tmp_path: Path, fake: FakeSharePoint, db_url: str
) -> None:
    settings = workspace(tmp_path, fake, db_url)
    summary = prepare(settings)

    assert summary.errors == 0, summary.problems
    items = stored(settings)
    assert active(settings) == {
        "vpn",
        "giving-feedback",
        "escalation-checklist",
        "welcome-to-support",
        "holiday-rota",
    }  # the draft outside the Lessons folder is not a lesson
    feedback = items["giving-feedback"]
    assert feedback.title == "Giving feedback that lands"
    assert feedback.pillar == "people" and feedback.skills == ["feedback", "coaching"]
    assert feedback.url.startswith(
        "https://contoso.sharepoint.com/sites/learning/Shared%20Documents/Lessons/"
    )
    assert "Name the behaviour" in feedback.body and feedback.summary.startswith("Name the behaviour")
    pdf = items["escalation-checklist"]
    assert (pdf.title, pdf.summary) == (
        "Escalation checklist",
        "The five checks before you escalate a ticket.",
    )
    assert (pdf.pillar, pdf.skills, pdf.duration_minutes) == ("customer-first", ["escalation", "triage"], 10)
    assert pdf.audience == ["everyone"]  # from the source's defaults
    page = items["welcome-to-support"]
    assert page.url == "https://contoso.sharepoint.com/sites/learning/SitePages/Welcome-to-support.aspx"
    assert page.summary == "Your first week in the support team."
    assert "Shadow two calls a day & read the runbook." in page.body
    assert (page.pillar, page.skills) == ("customer-first", ["onboarding", "support"])  # page columns
    assert (items["holiday-rota"].pillar, items["holiday-rota"].audience) == (None, ["everyone"])
    assert fake.requested("/delta()") and not fake.requested("token=")  # a full enumeration, paged


def test_second_run_asks_only_for_changes_and_picks_up_added_changed_and_removed(
    tmp_path: Path, fake: FakeSharePoint, db_url: str
) -> None:
    settings = workspace(tmp_path, fake, db_url)
    prepare(settings)
    with session_scope(make_engine(settings.db_url)) as session:
        link = session.get(SourceState, "sharepoint").delta_link
    assert link and "token=" in link
    fake.requests.clear()
    lessons = next(i["id"] for i in fake.items.values() if i.get("name") == "Lessons")

    fake.add_file(
        "Objection handling.md", folder=lessons, text="---\ntitle: Handling objections\n---\nListen first."
    )
    fake.change_file(
        fake.feedback, text=FEEDBACK_LESSON.replace("Giving feedback that lands", "Feedback that lands")
    )  # type: ignore[attr-defined]
    fake.delete_file(fake.escalation)  # type: ignore[attr-defined]
    fake.add_page("Refunds.aspx", "Refunds in three steps", html="<p>Check, approve, tell.</p>")
    fake.change_page(fake.page, title="Welcome to the support team")  # type: ignore[attr-defined]
    holiday = next(p for p, page in fake.pages.items() if page["title"] == "Holiday rota")
    fake.delete_page(holiday)
    summary = prepare(settings)

    assert summary.errors == 0, summary.problems
    assert (summary.added, summary.updated, summary.deactivated) == (2, 2, 2)
    delta_calls = fake.requested("/delta()")
    assert delta_calls and all("token=" in call for call in delta_calls)  # the stored link, not a full scan
    assert link.split("/v1.0", 1)[1] in delta_calls[0]
    items = stored(settings)
    assert items["objection-handling"].title == "Handling objections"
    assert items["giving-feedback"].title == "Feedback that lands"
    assert items["welcome-to-support"].title == "Welcome to the support team"
    assert items["refunds"].active and "Check, approve, tell." in items["refunds"].body
    assert not items["escalation-checklist"].active and not items["holiday-rota"].active  # kept, hidden
    assert items["vpn"].active  # the Markdown folder is untouched
    # Unchanged pages are not fetched again; the new and the changed one are.
    assert len(fake.requested("graph.sitePage?")) == 2

    fake.requests.clear()
    third = prepare(settings)
    assert (third.added, third.updated, third.deactivated) == (0, 0, 0)
    assert not fake.requested("/content") and not fake.requested("graph.sitePage?")


def test_graph_refusing_names_the_missing_permission_and_keeps_what_was_indexed(
    tmp_path: Path, fake: FakeSharePoint
) -> None:
    settings = workspace(tmp_path, fake)
    prepare(settings)
    before = active(settings)
    with session_scope(make_engine(settings.db_url)) as session:
        link = session.get(SourceState, "sharepoint").delta_link
    (tmp_path / "lessons" / "vpn.md").write_text(
        "---\ntitle: Connect to the VPN at home\n---\nOpen the app.\n"
    )
    fake.delete_file(fake.feedback)  # type: ignore[attr-defined]
    fake.failures.update({"delta": 403, "pages": 401})

    summary = prepare(settings)

    messages = [str(p) for p in summary.problems]
    assert any("Files.Read.All" in m and "HTTP 403" in m for m in messages), messages
    assert any("Sites.Read.All" in m and "HTTP 401" in m for m in messages), messages
    assert active(settings) == before  # nothing indexed before is lost
    assert stored(settings)["vpn"].title == "Connect to the VPN at home"  # the rest updates
    with session_scope(make_engine(settings.db_url)) as session:
        assert session.get(SourceState, "sharepoint").delta_link == link  # asked again next time

    fake.failures.clear()
    summary = prepare(settings)
    assert summary.errors == 0 and "giving-feedback" not in active(settings)


def test_an_expired_delta_link_enumerates_again_and_still_notices_removals(
    tmp_path: Path, fake: FakeSharePoint
) -> None:
    settings = workspace(tmp_path, fake)
    prepare(settings)
    fake.delete_file(fake.escalation)  # type: ignore[attr-defined]
    fake.expire_delta_links()

    summary = prepare(settings)

    assert summary.errors == 0, summary.problems
    assert "escalation-checklist" not in active(settings) and "giving-feedback" in active(settings)
    assert any("token=" not in call for call in fake.requested("/delta()"))


def test_a_broken_document_is_reported_with_its_place_and_the_rest_is_indexed(
    tmp_path: Path, fake: FakeSharePoint
) -> None:
    lessons = next(i["id"] for i in fake.items.values() if i.get("name") == "Lessons")
    fake.add_file("broken.md", folder=lessons, text="---\ntitle: [unclosed\n---\n")
    fake.add_file("slow.md", folder=lessons, text="---\ntitle: Slow\nduration_minutes: soon\n---\n")
    settings = workspace(tmp_path, fake)

    summary = prepare(settings)

    messages = [str(p) for p in summary.problems]
    assert any(m.startswith("sharepoint/Lessons/broken.md:") and "not valid YAML" in m for m in messages)
    assert any("sharepoint/Lessons/slow.md" in m and "duration_minutes" in m for m in messages)
    assert {"giving-feedback", "escalation-checklist", "welcome-to-support"} <= active(settings)


def test_a_bad_sharepoint_mapping_is_a_config_error_naming_the_key(
    tmp_path: Path, fake: FakeSharePoint
) -> None:
    cases = {
        "content_sources[1].fields.pilar: unknown key": {"fields": {"pilar": "Pillar"}},
        "content_sources[1].defaults.pillar: unknown pillar 'strategy'": {"defaults": {"pillar": "strategy"}},
        "content_sources[1].defaults.duration_minutes": {"defaults": {"duration_minutes": "soon"}},
        "content_sources[1]: give drive_id (documents) or site_id": {"drive_id": None, "site_id": None},
        "content_sources[1].fields.skills": {"fields": {"skills": ""}},
    }
    for expected, change in cases.items():
        settings = workspace(tmp_path, fake, **change)
        with pytest.raises(ConfigError) as error:
            load_config(settings.config_path)
        assert any(problem.startswith(expected) for problem in error.value.problems), error.value.problems


def test_one_refused_document_is_reported_and_the_others_are_indexed(
    tmp_path: Path, fake: FakeSharePoint
) -> None:
    fake.failures["content"] = 403  # e.g. item-level permissions on the Markdown file
    settings = workspace(tmp_path, fake)

    summary = prepare(settings)

    [refused] = [str(p) for p in summary.problems]
    assert refused.startswith("sharepoint/Lessons/giving-feedback.md: ") and "Files.Read.All" in refused
    assert {"escalation-checklist", "welcome-to-support", "holiday-rota", "vpn"} == active(settings)


def test_without_graph_settings_the_source_says_what_to_set_and_nothing_is_lost(
    tmp_path: Path, fake: FakeSharePoint
) -> None:
    settings = workspace(tmp_path, fake)
    prepare(settings)
    before = active(settings)

    summary = prepare(settings.model_copy(update={"graph_allow_anonymous": False}))

    [problem] = [str(p) for p in summary.problems]
    assert "GRAPH_TENANT_ID" in problem and "Files.Read.All" in problem and "Sites.Read.All" in problem
    assert active(settings) == before


def test_with_its_stored_state_lost_a_full_read_still_retires_what_is_gone(
    tmp_path: Path, fake: FakeSharePoint
) -> None:
    settings = workspace(tmp_path, fake)
    prepare(settings)
    fake.delete_file(fake.escalation)  # type: ignore[attr-defined]
    with session_scope(make_engine(settings.db_url)) as session:
        session.delete(session.get(SourceState, "sharepoint"))

    summary = prepare(settings)

    assert summary.errors == 0 and summary.deactivated == 1
    assert "escalation-checklist" not in active(settings) and "giving-feedback" in active(settings)
    assert not any("token=" in call for call in fake.requested("/delta()"))  # nothing to ask from


def test_a_pages_list_that_is_not_there_is_named_and_documents_still_index(
    tmp_path: Path, fake: FakeSharePoint
) -> None:
    settings = workspace(tmp_path, fake, pages_list="list-typo")

    summary = prepare(settings)

    assert [str(p) for p in summary.problems] == [
        f"sharepoint: pages_list 'list-typo' is not a list in site {fake.site_id!r}"
    ]
    assert {"giving-feedback", "escalation-checklist"} <= active(settings)
    assert "welcome-to-support" not in active(settings)
