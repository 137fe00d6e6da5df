"""When nudges go out: the learner's zone, working hours, quiet days, DST, weekly caps, snooze, opt-out."""

from __future__ import annotations

import datetime as dt
import threading

from sqlmodel import col, select

from bot.app import LearnBot
from bot.config import NudgePolicy
from bot.events import Action, Button, ConversationRef, Incoming, Reply
from bot.markup import bold
from bot.router import Router
from nudges.clock import ManualClock
from nudges.hours import Window, next_slot, window_for
from nudges.outbox import Dispatcher, reply_payload
from nudges.planner import capped_slot, plan
from nudges.scheduler import run_tick
from storage.models import Enrolment, OutboxMessage
from storage.outbox import enqueue
from tests.nudges.conftest import MakeBot
from tests.nudges.helpers import at, console, person

LONDON = window_for(NudgePolicy(default_timezone="Europe/London"), None)


def local(moment: dt.datetime, window: Window) -> str:
    return moment.astimezone(window.zone).strftime("%a %Y-%m-%d %H:%M %Z")


def test_friday_evening_waits_for_monday_nine_oclock() -> None:
    slot = next_slot(at("2026-11-27T18:00:00Z"), LONDON)
    assert slot is not None and local(slot, LONDON) == "Mon 2026-11-30 09:00 GMT"


def test_inside_working_hours_is_now_and_after_hours_is_tomorrow() -> None:
    assert next_slot(at("2026-11-24T13:15:00Z"), LONDON) == at("2026-11-24T13:15:00Z")
    slot = next_slot(at("2026-11-24T17:30:00Z"), LONDON)
    assert slot is not None and local(slot, LONDON) == "Wed 2026-11-25 09:00 GMT"


def test_nine_oclock_stays_nine_oclock_across_both_dst_changes() -> None:
    spring = next_slot(at("2026-03-27T18:00:00Z"), LONDON)  # clocks go forward on Sunday 29 March
    assert spring == at("2026-03-30T08:00:00Z") and local(spring, LONDON) == "Mon 2026-03-30 09:00 BST"
    autumn = next_slot(at("2026-10-23T17:00:00Z"), LONDON)  # and back on Sunday 25 October
    assert autumn == at("2026-10-26T09:00:00Z") and local(autumn, LONDON) == "Mon 2026-10-26 09:00 GMT"


def test_a_learner_at_utc_plus_13_gets_monday_nine_oclock_on_sunday_evening_utc() -> None:
    policy = NudgePolicy(default_timezone="Europe/London")
    for zone in ("Pacific/Tongatapu", "Pacific/Auckland"):  # Auckland is +13 in its summer
        window = window_for(policy, zone)
        slot = next_slot(at("2026-11-27T18:00:00Z"), window)  # already Saturday 07:00 there
        assert slot == at("2026-11-29T20:00:00Z"), zone
        assert local(slot, window).startswith("Mon 2026-11-30 09:00")


def test_a_bad_stored_zone_falls_back_to_the_default() -> None:
    window = window_for(NudgePolicy(default_timezone="Europe/London"), "Mars/Olympus")
    assert window.zone.key == "Europe/London"


def test_the_weekly_cap_and_one_a_day() -> None:
    sent = [at("2026-11-30T09:00:00Z"), at("2026-12-01T09:00:00Z")]
    same_day, deferred = capped_slot(at("2026-12-01T10:00:00Z"), LONDON, sent, 3)
    assert local(same_day, LONDON) == "Wed 2026-12-02 09:00 GMT" and not deferred  # type: ignore[arg-type]
    capped, deferred = capped_slot(at("2026-12-02T10:00:00Z"), LONDON, sent, 2)
    assert deferred and capped == at("2026-12-07T09:00:01Z")  # a week after the first, on a Monday
    assert capped_slot(at("2026-12-02T10:00:00Z"), LONDON, [], 0) == (None, True)


def test_the_tick_sends_each_learner_their_step_at_nine_in_their_own_zone(
    make_bot: MakeBot, db_url: str
) -> None:
    bot = make_bot(db_url)
    router = Router(bot)
    tonga = person(bot, "tonga", timezone="Pacific/Tongatapu")
    london = person(bot, "london", timezone=None)
    for user in ("tonga", "london"):
        router.on_message(_admin(f"enrol {user} in feedback-culture"))
    sender = console(bot)

    assert run_tick(bot, {"console": sender}, at=at("2026-11-29T19:59:00Z")).dispatch.sent == 0
    first = run_tick(bot, {"console": sender}, at=at("2026-11-29T20:00:00Z"))
    assert [m.to.user_id for _, m in sender.delivered] == ["tonga"]
    reply = sender.delivered[0][1].reply
    assert reply.text.startswith("Step 1 of 4 on your pathway Feedback that helps.")
    assert bold("Feedback that helps") in reply.text.spans  # type: ignore[attr-defined]
    assert "It supports Growing our people — Everyone gives and receives useful feedback" in reply.text
    assert reply.card is not None and reply.card.title == "Give useful feedback to a peer"
    assert reply.card.pillar == "Growing our people" and reply.card.impact
    assert [b.label for b in reply.buttons] == ["Start", "Done", "Snooze", "Not now", "Stop nudges"]
    assert first.next_wake == at("2026-11-30T09:00:00Z")  # London's Monday morning

    run_tick(bot, {"console": sender}, at=at("2026-11-30T09:00:00Z"))
    assert [m.to.user_id for _, m in sender.delivered] == ["tonga", "london"]
    run_tick(bot, {"console": sender}, at=at("2026-11-30T09:00:00Z"))  # the same time again: nothing new
    assert len(sender.delivered) == 2
    assert {tonga.id, london.id} == {row.user_id for row in _rows(bot)}


