"""The Teams adapter: an SDK agent whose turns become router calls, and an HTTP entry that checks tokens.

`handle(headers, body)` is the whole of `/api/messages`: the token (`connector.authorize`), the
activity's shape (400), then the SDK's `CloudAdapter.process_request` runs a turn on `on_turn`:

    message                 queued (acknowledged at once: 202); the worker looks the person up,
                            asks the router and replies in the chat or the channel's reply chain
    invoke adaptiveCard/action
                            the router answers within the request; the card is replaced in place
                            for the clicker, other replies follow as messages; replies that are only
                            words (another person's buttons, stale ones) are a note for the clicker
    invoke composeExtension/query
                            'Find a lesson' in the compose box: the library searched in the person's
                            audience, each lesson a card they can share
    invoke composeExtension/fetchTask, composeExtension/submitAction
                            'Save as micro-lesson' on a message (`curation`): the prefilled form in
                            a dialog for experts, the lesson saved on submit; others told why not
    conversationUpdate, installationUpdate
                            learnbot installed: the installer's personal chat is remembered
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from microsoft_agents.activity import Activity, ConversationReference, InvokeResponse
from microsoft_agents.hosting.core import ClaimsIdentity, ConnectorClientBase, TurnContext
from pydantic import ValidationError

from bot.adapters.teams import activities, cards, connector, delivery
from bot.adapters.teams.curation import FETCH_TASK, SUBMIT_ACTION, LessonCommand
from bot.adapters.teams.delivery import Place
from bot.adapters.teams.people import People
from bot.adapters.teams.runtime import Loop, Work
from bot.config import Settings
from bot.events import ConversationRef, Reply
from bot.router import Router

log = logging.getLogger(__name__)

INVOKE_ACTION = "adaptiveCard/action"
SEARCH_QUERY = "composeExtension/query"  # the "Find a lesson" message extension
SEARCH_RESULTS = 10
SEARCH_PROMPT = "Type what you want to learn, e.g. give feedback to a peer."
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"


class _Request:
    """What the SDK's `process_request` reads from an HTTP request (its `HttpRequestProtocol`)."""

    method = "POST"

    def __init__(self, headers: Mapping[str, str], body: dict[str, Any], claims: ClaimsIdentity) -> None:
        self.headers, self._body, self._claims = headers, body, claims

    async def json(self) -> dict[str, Any]:
        return self._body

    def get_claims_identity(self) -> ClaimsIdentity:
        return self._claims

    def get_path_param(self, name: str) -> str:
        return ""


def _raw(activity: Activity) -> dict[str, Any]:
    return activity.model_dump(mode="json", by_alias=True, exclude_none=True)


def _place(raw: dict[str, Any]) -> Place:
    """Where replies to this activity go: its conversation (in a channel, its reply chain), from learnbot."""
    conversation = str((raw.get("conversation") or {}).get("id") or "")
    reply_to = None if activities.is_personal(raw) else raw.get("id")
    bot, user = raw.get("recipient") or None, raw.get("from") or None
    return Place(conversation, reply_to, activities.tenant(raw), bot=bot, user=user)


