"""`gaps` for L&D admins: the open content-gap clusters, a page at a time, each sendable to the experts.

    gaps            the first page: the true number of open clusters, most asked first
    gaps 2          another page (or press More)

A cluster shows how many questions and people, when first and last asked, up to three example
questions (each cut to `QUESTION_CHARS`, so one long question cannot crowd out the rest) and the
nearest lesson. "Send G12 to the experts" posts the cluster once, through the outbox, in
app.yaml's `channels.sme` (the channel Ask the experts uses); a second click says when it went.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Button, ConversationRef, Incoming, Reply
from bot.markup import Part, Text, bold, code
from content_index.gaps import GapCluster, gap_clusters, open_clusters
from nudges.outbox import reply_payload
from storage.gaps import mark_sent
from storage.outbox import enqueue

PAGE = 5
WINDOW_DAYS = 90
QUESTION_CHARS = 120
KIND = "gap_sme"
_COMMAND = re.compile(r"^gaps(?:\s+(?:page\s+)?(?P<page>\d{1,6}))?$")
ADMINS_ONLY = "Only L&D admins can see content gaps. Ask me a question instead!"
NO_GAPS = (
    f"No open content gaps in the last {WINDOW_DAYS} days: every question had a lesson, "
    "or a lesson added since answers it."
)
NO_CHANNEL = Text(
    "There's no experts channel set up yet, so I can't send this. Set ",
    code("channels.sme"),
    " in app.yaml.",
)


def gaps_command(said: str) -> int | None:
    """The page a `gaps` command asks for (1 for plain `gaps`), or None when the text is not one."""
    found = _COMMAND.match(" ".join(said.split()))
    if found is None:
        return None
    return int(found["page"]) if found["page"] else 1


def show_gaps(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """The open clusters, a page at a time (admins only; the router keeps it private)."""
    page = gaps_command(incoming.text.strip().lower().lstrip("/")) or 1
    return [gaps_page(page, session=session, bot=bot)]


def current_clusters(*, session: Session, bot: LearnBot) -> list[GapCluster]:
    """The open clusters of the last WINDOW_DAYS, closing first any a lesson now answers."""
    bot.refresh_if_due(session=session)  # lessons indexed since: they may close a cluster
    now = _now(bot)
    since = bot.clock.now() - dt.timedelta(days=WINDOW_DAYS)
    return open_clusters(session=session, since=since, now=now, index=bot.index, threshold=bot.threshold)


def _now(bot: LearnBot) -> dt.datetime:
    """The end of the gaps window: the later of the bot's clock and the wall clock, so a console or test
    clock set back never hides questions already asked."""
    return max(bot.clock.now(), dt.datetime.now(dt.UTC))


def gaps_page(page: int, *, session: Session, bot: LearnBot) -> Reply:
    clusters = current_clusters(session=session, bot=bot)
    total = len(clusters)
    if not total:
        return Reply(text=NO_GAPS)
    pages = math.ceil(total / PAGE)
    if page < 1 or page > pages:
        return Reply(
            text=Text(
                f"There {'is' if pages == 1 else 'are'} only {pages} page{'s' if pages > 1 else ''} of gaps "
                f"({total} open). Type ",
                code("gaps"),
                " for the first.",
            )
        )
    shown = clusters[(page - 1) * PAGE : page * PAGE]
    head = (
        f"{total} open content gap{'s' if total != 1 else ''} (questions I couldn't answer well, "
        f"last {WINDOW_DAYS} days), most asked first"
    )
    parts: list[Part | Text] = [head + (f". Page {page} of {pages}:" if pages > 1 else ":")]
    for cluster in shown:
        parts += ["\n\n", cluster_text(cluster, sme=bot.config.channels.sme)]
    buttons: list[Button] = []
    if bot.config.channels.sme:
        buttons += [
            Button(f"Send {c.ref} to the experts", "gaps_send", str(c.id)) for c in shown if c.sent_at is None
        ]
    if page < pages:
        buttons.append(Button(f"More ({page + 1} of {pages})", "gaps_page", str(page + 1), style="primary"))
    return Reply(text=Text(*parts), buttons=tuple(buttons))


def clip(text: str, limit: int = QUESTION_CHARS) -> str:
    """One line of at most `limit` characters, cut at a word with '…'."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def _day(when: dt.datetime | None) -> str:
    return f"{when.day} {when:%b %Y}" if when else "–"


