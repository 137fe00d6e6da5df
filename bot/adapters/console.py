"""The terminal chat: the same router and handlers as Slack, rendered as text.

Buttons become numbered choices; `/as`, `/dm` and `/channel` switch persona and context,
so a developer can try every conversation with no chat-platform tokens.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import textwrap
from dataclasses import dataclass, replace
from typing import Any, TextIO

from bot.events import Action, AnswerCard, Button, ConversationRef, HomeView, Incoming, Reply, Who
from bot.markup import spans_of
from bot.router import Router
from content_index.cards import curation_note
from nudges.clock import Clock, ManualClock, parse_when
from nudges.outbox import MemorySender

PLATFORM = "console"
INDENT = " " * 10


@dataclass(frozen=True)
class Persona:
    """Who you are in the console chat: a user id, a display name and an email.

    What each may do comes from app.yaml and the org chart (`bot.access`), as on any platform:
    the sample app.yaml lists console-admin as an admin and console-manager as a manager.
    """

    key: str
    user_id: str
    name: str
    email: str


PERSONAS = {
    "learner": Persona("learner", "console-learner", "Sam (learner)", "sam@acme.example"),
    "manager": Persona("manager", "console-manager", "Maria (manager)", "maria@acme.example"),
    "admin": Persona("admin", "console-admin", "Lee (L&D admin)", "lee@acme.example"),
}

CONSOLE_HELP = """\
Type a question, or a number to press a button. Commands:
  /as learner|manager|admin   switch persona
  /dm                         talk to learnbot in a direct message (the default)
  /channel NAME               talk in a channel; learnbot answers in a thread
  /home                       your pathways, recent answers, lessons to rate, what your
                              manager sees (managers: your team's shared learning)
  /clock [+1d|+3h|2026-12-01 09:00]   show or move the clock; nudges due meanwhile arrive
  /tz ZONE                    your time zone for nudges, e.g. Pacific/Auckland
  /help                       this help;  help  what learnbot can do
  /quit                       leave"""


def render_card(card: AnswerCard) -> list[str]:
    """An answer card as terminal lines: title and time, summary, why it matters, link."""
    head = card.title + (f"  · {card.duration_minutes} min" if card.duration_minutes else "")
    lines = [head]
    lines += textwrap.wrap(card.summary, width=78)
    why = " — ".join(part for part in (card.pillar, card.impact) if part)
    if why:
        lines.append(f"Why it matters: {why}")
    if card.url:
        lines.append(card.url)
    if curation_note(card):
        lines.append(curation_note(card) or "")
    return lines


def render_home(home: HomeView) -> list[str]:
    """The Home tab as terminal lines: pathways, recent answers, lessons to rate; admin numbers and gaps."""
    lines = ["Your pathways:"]
    for p in home.pathways:
        upcoming = f" · next: {p.next_step}" if p.next_step else ""
        lines.append(f"  {p.title}: {p.done}/{p.total} done{upcoming}")
    if not home.pathways:
        lines.append("  none yet: press 'Add to my pathway' under an answer")
    lines.append("Recent answers:")
    lines += [f"  {r.question} → {r.title}" + (f" ({r.verdict})" if r.verdict else "") for r in home.recent]
    if home.to_rate:
        lines.append("Still to rate: " + ", ".join(r.title for r in home.to_rate))
    lines += render_sharing(home) + render_team(home)
    if home.is_admin:
        lines.append("This week: " + ", ".join(f"{label} {value}" for label, value in home.headline))
        total = max(home.gaps_total, len(home.gaps))
        count = f" ({len(home.gaps)} of {total} open; type 'gaps' for all)" if total else ": none open"
        lines += [f"Top content gaps{count}", *(f"  {gap}" for gap in home.gaps)]
    return lines


def render_sharing(home: HomeView) -> list[str]:
    """What the person's manager sees (type `sharing` to change it)."""
    share = home.sharing
    if share is None:
        return []
    who = share.manager or "your manager (none in the org chart yet)"
    on = {True: "shared", False: "not shared"}
    return [
        f"What {who} sees (type 'sharing' to change it):",
        f"  completions and pathway progress {on[share.completions]}, ratings {on[share.ratings]}, "
        f"takeaways {share.takeaways_shared} shared / {share.takeaways_private} private",
    ]


def render_team(home: HomeView) -> list[str]:
    """A manager's direct reports and what each chose to share."""
    if not home.is_manager:
        return []
    if not home.team:
        return ["Your team: nobody reports to you in the org chart yet"]
    lines = ["Your team (only what each chose to share):"]
    for member in home.team:
        lines.append(f"  {member.name}")
        if member.lessons:
            lines.append("    completed: " + ", ".join(member.lessons))
        lines += [f"    {title}: {done}/{total} steps" for title, done, total in member.pathways]
        lines += [f"    takeaway: “{said}” — {title}" for said, title in member.takeaways]
        lines += [f"    rated {title}: relevance {r}/5, clarity {c}/5" for title, r, c in member.ratings]
        if not (member.lessons or member.pathways or member.takeaways or member.ratings):
            lines.append("    nothing shared yet")
    return lines


def plain(text: str | None) -> str:
    """Neutral rich text as terminal text: styles dropped, links as 'label (url)', mentions as @name."""
    out = []
    for span in spans_of(text):
        if span.person:
            out.append("@" + span.text.removeprefix("@"))
        elif span.url and span.url != span.text:
            out.append(f"{span.text} ({span.url})")
        else:
            out.append(span.text)
    return "".join(out)


def render_reply(reply: Reply, first_number: int = 1) -> list[str]:
    lines: list[str] = []
    if reply.to_channel:
        where = reply.link_to.thread_id or reply.link_to.channel_id if reply.link_to else "?"
        lines.append(f"(posted in #{reply.to_channel.lstrip('#')}, asked by {reply.asker}, from {where})")
    if reply.text:
        lines += plain(reply.text).splitlines()
    if reply.quote:
        lines += [f"> {line}" for line in plain(reply.quote).splitlines()]
    if reply.card:
        lines += render_card(reply.card)
    if reply.buttons:
        numbered = (f"[{n}] {b.label}" for n, b in enumerate(reply.buttons, start=first_number))
        lines.append("   ".join(numbered))
    return lines


class ConsoleSender(MemorySender):
    """Outbox delivery for the console: keeps what was 'sent' (and when) for the chat to show.

    `delivered` holds (clock time, `Outbound`); `Outbound.to` says whose DM (`to.user_id`) or
    which channel (`to.channel_id`, with no user) it went to.
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__(PLATFORM, clock)


class ConsoleChat:
    """A read-eval-print loop over the router; `handle_line` is what tests drive."""

    def __init__(self, router: Router, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
        self.router = router
        self.stdin, self.stdout = stdin, stdout
        self.persona = PERSONAS["learner"]
        self.channel: str | None = None
        self.choices: list[Button] = []
        self._threads = itertools.count(1)
        self.thread_id: str | None = None
        bot = router.bot
        if not isinstance(bot.clock, ManualClock):  # the console's clock moves only with /clock
            bot.clock = ManualClock(bot.clock.now())
        self.clock: ManualClock = bot.clock
        self.sender = ConsoleSender(self.clock)
        bot.senders[PLATFORM] = self.sender
        self._shown = 0

    def run(self) -> int:
        self._say(["Hi! I'm learnbot. Ask me how to do something at work. (/help for commands)"])
        while True:
            line = self._read(f"{self._where()} you> ")
            if not line or line.strip() in ("/quit", "/exit"):
                self.stdout.write("\nBye!\n")
                return 0
            output = self.handle_line(line)
            if output:
                self.stdout.write(output + "\n")

    def _read(self, prompt: str) -> str:
        """A line from the person; on a real terminal through readline, for editing and history."""
        if self.stdin is sys.stdin and self.stdin.isatty():
            import readline  # noqa: F401 - importing it gives input() line editing

            try:
                return input(prompt) + "\n"
            except EOFError:
                return ""
        self.stdout.write(prompt)
        self.stdout.flush()
        return self.stdin.readline()

    def handle_line(self, line: str) -> str:
        """One line from the person; returns what learnbot shows in reply, then anything delivered."""
        from nudges.scheduler import deliver_now

        output = self._handle(line)
        deliver_now(self.router.bot, {PLATFORM: self.sender})
        delivered = self._deliveries()
        return "\n".join(part for part in (output, delivered) if part)

    def _handle(self, line: str) -> str:
        text = line.strip()
        if not text:
            return ""
        if text.startswith("/"):
            return self._console_command(text)
        if text.isdigit() and self.choices:
            return self._press(int(text))
        self.thread_id = f"thread-{next(self._threads)}" if self.channel else None
        incoming = Incoming(
            platform=PLATFORM,
            user_id=self.persona.user_id,
            user_name=self.persona.name,
            user_email=self.persona.email,
            text=text,
            channel_id=self.channel or self._dm(),
            is_direct=self.channel is None,
            thread_id=self.thread_id,
            reach=self._reach(),
        )
        return self._show(self.router.on_message(incoming))

    def _dm(self) -> str:
        return f"dm-{self.persona.user_id}"

    def _who(self) -> Who:
        return Who(PLATFORM, self.persona.user_id, name=self.persona.name, email=self.persona.email)

    def _reach(self) -> ConversationRef:
        return ConversationRef(PLATFORM, self.persona.user_id, channel_id=self._dm())

    def _press(self, number: int) -> str:
        if not 1 <= number <= len(self.choices):
            return self._format([f"Pick a number from 1 to {len(self.choices)}, or ask a new question."])
        button = self.choices[number - 1]
        action = Action(
            platform=PLATFORM,
            user_id=self.persona.user_id,
            name=button.name,
            value=button.value,
            channel_id=self.channel or self._dm(),
            thread_id=self.thread_id,
            is_direct=self.channel is None,
            user_name=self.persona.name,
            user_email=self.persona.email,
            reach=self._reach(),
        )
        return self._show(self.router.on_action(action))

    def _console_command(self, text: str) -> str:
        command, _, arg = text.partition(" ")
        command, arg = command.lower(), arg.strip().lstrip("#")
        if command == "/help":
            return CONSOLE_HELP
        if command == "/as" and arg.lower() in PERSONAS:
            self.persona = PERSONAS[arg.lower()]
            self.choices = []
            return f"(you are now {self.persona.name})"
        if command == "/as":
            return f"(unknown persona {arg!r}: use one of {', '.join(PERSONAS)})"
        if command == "/home":
            home = self.router.home(self._who())
            return self._format(render_home(home))
        if command == "/dm":
            self.channel = None
            return "(now in a direct message with learnbot)"
        if command == "/channel" and arg:
            self.channel = arg
            return f"(now in #{arg}: learnbot answers in a thread)"
        if command == "/clock":
            return self._move_clock(arg)
        if command == "/tz":
            return self._set_zone(arg)
        return f"(unknown command {command!r}: type /help)"

    def _show(self, replies: list[Reply]) -> str:
        lines: list[str] = []
        buttons: list[Button] = []
        for reply in replies:
            lines += render_reply(reply, first_number=len(buttons) + 1)
            buttons += reply.buttons
        self.choices = buttons
        return self._format(lines)

    def _person(self, session: Any) -> Any:
        from storage.people import identify

        return identify(
            session=session,
            platform=PLATFORM,
            platform_user_id=self.persona.user_id,
            email=self.persona.email,
            display_name=self.persona.name,
            now=self.clock.now(),
        )

    def _zone(self) -> str:
        from nudges.hours import zone_named

        with self.router.bot.session() as session:
            person = self._person(session)
            return zone_named(person.timezone, self.router.bot.config.nudges.default_timezone).key

    def _local(self, when: dt.datetime) -> str:
        from zoneinfo import ZoneInfo

        zone = self._zone()
        return f"{when.astimezone(ZoneInfo(zone)):%a %d %b %Y %H:%M} {zone}"

    def _move_clock(self, arg: str) -> str:
        """`/clock` shows the time; `/clock +1d` or `/clock 2026-12-01 09:00` moves it, ticking on the way."""
        from zoneinfo import ZoneInfo

        from nudges.scheduler import advance_to

        if not arg:
            return f"(the clock says {self._local(self.clock.now())})"
        try:
            target = parse_when(arg, now=self.clock.now(), zone=ZoneInfo(self._zone()))
        except ValueError as exc:
            return f"({exc})"
        if target < self.clock.now():
            return "(the clock only moves forward)"
        self.choices = []
        advance_to(self.router.bot, {PLATFORM: self.sender}, target)
        return f"(the clock says {self._local(target)})"

    def _set_zone(self, arg: str) -> str:
        from nudges.hours import zone_named

        if zone_named(arg, "UTC").key != arg:
            return f"(unknown time zone {arg!r}: use an IANA name like Europe/London)"
        with self.router.bot.session() as session:
            person = self._person(session)
            person.timezone = arg
            session.add(person)
        return f"({self.persona.name} now gets nudges in working hours in {arg})"

    def _deliveries(self) -> str:
        """What the outbox delivered since last shown: DMs to you and channel posts get numbered buttons."""
        new = self.sender.delivered[self._shown :]
        self._shown = len(self.sender.delivered)
        lines: list[str] = []
        for when, message in new:
            to = message.to
            direct = bool(to.user_id)
            mine = not direct or to.user_id == self.persona.user_id
            where = f"direct message to {'you' if mine else to.user_id}" if direct else f"in #{to.channel_id}"
            lines.append(f"── {self._local(when)} · {where} ──")
            if mine:
                lines += render_reply(message.reply, first_number=len(self.choices) + 1)
                self.choices = self.choices + list(message.reply.buttons)
            else:
                lines += render_reply(replace(message.reply, buttons=()))
        return "\n".join(lines)

    def _format(self, lines: list[str]) -> str:
        if not lines:
            return ""
        prefix = "learnbot ▸ " + ("(in thread) " if self.channel else "")
        return "\n".join([prefix + lines[0], *(INDENT + line for line in lines[1:])])

    def _say(self, lines: list[str]) -> None:
        self.stdout.write(self._format(lines) + "\n")

    def _where(self) -> str:
        place = f"#{self.channel}" if self.channel else "dm"
        return f"[{self.persona.key} · {place}]"