class TeamsAdapter:
    """Teams activities → router calls → replies as cards and messages through the connector."""

    def __init__(
        self, router: Router, settings: Settings, *, work: Work | None = None, loop: Loop | None = None
    ) -> None:
        self.router = router
        self.settings = settings
        self.auth = connector.auth_configuration(settings)
        self.cloud = connector.cloud_adapter(self.auth)
        self.people = People()
        self.loop = loop or Loop()
        self.work = work or Work(self.loop)
        self.lessons = LessonCommand(router, self.work)

    # ---- HTTP ------------------------------------------------------------------------------

    async def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, Any]:
        """One POST to /api/messages: (status, JSON body or None). 401 before anything is parsed."""
        claims = await connector.authorize(headers.get("Authorization"), self.auth)
        if claims is None:
            return 401, {"error": "a valid Bot Framework token is required"}
        try:
            parsed = json.loads(body)
        except ValueError:
            return 400, {"error": "the body is not JSON"}
        if not isinstance(parsed, dict) or not parsed.get("type"):
            return 400, {"error": "an activity needs a type"}
        if not (parsed.get("conversation") or {}).get("id") or not parsed.get("serviceUrl"):
            return 400, {"error": "an activity needs conversation.id and serviceUrl"}
        try:
            Activity.model_validate(parsed)
        except ValidationError as exc:
            return 400, {"error": f"not a valid activity ({exc.error_count()} problems)"}
        response = await self.cloud.process_request(_Request(headers, parsed, claims), self)
        return response.status_code, response.body

    def handle_sync(self, headers: Mapping[str, str], body: bytes, timeout: float = 30.0) -> tuple[int, Any]:
        """`handle` from a server thread (waitress), run on the adapter's loop."""
        return self.loop.run(self.handle(headers, body), timeout)

    # ---- the SDK agent -----------------------------------------------------------------------

    async def on_turn(self, context: TurnContext) -> None:
        raw = _raw(context.activity)
        kind = raw.get("type")
        if kind == "message":
            if not self.work.spawn(lambda: self._answer(raw, context.identity)):
                await delivery.tell(context.services.get(ConnectorClientBase), _place(raw), delivery.BUSY)
        elif kind == "invoke" and raw.get("name") == INVOKE_ACTION:
            body = await self._click(context, raw)
            await context.send_activity(
                Activity(type="invokeResponse", value=InvokeResponse(status=200, body=body))
            )
        elif kind == "invoke" and raw.get("name") == SEARCH_QUERY:
            body = await self._search(context, raw)
            await context.send_activity(
                Activity(type="invokeResponse", value=InvokeResponse(status=200, body=body))
            )
        elif kind == "invoke" and raw.get("name") in (FETCH_TASK, SUBMIT_ACTION):
            body = await self._save_lesson(context, raw)
            await context.send_activity(
                Activity(type="invokeResponse", value=InvokeResponse(status=200, body=body))
            )
        elif kind in ("conversationUpdate", "installationUpdate") and activities.added_learnbot(raw):
            self.work.spawn(lambda: self._installed(raw, context.identity))

    async def _answer(self, raw: dict[str, Any], claims: ClaimsIdentity) -> None:
        """A message: who (member lookup), the router, the replies; the person told if it fails."""
        place = _place(raw)
        incoming = activities.incoming(raw, activities.who(raw, await self._email(raw, claims)))
        try:
            replies = await self.work.call(lambda: self.router.on_message(incoming))
        except Exception:
            log.exception("teams: handling a message in %s failed", place.conversation_id)
            replies, failed = [], True
        else:
            failed = False

        async def send(client: ConnectorClientBase, _: TurnContext) -> list[Reply]:
            if failed:
                await delivery.tell(client, place, delivery.SORRY)
                return []
            return await delivery.deliver(client, place, replies)

        try:
            lost = await connector.in_turn(self.cloud, claims, self._where(raw), send)
        except Exception as exc:
            log.warning("teams: could not reply in %s (%s)", place.conversation_id, type(exc).__name__)
            lost = replies
        if lost:
            await self.work.call(lambda: self._undelivered(lost))

    async def _email(self, raw: dict[str, Any], claims: ClaimsIdentity) -> str | None:
        """The person's email from the connector's member lookup (cached); None when it cannot be had."""
        known, email = self.people.known(raw)
        if known:
            return email

        async def lookup(client: ConnectorClientBase, _: TurnContext) -> str | None:
            return await self.people.email(client, raw)

        try:
            return await connector.in_turn(self.cloud, claims, self._where(raw), lookup)
        except Exception as exc:
            log.warning("teams: no connector for a member lookup (%s)", type(exc).__name__)
            return None

    def _undelivered(self, replies: list[Reply]) -> None:
        """An answer that never reached the person is not counted as answered (it shows as a gap)."""
        from handlers.feedback import not_delivered

        with self.router.bot.session() as session:
            marked = not_delivered(replies, session=session)
        if marked:
            log.warning("questions %s were answered but the answer never arrived: counted unanswered", marked)

    async def _installed(self, raw: dict[str, Any], claims: ClaimsIdentity) -> None:
        """learnbot was added: remember how to reach the person who added it (personal scope)."""
        reach = activities.reach(raw)
        if reach is None or not activities.user_key(raw):
            return
        who = activities.who(raw, await self._email(raw, claims))
        await self.work.call(lambda: self.router.on_contact(who, reach))

    async def _click(self, context: TurnContext, raw: dict[str, Any]) -> dict[str, Any]:
        """A card button: the router's replies as the invoke's answer (the card replaced in place)."""
        name, _, shown, _ = activities.clicked(raw)
        label = str((((raw.get("value") or {}).get("action") or {}).get("data") or {}).get("label") or name)
        client = context.services.get(ConnectorClientBase)
        action = activities.action(raw, activities.who(raw, await self.people.email(client, raw)))
        try:
            replies = await self.work.call(lambda: self.router.on_action(action))
        except Exception:
            log.exception("teams: handling a click (%s) failed", name)
            return _note(delivery.SORRY)
        place = _place({**raw, "id": raw.get("replyToId")})
        replaced = next((r for r in replies if r.replace_message and not r.to_channel), None)
        others = [r for r in replies if r is not replaced]
        if replaced is None and all(_just_text(r) for r in replies):
            return _note("\n\n".join(str(r.text) for r in replies) or "Done.")
        await delivery.deliver(client, place, others)
        card = cards.updated_card(shown, replaced) if replaced else cards.chosen_card(shown, label)
        return {"statusCode": 200, "type": cards.CONTENT_TYPE, "value": card}

    async def _search(self, context: TurnContext, raw: dict[str, Any]) -> dict[str, Any]:
        """'Find a lesson' from the compose box: lessons in the person's audience, to share as a card.
        Opened without words (Teams' initial run) it says what to type; no match lists nothing."""
        value = raw.get("value") or {}
        query = next(
            (str(p.get("value") or "") for p in value.get("parameters") or [] if p.get("name") == "query"), ""
        )
        if not query.strip():
            return {"composeExtension": {"type": "message", "text": SEARCH_PROMPT}}
        client = context.services.get(ConnectorClientBase)
        person = activities.who(raw, await self.people.email(client, raw))
        catalogue = await self.work.call(lambda: self.router.browse(person, query=query[:200]))
        results = [cards.search_result(lesson) for lesson in catalogue.cards[:SEARCH_RESULTS]]
        return {"composeExtension": {"type": "result", "attachmentLayout": "list", "attachments": results}}

    async def _save_lesson(self, context: TurnContext, raw: dict[str, Any]) -> dict[str, Any]:
        """'Save as micro-lesson' on a message: the dialog (fetchTask) or its submission (submitAction)."""
        client = context.services.get(ConnectorClientBase)
        person = activities.who(raw, await self.people.email(client, raw))
        try:
            if raw.get("name") == FETCH_TASK:
                return await self.lessons.fetch(raw, person)
            return await self.lessons.submit(raw, person)
        except Exception:
            log.exception("teams: 'Save as micro-lesson' (%s) failed", raw.get("name"))
            return {"task": {"type": "message", "value": delivery.SORRY}}

    def _where(self, raw: dict[str, Any]) -> ConversationReference:
        """The SDK's reference for this activity's conversation (the personal chat, or the channel)."""
        ref = activities.reach(raw) or ConversationRef(
            activities.PLATFORM,
            activities.user_key(raw),
            (raw.get("conversation") or {}).get("id"),
            data=activities.reference_data(raw),
        )
        return connector.reference(ref)

    def stop(self) -> None:
        self.work.wait_idle(5)
        self.work.shutdown()
        self.loop.stop()


def _just_text(reply: Reply) -> bool:
    """A reply that is only words (a private note, a stale button's message): shown to the clicker."""
    return not (reply.card or reply.buttons or reply.quote or reply.to_channel)


def _note(text: str) -> dict[str, Any]:
    """An invoke answer shown only to the clicker; the card stays as it was."""
    return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text}
