"""Slack: a Bolt app over the router, in HTTP mode (`learnbot serve`) or Socket Mode. It only translates.

Slack payloads become `Incoming` / `Action`; the router's `Reply` objects become Block Kit
(`slack_blocks`). Listeners ack at once and do the work after; duplicates are dropped by the
router on the event id (stored, so a restart does not answer twice); 429s are retried after
Retry-After a bounded number of times; a Slack error is logged and the person told.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.adapters import slack_blocks as kit
from bot.adapters import slack_campaigns
from bot.config import Settings
from bot.events import Action, Incoming, Reply, Role
from bot.router import Router

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
COMMAND = "/learn"
SHORTCUT = "find_lesson"
MAX_RATE_LIMIT_RETRIES = 3
PROFILE_TTL = 3600.0
LISTENER_THREADS = (
    8  # measured (benchmarks/slack_http.py): more threads fight over the GIL and DB pool, and acks slow first
)
SCOPES = [
    "app_mentions:read",
    "channels:history",
    "chat:write",
    "chat:write.public",
    "commands",
    "groups:history",
    "im:history",
    "im:write",
    "users:read",
    "users:read.email",
]
AUDIENCE: dict[str, str | None] = {"learner": "everyone", "manager": "manager", "admin": None}
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def _without_bot_mention(text: str, bot_user_id: str | None) -> str:
    """The message minus learnbot's own @mention; other people's mentions stay (e.g. `enrol @sam in …`)."""
    if not bot_user_id:
        return _MENTION.sub(" ", text, count=1).strip()
    own = re.compile(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>")
    return re.sub(r"\s+", " ", own.sub(" ", text)).strip()


SORRY = "Sorry, something went wrong on my side and I couldn't finish that. Please try again in a moment."
NOT_IN_CHANNEL = (
    "I couldn't post in <#{channel}> because I'm not a member. Invite me with `/invite @learnbot`."
)
SME_UNREACHABLE = (
    "I couldn't post in the experts channel (Slack said: {error}). "
    "Ask an admin to invite me there, or to set `channels.sme` to a channel I'm in."
)
BUSY = "Slack is rate-limiting me right now, so I couldn't reply. Please try again in a minute."
REFUSED = (
    "Slack refused my reply (it said: {error}). Please try again; if it keeps happening, tell your L&D admin."
)


def make_client(settings: Settings) -> WebClient:
    """The Web API client: our base URL (SLACK_API_URL), 429s retried after Retry-After, bounded."""
    return WebClient(
        token=None if settings.has_slack_oauth else settings.slack_bot_token,
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        retry_handlers=_retry_handlers(),
    )


def _retry_handlers() -> list[Any]:
    return [ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=MAX_RATE_LIMIT_RETRIES)]


def unescape(text: str) -> str:
    """Slack sends `&`, `<`, `>` as entities: turn them back before search and storage."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class Place:
    """Where replies go: a conversation and thread, or a response_url; and the clicked message, if any."""

    user: str
    channel: str | None
    thread_ts: str | None = None
    message_ts: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    response_url: str | None = None
    ephemeral: bool = False
    from_home: bool = False


