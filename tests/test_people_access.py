"""People across platforms and the one access module: who sees what, and where admin answers go."""

from __future__ import annotations

from sqlmodel import select

from bot.access import caller_for, shared_takeaways
from bot.adapters.console import PERSONAS, ConsoleChat
from bot.events import Incoming, Who
from bot.router import Router
from storage.models import Enrolment, Identity, Person, Question, StepProgress
from storage.people import identify


def _slack(text: str, *, user: str = "U0SAM", email: str | None = None, channel: str = "D0SAM") -> Incoming:
    """What the Slack adapter hands the router for a message (platform ids, verified email)."""
    return Incoming(
        platform="slack",
        user_id=user,
        text=text,
        channel_id=channel,
        is_direct=channel.startswith("D"),
        thread_id=None if channel.startswith("D") else "1.0001",
        user_name="Sam",
        user_email=email,
        workspace="T0ACME",
    )


def _people(chat: ConsoleChat) -> list[Person]:
    with chat.router.bot.session() as session:
        return list(session.exec(select(Person).order_by(Person.id)))


def test_the_same_email_on_console_and_slack_is_one_person_with_one_record(chat: ConsoleChat) -> None:
    assert "Give useful feedback to a peer" in chat.handle_line("how do I give feedback to a peer")
    assert "Added to your pathway" in chat.handle_line("4")  # Add to my pathway, on the console

    sam = PERSONAS["learner"]
    replies = chat.router.on_message(_slack("how do I make a pivot table", email=sam.email.upper()))
    assert replies[0].card is not None

    [person] = _people(chat)
    assert person.email == "sam@acme.example"
    with chat.router.bot.session() as session:
        identities = {(i.platform, i.platform_user_id) for i in session.exec(select(Identity))}
        owners = {q.user_id for q in session.exec(select(Question))}
        enrolments = list(session.exec(select(Enrolment)))
    assert identities == {("console", "console-learner"), ("slack", "U0SAM")}
    assert owners == {person.id} and [e.user_id for e in enrolments] == [person.id]

    home = chat.router.home(Who("slack", "U0SAM", email="sam@acme.example"))
    assert [p.title for p in home.pathways] == ["Feedback that helps"]
    assert {r.question for r in home.recent} == {
        "how do I give feedback to a peer",
        "how do I make a pivot table",
    }


def test_without_a_verified_email_an_admin_links_the_two(chat: ConsoleChat) -> None:
    chat.handle_line("how do I give feedback to a peer")
    chat.router.on_message(_slack("how do I make a pivot table", user="U0SAM2"))
    assert len(_people(chat)) == 2

    chat.handle_line("/as admin")
    reply = chat.handle_line("link slack:U0SAM2 to sam@acme.example")
    assert "Linked" in reply and "one person" in reply

    learners = [p for p in _people(chat) if p.active and p.email != "lee@acme.example"]
    assert len(learners) == 1
    with chat.router.bot.session() as session:
        assert {q.user_id for q in session.exec(select(Question))} == {learners[0].id}
    home = chat.router.home(Who("slack", "U0SAM2"))
    assert len(home.recent) == 2


def test_a_learner_cannot_link_people(chat: ConsoleChat) -> None:
    reply = chat.handle_line("link slack:U0SAM2 to sam@acme.example")
    assert "Linked" not in reply


def test_an_admin_command_in_a_channel_is_answered_privately_and_leaks_nothing(chat: ConsoleChat) -> None:
    chat.handle_line("what's on the canteen menu today")  # a DM question: a content gap
    router = chat.router
    admin = Incoming(
        platform="console", user_id="console-admin", text="gaps", channel_id="general", is_direct=False
    )
    [reply] = router.on_message(admin)
    assert reply.ephemeral and "direct message" in reply.text
    assert "canteen" not in reply.text and not reply.quote

    in_dm = router.on_message(
        Incoming(platform="console", user_id="console-admin", text="gaps", channel_id="dm")
    )
    assert "canteen menu today" in in_dm[0].text


def test_learners_do_not_get_admin_answers_anywhere(chat: ConsoleChat) -> None:
    chat.handle_line("what's on the canteen menu today")
    reply = chat.handle_line("gaps")
    assert "Only L&D admins" in reply and "canteen" not in reply


def test_a_slack_user_with_direct_reports_in_the_org_chart_sees_manager_lessons(chat: ConsoleChat) -> None:
    router = chat.router
    question = "how do I write a fair performance review for my team"
    before = router.on_message(_slack(question, user="U0BOSS"))
    assert before[0].card is None or before[0].card.content_id != "write-a-performance-review"

    with router.bot.session() as session:
        boss = identify(session=session, platform="slack", platform_user_id="U0BOSS")
        report = identify(session=session, platform="slack", platform_user_id="U0REPORT")
        report.manager_id = boss.id
        session.add(report)

    after = router.on_message(_slack(question, user="U0BOSS"))
    assert after[0].card is not None and after[0].card.content_id == "write-a-performance-review"


