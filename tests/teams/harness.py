"""learnbot served over HTTP (`bot.serve`) with Teams pointed at `FakeConnector`: tests and the benchmark.

The helpers post the Activity JSON Teams sends: a personal message, a channel @mention, an
`adaptiveCard/action` invoke for a card's button (as Teams builds it from the card's
`Action.Execute`), and the `conversationUpdate` of an install.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from bot.app import open_bot
from bot.config import Settings
from bot.router import Router
from bot.serve import Served, start_in_thread
from tests.teams.fake_connector import FakeConnector

TENANT = "72f988bf-0000-4000-8000-000000000001"
BOT_ID = "28:learnbot-app-id"
LEARNER = "00000000-0000-4000-8000-00000000a001"
OTHER = "00000000-0000-4000-8000-00000000b002"
CHANNEL = "19:sales@thread.tacv2"
_ids = itertools.count(1)


def teams_settings(settings: Settings, **extra: Any) -> Settings:
    """Anonymous mode (local fakes only), unless `extra` says otherwise."""
    return settings.model_copy(update={"teams_allow_anonymous": True, **extra})


def member(aad: str, name: str, email: str | None) -> dict[str, Any]:
    """What the connector's member lookup answers for a person."""
    found = {"id": f"29:{aad}", "name": name, "aadObjectId": aad, "tenantId": TENANT, "userRole": "user"}
    if email:
        found |= {"email": email, "userPrincipalName": email}
    return found


def post_json(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw) if raw else None
        except ValueError:
            return exc.code, raw.decode()


@dataclass
class TeamsApp:
    """learnbot's server with Teams on, and helpers that send what Teams would."""

    fake: FakeConnector
    served: Served

    @classmethod
    def start(cls, settings: Settings, fake: FakeConnector) -> TeamsApp:
        return cls(fake, start_in_thread(settings, Router(open_bot(settings))))

    @property
    def url(self) -> str:
        return self.served.url + "/api/messages"

    @property
    def router(self) -> Router:
        return self.served.teams.router

    def stop(self) -> None:
        self.served.stop()
        self.router.bot.engine.dispose()

    def finish(self, timeout: float = 15.0) -> None:
        """Wait until every request sent so far has been handled (acknowledged, queued, answered)."""
        assert self.served.teams.work.wait_idle(timeout), f"still busy after {timeout} s"

    def send(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return post_json(self.url, activity, headers)

    def base(self, user: str, conversation: dict[str, Any], name: str = "Ana Learner") -> dict[str, Any]:
        return {
            "id": f"1700000000{next(_ids):06d}",
            "timestamp": "2026-11-30T09:00:00.000Z",
            "serviceUrl": self.fake.url,
            "channelId": "msteams",
            "from": {"id": f"29:{user}", "name": name, "aadObjectId": user},
            "recipient": {"id": BOT_ID, "name": "learnbot"},
            "conversation": {"tenantId": TENANT, **conversation},
            "channelData": {"tenant": {"id": TENANT}},
            "entities": [{"type": "clientInfo", "locale": "en-GB", "timezone": "Europe/London"}],
            "locale": "en-GB",
        }

    def personal(self, user: str) -> dict[str, Any]:
        return {"conversationType": "personal", "id": f"a:personal-{user}"}

    def dm(self, text: str, *, user: str = LEARNER, name: str = "Ana Learner") -> tuple[int, Any]:
        activity = {
            **self.base(user, self.personal(user), name),
            "type": "message",
            "text": text,
            "textFormat": "plain",
        }
        return self.send(activity)

    def mention(self, text: str, *, user: str = LEARNER, root: str = "1700000000999001") -> tuple[int, Any]:
        """An @mention of learnbot in a channel post (the post is the root of a reply chain)."""
        conversation = {"conversationType": "channel", "id": f"{CHANNEL};messageid={root}", "isGroup": True}
        activity = {
            **self.base(user, conversation),
            "type": "message",
            "text": f"<at>learnbot</at> {text}",
            "textFormat": "plain",
            "entities": [
                {
                    "type": "mention",
                    "text": "<at>learnbot</at>",
                    "mentioned": {"id": BOT_ID, "name": "learnbot"},
                }
            ],
            "channelData": {
                "tenant": {"id": TENANT},
                "teamsChannelId": CHANNEL,
                "teamsTeamId": "19:team@thread.tacv2",
                "channel": {"id": CHANNEL},
            },
        }
        activity["id"] = root
        return self.send(activity)

    def click(
        self,
        card: dict[str, Any] | None,
        label: str,
        *,
        user: str = LEARNER,
        conversation: dict[str, Any] | None = None,
        message_id: str = "activity-1",
    ) -> tuple[int, Any]:
        """Press the button with this label: the invoke Teams sends for its `Action.Execute`."""
        action = next(a for a in (card or {}).get("actions", []) if a.get("title") == label)
        return self.invoke(action, user=user, conversation=conversation, message_id=message_id)

    def invoke(
        self,
        action: dict[str, Any],
        *,
        user: str = LEARNER,
        conversation: dict[str, Any] | None = None,
        message_id: str = "activity-1",
    ) -> tuple[int, Any]:
        activity = {
            **self.base(user, conversation or self.personal(user)),
            "type": "invoke",
            "name": "adaptiveCard/action",
            "replyToId": message_id,
            "value": {
                "action": {"type": "Action.Execute", "verb": action.get("verb"), "data": action.get("data")},
                "trigger": "manual",
            },
        }
        return self.send(activity)

    def install(self, *, user: str = LEARNER) -> tuple[int, Any]:
        """learnbot added to a person's personal scope: `conversationUpdate` with the bot in membersAdded."""
        activity = {
            **self.base(user, self.personal(user)),
            "type": "conversationUpdate",
            "membersAdded": [{"id": BOT_ID}],
        }
        return self.send(activity)