class SlackAdapter:
    """One Bolt app whose listeners turn Slack payloads into router calls and replies into Block Kit."""

    def __init__(self, router: Router, settings: Settings, *, client: WebClient | None = None) -> None:
        self.router = router
        self.settings = settings
        self.client = client or make_client(settings)
        self._profiles: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.app = App(
            signing_secret=settings.slack_signing_secret or "",
            client=self.client,  # carries the bot token (none in multi-workspace mode)
            oauth_settings=self._oauth_settings() if settings.has_slack_oauth else None,
            listener_executor=ThreadPoolExecutor(
                max_workers=LISTENER_THREADS, thread_name_prefix="slack-listener"
            ),
            logger=logging.getLogger("learnbot.bolt"),
        )
        self._register()

    def _oauth_settings(self) -> OAuthSettings:
        from storage.slack_installations import installation_store, state_store

        engine, client_id = self.router.bot.engine, self.settings.slack_client_id or ""
        return OAuthSettings(
            client_id=client_id,
            client_secret=self.settings.slack_client_secret,
            scopes=SCOPES,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=installation_store(engine, client_id),
            state_store=state_store(engine),
        )

    def _register(self) -> None:
        app = self.app
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        app.command(COMMAND)(self.on_command)
        app.shortcut(SHORTCUT)(self.on_shortcut)
        app.action(re.compile(f"^{kit.ACTION_PREFIX}"))(self.on_button)
        app.action(kit.BROWSE_PILLAR_ACTION)(self.on_browse_pillar)
        app.action(re.compile(f"^{kit.OPEN_LINK_ACTION}"))(self.on_open_link)
        app.view(kit.BROWSE_CALLBACK)(self.on_browse_submit)
        slack_campaigns.register(self)  # the L&D admins' 'Announce a pathway' form

    # ---- who is asking -------------------------------------------------------------------------

    def _profile(self, client: WebClient, user: str) -> dict[str, Any]:
        """users.info, cached for an hour; a failure only costs the display name."""
        now = time.monotonic()
        with self._lock:
            cached = self._profiles.get(user)
        if cached and now - cached[0] < PROFILE_TTL:
            return cached[1]
        try:
            profile = client.users_info(user=user).get("user") or {}
        except SlackApiError as exc:
            log.warning("slack users.info failed for %s: %s", user, exc.response.get("error"))
            profile = {}
        with self._lock:
            self._profiles[user] = (now, profile)
        return profile

    def _who(self, client: WebClient, user: str) -> tuple[str | None, Role]:
        """Display name, and admin when app.yaml `admins` lists the user id or email."""
        profile = self._profile(client, user)
        email = (profile.get("profile") or {}).get("email")
        admins = set(self.router.bot.config.admins)
        role: Role = "admin" if user in admins or (email and email in admins) else "learner"
        name = (profile.get("profile") or {}).get("display_name") or profile.get("real_name") or None
        return name, role

    def _incoming(
        self, client: WebClient, *, user: str, text: str, channel: str, direct: bool, **extra: Any
    ) -> Incoming:
        name, role = self._who(client, user)
        zone = self._profile(client, user).get("tz")
        return Incoming(
            platform=PLATFORM,
            user_id=user,
            text=unescape(text),
            channel_id=channel,
            is_direct=direct,
            user_name=name,
            role=role,
            audience=AUDIENCE[role],
            user_timezone=zone if isinstance(zone, str) else None,
            **extra,
        )

    # ---- events: ack is Bolt's; the work runs after it -------------------------------------------

    def on_mention(
        self, body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
    ) -> None:
        """An @mention in a channel: answer in the thread (a new one under the message if needed)."""
        thread = event.get("thread_ts") or event["ts"]
        text = _without_bot_mention(event.get("text", ""), context.bot_user_id)
        place = Place(user=event["user"], channel=event["channel"], thread_ts=thread)
        incoming = self._incoming(
            client,
            user=event["user"],
            text=text,
            channel=event["channel"],
            direct=False,
            thread_id=thread,
            event_id=body.get("event_id"),
            raw=event,
        )
        self._answer(client, incoming, place)

    def on_message(
        self, body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
    ) -> None:
        """A DM to the bot; or, in a channel opted in to passive help, a message not addressed to it."""
        if (
            event.get("subtype") not in (None, "thread_broadcast")
            or event.get("bot_id")
            or "user" not in event
        ):
            return
        direct = event.get("channel_type") == "im"
        text = event.get("text", "")
        if not direct:
            passive = self.router.bot.config.slack.passive_help.channels
            mentioned = context.bot_user_id and f"<@{context.bot_user_id}" in text
            if event["channel"] not in passive or mentioned:
                return
        thread = event.get("thread_ts") if direct else event.get("thread_ts") or event["ts"]
        incoming = self._incoming(
            client,
            user=event["user"],
            text=text,
            channel=event["channel"],
            direct=direct,
            addressed=direct,
            thread_id=thread,
            event_id=body.get("event_id"),
            raw=event,
        )
        self._answer(client, incoming, Place(user=event["user"], channel=event["channel"], thread_ts=thread))

    def on_home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        """Publish a fresh Home tab each time it is opened, so it never shows stale progress."""
        if event.get("tab", "home") == "home":
            self._publish_home(client, event["user"])

    # ---- interactivity: ack first, then the work ----------------------------------------------

    def on_command(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """`/learn question` answers privately; `/learn` alone opens the browse modal."""
        ack()
        text, user = body.get("text", "").strip(), body["user_id"]
        if not text:
            self._open_browse(client, body["trigger_id"], user)
            return
        channel = body.get("channel_id", "")
        direct = body.get("channel_name") == "directmessage" or channel.startswith("D")
        incoming = self._incoming(client, user=user, text=text, channel=channel, direct=direct, raw=body)
        place = Place(user=user, channel=channel, response_url=body.get("response_url"), ephemeral=True)
        self._answer(client, incoming, place)

    def on_shortcut(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """'Find a lesson for this' on a message: a private answer in that message's thread."""
        ack()
        message, user = body.get("message", {}), body["user"]["id"]
        channel = body.get("channel", {}).get("id", "")
        thread = message.get("thread_ts") or message.get("ts")
        text = _MENTION.sub(" ", message.get("text", "")).strip()
        incoming = self._incoming(
            client, user=user, text=text, channel=channel, direct=False, thread_id=thread, raw=body
        )
        place = Place(
            user=user,
            channel=channel,
            thread_ts=thread,
            response_url=body.get("response_url"),
            ephemeral=True,
        )
        self._answer(client, incoming, place)

    def on_button(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """One of our buttons, on a message or the Home tab: the router decides, we render."""
        ack()
        clicked = body["actions"][0]
        user = body["user"]["id"]
        container = body.get("container", {})
        message = body.get("message") or {}
        from_home = container.get("type") == "view"
        channel = None if from_home else (body.get("channel") or {}).get("id") or container.get("channel_id")
        place = Place(
            user=user,
            channel=channel,
            thread_ts=message.get("thread_ts"),
            message_ts=None if from_home else container.get("message_ts") or message.get("ts"),
            blocks=message.get("blocks") or [],
            response_url=body.get("response_url"),
            ephemeral=bool(container.get("is_ephemeral")),
            from_home=from_home,
        )
        _, role = self._who(client, user)
        action = Action(
            platform=PLATFORM,
            user_id=user,
            name=kit.action_name(clicked["action_id"]),
            value=clicked.get("value", ""),
            channel_id=channel or "",
            message_id=place.message_ts,
            thread_id=place.thread_ts,
            role=role,
            raw=body,
        )
        label = (clicked.get("text") or {}).get("text", "")
        self._run(client, place, lambda: self.router.on_action(action), clicked_label=label)
        if from_home:
            self._publish_home(client, user)

    def on_open_link(self, ack: Ack) -> None:
        """Link buttons still send a click; Slack opens the URL itself."""
        ack()

    def on_browse_submit(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        """Search from the modal: the results replace the modal's content in the same response."""
        values = view.get("state", {}).get("values", {})
        query = (values.get("lb_query", {}).get("query", {}) or {}).get("value") or ""
        pillar = _metadata(view).get("pillar")
        _, role = self._who(client, body["user"]["id"])
        catalogue = self.router.browse(query=query, pillar=pillar, audience=AUDIENCE[role])
        ack(response_action="update", view=kit.browse_modal(catalogue))

    def on_browse_pillar(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """A pillar picked in the browse modal: the modal is updated in place with that pillar's lessons."""
        ack()
        view = body["view"]
        chosen = (body["actions"][0].get("selected_option") or {}).get("value")
        values = view.get("state", {}).get("values", {})
        query = (values.get("lb_query", {}).get("query", {}) or {}).get("value") or ""
        _, role = self._who(client, body["user"]["id"])
        catalogue = self.router.browse(
            query=query, pillar=None if chosen == "all" else chosen, audience=AUDIENCE[role]
        )
        try:
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=kit.browse_modal(catalogue))
        except SlackApiError as exc:
            log.warning("slack views.update failed for %s: %s", body["user"]["id"], exc.response.get("error"))

    # ---- doing the work and delivering --------------------------------------------------------

    def _answer(self, client: WebClient, incoming: Incoming, place: Place) -> None:
        self._run(client, place, lambda: self.router.on_message(incoming))

    def _run(self, client: WebClient, place: Place, work: Any, clicked_label: str = "") -> None:
        """Call the router and deliver its replies; any failure is logged and the person told."""
        try:
            replies = work()
        except Exception:
            log.exception("handling a Slack request from %s in %s failed", place.user, place.channel)
            self._tell(client, place, SORRY)
            return
        self.deliver(client, replies, place, clicked_label=clicked_label)

    def deliver(
        self, client: WebClient, replies: list[Reply], place: Place, *, clicked_label: str = ""
    ) -> None:
        """Post, update or send ephemerally each reply; failures are logged and explained to the person."""
        if place.from_home and replies:
            try:
                place = replace(place, channel=self._dm(client, place.user), from_home=False)
            except SlackApiError as exc:
                log.warning(
                    "slack conversations.open failed for %s: %s", place.user, exc.response.get("error")
                )
                return
        replaced = failed = False
        for reply in replies:
            try:
                if reply.to_channel:
                    if not self._post_elsewhere(client, reply, place):
                        failed = True
                        break  # the person was told why; what follows would claim it was sent
                elif reply.replace_message and (place.message_ts or place.ephemeral):
                    self._update(client, reply, place)
                    replaced = True
                else:
                    self._post(client, reply, place)
            except SlackApiError as exc:
                failed = True
                self._explain(client, place, exc, reply)
        if (
            replies
            and not (replaced or failed)
            and place.message_ts
            and not place.ephemeral
            and clicked_label
        ):
            try:
                client.chat_update(
                    channel=place.channel or "",
                    ts=place.message_ts,
                    blocks=kit.chosen(place.blocks, clicked_label),
                    text=kit.clip(kit.escape(clicked_label), 3000) or "learnbot",
                )
            except SlackApiError as exc:
                log.warning("slack chat.update failed in %s: %s", place.channel, exc.response.get("error"))

    def _post(self, client: WebClient, reply: Reply, place: Place) -> None:
        blocks, text = kit.reply_blocks(reply), kit.fallback_text(reply)
        if place.response_url and (place.ephemeral or reply.ephemeral):
            self._respond(place.response_url, text=text, blocks=blocks, response_type="ephemeral")
        elif reply.ephemeral or place.ephemeral:
            client.chat_postEphemeral(
                channel=place.channel or "",
                user=place.user,
                thread_ts=place.thread_ts,
                blocks=blocks,
                text=text,
            )
        else:
            client.chat_postMessage(
                channel=place.channel or "",
                thread_ts=place.thread_ts,
                blocks=blocks,
                text=text,
                unfurl_links=False,
                unfurl_media=False,
            )

    def _update(self, client: WebClient, reply: Reply, place: Place) -> None:
        blocks, text = kit.replace_buttons(place.blocks, reply), kit.fallback_text(reply)
        if place.ephemeral and place.response_url:
            self._respond(place.response_url, text=text, blocks=blocks, replace_original=True)
        else:
            client.chat_update(
                channel=place.channel or "", ts=place.message_ts or "", blocks=blocks, text=text
            )

    def _post_elsewhere(self, client: WebClient, reply: Reply, place: Place) -> bool:
        """A post in another channel (the experts'), with a permalink to the asker's thread if any."""
        permalink = None
        ref = reply.link_to
        if ref and ref.channel_id and not ref.channel_id.startswith("D") and ref.thread_id:
            try:
                permalink = client.chat_getPermalink(channel=ref.channel_id, message_ts=ref.thread_id)[
                    "permalink"
                ]
            except SlackApiError as exc:
                log.warning(
                    "slack chat.getPermalink failed in %s: %s", ref.channel_id, exc.response.get("error")
                )
        try:
            client.chat_postMessage(
                channel=reply.to_channel or "",
                blocks=kit.reply_blocks(reply, permalink=permalink),
                text=kit.fallback_text(reply),
                unfurl_links=False,
            )
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("slack chat.postMessage to %s failed: %s", reply.to_channel, error)
            self._tell(client, place, SME_UNREACHABLE.format(error=error))
            return False
        return True

    def _respond(self, url: str, **message: Any) -> None:
        response = WebhookClient(url, retry_handlers=_retry_handlers()).send(**message)
        if response.status_code != 200:
            raise SlackApiError(f"response_url answered {response.status_code}", {"error": response.body})

    def _dm(self, client: WebClient, user: str) -> str:
        return client.conversations_open(users=user)["channel"]["id"]

    def _explain(self, client: WebClient, place: Place, exc: SlackApiError, reply: Reply) -> None:
        """Log the failed call with its context, then tell the person what happened and what to do."""
        error = exc.response.get("error") if hasattr(exc.response, "get") else str(exc)
        status = getattr(exc.response, "status_code", None)
        log.warning(
            "slack delivery to %s (thread %s) failed: %s [%s]", place.channel, place.thread_ts, error, status
        )
        if status == 429 or error == "ratelimited":
            message = BUSY
        elif error in ("not_in_channel", "channel_not_found", "is_archived"):
            message = NOT_IN_CHANNEL.format(channel=place.channel)
        else:
            message = REFUSED.format(error=error)
        self._tell(client, replace(place, channel=None), message)

    def _tell(self, client: WebClient, place: Place, text: str) -> None:
        """Tell the person privately: via response_url, in the channel, else by DM; never raises."""
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        try:
            if place.response_url:
                self._respond(place.response_url, text=text, blocks=blocks, response_type="ephemeral")
                return
            if place.channel and not place.from_home:
                client.chat_postEphemeral(
                    channel=place.channel,
                    user=place.user,
                    thread_ts=place.thread_ts,
                    text=text,
                    blocks=blocks,
                )
                return
            client.chat_postMessage(channel=self._dm(client, place.user), text=text, blocks=blocks)
        except Exception as exc:  # noqa: BLE001 - the person cannot be reached; the log must say so
            log.error("could not tell %s about a problem (%s): %s", place.user, text[:60], exc)

    def _publish_home(self, client: WebClient, user: str) -> None:
        try:
            _, role = self._who(client, user)
            home = self.router.home(user, platform=PLATFORM, role=role)
            client.views_publish(user_id=user, view=kit.home_view(home))
        except SlackApiError as exc:
            log.warning("slack views.publish failed for %s: %s", user, exc.response.get("error"))
        except Exception:
            log.exception("building the Home tab for %s failed", user)

    def _open_browse(self, client: WebClient, trigger_id: str, user: str) -> None:
        _, role = self._who(client, user)
        try:
            catalogue = self.router.browse(audience=AUDIENCE[role])
            client.views_open(trigger_id=trigger_id, view=kit.browse_modal(catalogue))
        except SlackApiError as exc:
            log.warning("slack views.open failed for %s: %s", user, exc.response.get("error"))
            self._tell(
                client, Place(user=user, channel=None), REFUSED.format(error=exc.response.get("error"))
            )


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