def test_a_stored_role_is_the_audience_and_app_yaml_admins_match_by_email(chat: ConsoleChat) -> None:
    bot = chat.router.bot
    config = bot.config.model_copy(update={"admins": ["boss@acme.example"], "smes": ["slack:U0EXPERT"]})
    with bot.session() as session:
        support = identify(session=session, platform="slack", platform_user_id="U0SUP")
        support.role = "support"
        boss = identify(session=session, platform="slack", platform_user_id="U0B", email="Boss@Acme.example")
        expert = identify(session=session, platform="slack", platform_user_id="U0EXPERT")
        as_support = caller_for(session=session, config=config, person=support, who=Who("slack", "U0SUP"))
        as_boss = caller_for(session=session, config=config, person=boss, who=Who("slack", "U0B"))
        as_expert = caller_for(session=session, config=config, person=expert, who=Who("slack", "U0EXPERT"))
    assert (as_support.role, as_support.audience) == ("learner", "support")
    assert (as_boss.role, as_boss.audience, as_boss.is_admin) == ("admin", None, True)
    assert as_expert.is_sme and not as_expert.is_admin and as_expert.role == "learner"


def test_managers_see_only_what_their_direct_reports_chose_to_share(chat: ConsoleChat) -> None:
    bot = chat.router.bot
    with bot.session() as session:
        maria = identify(session=session, platform="slack", platform_user_id="U0MARIA")
        sam = identify(session=session, platform="slack", platform_user_id="U0SAM")
        other = identify(session=session, platform="slack", platform_user_id="U0OTHER")
        sam.manager_id = maria.id
        session.add(sam)
        session.flush()
        enrolment = Enrolment(user_id=sam.id, pathway_id="feedback-culture", joined_by="self")  # type: ignore[arg-type]
        session.add(enrolment)
        session.flush()
        for content_id, shared in (("give-peer-feedback", True), ("receive-feedback-well", False)):
            session.add(
                StepProgress(
                    enrolment_id=enrolment.id,  # type: ignore[arg-type]
                    content_id=content_id,
                    takeaway=f"learned {content_id}",
                    share_with_manager=shared,
                )
            )
        session.flush()
        as_maria = caller_for(session=session, config=bot.config, person=maria, who=Who("slack", "U0MARIA"))
        as_other = caller_for(session=session, config=bot.config, person=other, who=Who("slack", "U0OTHER"))
        as_sam = caller_for(session=session, config=bot.config, person=sam, who=Who("slack", "U0SAM"))
        seen_by_manager = [p.takeaway for p in shared_takeaways(session=session, viewer=as_maria, report=sam)]
        seen_by_stranger = shared_takeaways(session=session, viewer=as_other, report=sam)
        seen_by_sam = [p.takeaway for p in shared_takeaways(session=session, viewer=as_sam, report=sam)]
    assert as_maria.is_manager and as_maria.audience == "manager"
    assert seen_by_manager == ["learned give-peer-feedback"]
    assert seen_by_stranger == []
    assert sorted(seen_by_sam) == ["learned give-peer-feedback", "learned receive-feedback-well"]


def test_enrolling_someone_unknown_creates_nobody(chat: ConsoleChat) -> None:
    chat.handle_line("/as admin")
    reply = chat.handle_line("enrol nobody-here in feedback-culture")
    assert "I don't know nobody-here yet" in reply
    assert [p.display_name for p in _people(chat)] == ["Lee (L&D admin)"]


def test_an_admin_enrols_a_mentioned_person(chat: ConsoleChat) -> None:
    from bot.events import Mention

    router: Router = chat.router
    text = "enrol @sam in feedback-culture"
    incoming = Incoming(
        platform="slack",
        user_id="U0ADMIN",
        text=text,
        channel_id="D0ADMIN",
        mentions=(Mention("U0SAM", "sam"),),
    )
    config = router.bot.config
    router.bot.config = config.model_copy(update={"admins": ["slack:U0ADMIN"]})
    try:
        [reply] = router.on_message(incoming)
    finally:
        router.bot.config = config
    assert reply.text.startswith("Enrolled sam in feedback-culture")
    with router.bot.session() as session:
        identity = session.exec(select(Identity).where(Identity.platform_user_id == "U0SAM")).one()
        assert [e.pathway_id for e in session.exec(select(Enrolment))] == ["feedback-culture"]
        assert session.exec(select(Enrolment)).one().user_id == identity.person_id


def test_an_admin_asks_for_the_outbox_status_in_a_dm(chat: ConsoleChat) -> None:
    chat.handle_line("/as admin")
    reply = chat.handle_line("nudges status")
    assert "Outbox: queued 0, deferred 0" in reply


def test_an_admin_enrols_someone_whose_name_has_spaces(chat: ConsoleChat) -> None:
    from bot.events import Mention

    router: Router = chat.router
    incoming = Incoming(
        platform="console",
        user_id="console-admin",
        text="enrol @Sam Smith in feedback-culture",
        channel_id="dm",
        mentions=(Mention("U0SAMS", "Sam Smith"),),
    )
    [reply] = router.on_message(incoming)
    assert reply.text.startswith("Enrolled Sam Smith in feedback-culture")