def test_weekly_cap_holds_nudges_from_three_pathways(make_bot: MakeBot) -> None:
    bot = make_bot(nudges={"default_timezone": "Europe/London", "max_per_week": 2, "follow_up_days": 3})
    router = Router(bot)
    person(bot, "busy", role="support")  # first-contact-resolution enrols support staff by rule
    for pathway in ("feedback-culture", "automate-the-boring-stuff"):
        router.on_message(_admin(f"enrol busy in {pathway}"))
    sender = console(bot)
    moment, held = at("2026-11-30T09:00:00Z"), 0
    for _ in range(14):  # two weeks, a tick every working morning and afternoon
        for hour in (0, 5):
            held += run_tick(
                bot, {"console": sender}, at=moment + dt.timedelta(hours=hour)
            ).plan.deferred_by_cap
        moment += dt.timedelta(days=1)
    times = [when for when, _ in sender.delivered]
    assert len(times) == 4 and held > 0
    for when in times:
        assert sum(1 for other in times if when - dt.timedelta(days=7) < other <= when) <= 2
        assert when.weekday() < 5 and when.hour == 9
    assert len({when.date() for when in times}) == len(times)
    with bot.session() as session:
        joined = {e.pathway_id: e.joined_by for e in session.exec(select(Enrolment))}
    assert joined["first-contact-resolution"] == "audience"


def test_snooze_moves_the_step_to_tomorrow_and_stop_cancels_what_is_queued(
    make_bot: MakeBot, db_url: str
) -> None:
    bot = make_bot(db_url)
    router = Router(bot)
    person(bot, "sam")
    router.on_message(_admin("enrol sam in feedback-culture"))
    sender = console(bot)
    run_tick(bot, {"console": sender}, at=at("2026-11-30T09:00:00Z"))
    step = sender.delivered[-1][1].reply
    snooze = next(b for b in step.buttons if b.name == "nudge_snooze")
    assert "back tomorrow" in router.on_action(_click("sam", snooze))[0].text

    run_tick(bot, {"console": sender}, at=at("2026-12-01T08:59:00Z"))
    assert len(sender.delivered) == 1
    run_tick(bot, {"console": sender}, at=at("2026-12-01T09:00:00Z"))
    assert sender.delivered[-1][1].reply.text.startswith("Step 1 of 4")  # asked for again, not a reminder

    with bot.session() as session:  # something already queued for later when Sam opts out
        user_id = _rows(bot)[0].user_id
        enqueue(
            session=session,
            key="step:manual",
            platform="console",
            kind="step",
            user_id=user_id,
            payload=reply_payload(Reply(text="queued"), to=ConversationRef("console", "sam")),
            due_at=at("2026-12-02T09:00:00Z"),
        )
    stop = next(b for b in sender.delivered[-1][1].reply.buttons if b.name == "nudge_stop")
    assert "no more nudges" in router.on_action(_click("sam", stop))[0].text
    assert {r.idempotency_key: r.status for r in _rows(bot)}["step:manual"] == "cancelled"
    for day in range(2, 12):
        run_tick(bot, {"console": sender}, at=at(f"2026-12-{day:02d}T10:00:00Z"))
    assert len(sender.delivered) == 2

    assert "back on" in router.on_message(_msg("sam", "nudges on"))[0].text
    run_tick(bot, {"console": sender}, at=at("2026-12-14T10:00:00Z"))
    assert len(sender.delivered) == 3


def test_not_now_waits_a_full_cadence(make_bot: MakeBot) -> None:
    bot = make_bot()
    router = Router(bot)
    person(bot, "sam")
    router.on_message(_admin("enrol sam in automate-the-boring-stuff"))  # every 5 days
    sender = console(bot)
    run_tick(bot, {"console": sender}, at=at("2026-11-30T09:00:00Z"))
    not_now = next(b for b in sender.delivered[-1][1].reply.buttons if b.name == "nudge_not_now")
    bot.clock.set(at("2026-11-30T12:00:00Z"))  # type: ignore[attr-defined]
    router.on_action(_click("sam", not_now))
    for day in range(1, 5):
        run_tick(bot, {"console": sender}, at=at(f"2026-12-0{day}T13:00:00Z"))
    assert len(sender.delivered) == 1
    run_tick(bot, {"console": sender}, at=at("2026-12-07T09:00:00Z"))
    assert len(sender.delivered) == 2