def cluster_text(cluster: GapCluster, *, sme: str | None = None) -> Text:
    """A cluster in a few lines: id, counts, dates, examples, nearest lesson, whether it was sent."""
    asked = f"{cluster.questions} question{'s' if cluster.questions != 1 else ''}"
    people = f"{cluster.people} {'person' if cluster.people == 1 else 'people'}"
    when = _day(cluster.first_seen)
    if cluster.last_seen and cluster.first_seen and cluster.last_seen.date() != cluster.first_seen.date():
        when = f"{when} – {_day(cluster.last_seen)}"
    parts: list[Part | Text] = [bold(cluster.ref), f" · {asked} from {people} · {when}"]
    for example in cluster.examples:
        parts += ["\n   “", clip(example), "”"]
    if cluster.nearest is not None:
        parts += ["\n   Nearest lesson: ", cluster.nearest.title]
    else:
        parts.append("\n   No lesson comes close.")
    if cluster.sent_at is not None:
        where = f" in #{sme.lstrip('#')}" if sme else ""
        parts.append(f"\n   Sent to the experts{where} on {_day(cluster.sent_at)}.")
    return Text(*parts)


def on_gaps_page(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """The More button: the next page of gaps (admins only)."""
    if not caller.is_admin:
        return [Reply(text=ADMINS_ONLY, ephemeral=True)]
    page = int(action.value) if action.value.isdigit() and len(action.value) <= 6 else 0
    return [gaps_page(page, session=session, bot=bot)]


def on_gaps_send(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Post one cluster in the SME channel through the outbox, once (admins only)."""
    if not caller.is_admin:
        return [Reply(text="Only L&D admins can send content gaps to the experts.", ephemeral=True)]
    channel = (bot.config.channels.sme or "").lstrip("#")
    if not channel:
        return [Reply(text=NO_CHANNEL)]
    cluster_id = int(action.value) if action.value.isdigit() and len(action.value) <= 10 else None
    now = _now(bot)
    found = None
    if cluster_id is not None:
        since = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # the same clustering as the list it came from
        everything = gap_clusters(
            session=session, since=since, now=now, index=bot.index, threshold=bot.threshold
        )
        found = next((c for c in everything if c.id == cluster_id), None)
    if found is None:
        return [Reply(text="Sorry, I couldn't find that gap any more. Type `gaps` for the current list.")]
    if found.status == "closed":
        lesson = found.closed_by_title or found.closed_by
        return [
            Reply(text=f"{found.ref} is closed: the lesson {lesson} now answers it, so I haven't sent it.")
        ]
    post = Reply(
        text=Text(
            bold(f"A content gap from L&D ({found.ref})"),
            f": {found.questions} question{'s' if found.questions != 1 else ''} from "
            f"{found.people} {'person' if found.people == 1 else 'people'} that I had no good lesson for. "
            "Could one of you write a short lesson, or point L&D at one? For example:",
        ),
        quote="\n".join(clip(example) for example in found.examples),
    )
    to = ConversationRef(action.platform, "", channel_id=channel)
    payload = reply_payload(post, to=to, gap=found.id)
    key = f"gap-sme:{found.id}"
    new = enqueue(
        session=session,
        key=key,
        platform=action.platform,
        kind=KIND,
        payload=payload,
        due_at=bot.clock.now(),
        channel_id=channel,
    )
    if not new or not mark_sent(session=session, cluster_id=found.id, by=caller.person_id, at=now):
        sent = f" on {_day(found.sent_at)}" if found.sent_at else ""
        return [Reply(text=f"{found.ref} was already sent to #{channel}{sent}; I haven't sent it again.")]
    return [Reply(text=f"Sending {found.ref} to #{channel} for the experts.")]


def home_line(cluster: GapCluster) -> str:
    """A cluster as one line for App Home: id, counts and its most asked question."""
    asked = f"{cluster.questions} question{'s' if cluster.questions != 1 else ''}"
    people = f"{cluster.people} {'person' if cluster.people == 1 else 'people'}"
    return f"{cluster.ref} · {asked}, {people}: {clip(cluster.label, 100)}"