def test_enqueue_twice_and_two_planners_at_once_make_one_row(make_bot: MakeBot, db_url: str) -> None:
    bot = make_bot(db_url)
    row = reply_payload(Reply(text="hi"), to=ConversationRef("console", "x"))
    with bot.session() as session:
        assert enqueue(
            session=session,
            key="k1",
            platform="console",
            kind="step",
            payload=row,
            due_at=at("2026-11-30T09:00:00Z"),
        )
    with bot.session() as session:
        assert not enqueue(
            session=session,
            key="k1",
            platform="console",
            kind="step",
            payload=row,
            due_at=at("2026-11-30T10:00:00Z"),
        )
    for n in range(20):
        person(bot, f"learner{n}", role="support")  # enrolled by the audience rule
    now = at("2026-11-30T09:00:00Z")

    def planner() -> None:
        with bot.session() as session:
            plan(session=session, config=bot.config, now=now)

    threads = [threading.Thread(target=planner) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = [r.idempotency_key for r in _rows(bot)]
    assert len(keys) == len(set(keys)) == 21


def test_someone_elses_nudge_button_does_nothing(make_bot: MakeBot) -> None:
    bot = make_bot()
    router = Router(bot)
    person(bot, "sam")
    router.on_message(_admin("enrol sam in feedback-culture"))
    sender = console(bot)
    run_tick(bot, {"console": sender}, at=at("2026-11-30T09:00:00Z"))
    done = next(b for b in sender.delivered[-1][1].reply.buttons if b.name == "nudge_done")
    assert "someone else's" in router.on_action(_click("mallory", done))[0].text
    assert "Nice work" in router.on_action(_click("sam", done))[0].text


def _rows(bot: LearnBot) -> list[OutboxMessage]:
    with bot.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _admin(text: str) -> Incoming:
    return Incoming(platform="console", user_id="console-admin", text=text, channel_id="dm-console-admin")


def _msg(user: str, text: str) -> Incoming:
    return Incoming(platform="console", user_id=user, text=text, channel_id=f"dm-{user}")


def _click(user: str, button: Button) -> Action:
    return Action(
        platform="console", user_id=user, name=button.name, value=button.value, channel_id=f"dm-{user}"
    )


def test_not_yet_asks_once_more_then_never_again(make_bot: MakeBot) -> None:
    bot = make_bot()
    router = Router(bot)
    person(bot, "sam")
    router.on_message(_admin("enrol sam in feedback-culture"))
    sender = console(bot)
    run_tick(bot, {"console": sender}, at=at("2026-11-30T09:00:00Z"))
    done = next(b for b in sender.delivered[-1][1].reply.buttons if b.name == "nudge_done")
    router.on_action(_click("sam", done))  # at Monday 09:00: the follow-up is due Thursday 09:00
    asked = []
    for day in range(1, 12):
        before = len(sender.delivered)
        run_tick(bot, {"console": sender}, at=at(f"2026-12-{day:02d}T09:00:00Z"))
        for _, message in sender.delivered[before:]:
            if message.kind == "follow_up":
                asked.append(day)
                not_yet = next(b for b in message.reply.buttons if b.name == "follow_up_not_yet")
                reply = router.on_action(_click("sam", not_yet))[0].text
    assert asked == [3, 7]  # Thursday, then three days later (Sunday is quiet, so Monday)
    assert reply == "No problem; I won't ask again. When you do use it, it's on your Home."


def test_a_nudge_delivered_late_waits_for_the_next_working_morning(make_bot: MakeBot) -> None:
    bot = make_bot()
    router = Router(bot)
    person(bot, "sam", timezone="Pacific/Auckland")
    router.on_message(_admin("enrol sam in feedback-culture"))
    with bot.session() as session:  # planned at 09:00 Monday in Auckland...
        assert plan(session=session, config=bot.config, now=at("2026-11-29T20:00:00Z")).steps == 1
    sender = console(bot)
    clock = ManualClock(at("2026-11-30T05:00:00Z"))  # ...but the dispatcher only gets to it at 18:00 there
    dispatcher = Dispatcher(bot.engine, {"console": sender}, clock)
    assert dispatcher.run_once().held == 1 and sender.delivered == []
    [row] = _rows(bot)
    assert row.due_at.replace(tzinfo=dt.UTC) == at("2026-11-30T20:00:00Z")  # Tuesday 09:00 in Auckland
    assert (row.status, row.attempts) == ("pending", 0) and "working day had ended" in (row.last_error or "")
    clock.set(at("2026-11-30T20:00:00Z"))
    assert dispatcher.run_once().sent == 1
    dispatcher.close()
    assert [m.key for _, m in sender.delivered] == [row.idempotency_key]
