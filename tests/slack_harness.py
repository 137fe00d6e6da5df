"""learnbot's real Bolt app on a local port, talking to `FakeSlack`: for tests and the benchmark."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from bot.adapters.slack import SlackAdapter, Work
from bot.adapters.slack.server import serve_in_thread
from bot.app import open_bot
from bot.config import Settings
from bot.router import Router
from tests.fake_slack import (
    BOT_USER,
    TEAM,
    FakeSlack,
    event_body,
    form_body,
    payload_body,
    post,
    sign,
)

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


def slack_settings(settings: Settings, fake: FakeSlack, **extra: Any) -> Settings:
    """Settings for a single-workspace app whose Web API calls go to the fake."""
    updates = {"slack_bot_token": TOKEN, "slack_signing_secret": SECRET, "slack_api_url": fake.url, **extra}
    return settings.model_copy(update=updates)


@dataclass
class SlackApp:
    """The adapter served over HTTP, and helpers that send it what Slack would, signed."""

    fake: FakeSlack
    adapter: SlackAdapter
    url: str
    server: Any

    @classmethod
    def start(cls, settings: Settings, fake: FakeSlack, work: Work | None = None) -> SlackApp:
        adapter = SlackAdapter(Router(open_bot(settings)), settings, work=work)
        server = serve_in_thread(adapter)
        host, port = server.server_address[:2]
        return cls(fake, adapter, f"http://{host}:{port}", server)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.adapter.work.wait_idle(5)
        self.adapter.work.shutdown()
        self.adapter.router.bot.engine.dispose()

    def finish(self, timeout: float = 15.0) -> None:
        """Wait until the app has finished handling every request sent so far (acked, queued, done)."""
        assert self.adapter.work.wait_idle(timeout), "the app was still busy after {timeout} s"

    def send(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str, float]:
        """POST to /slack/events, signed unless headers say otherwise; returns status, body, seconds."""
        started = time.perf_counter()
        status, text = post(
            self.url + "/slack/events",
            body,
            content_type,
            headers if headers is not None else sign(SECRET, body),
        )
        return status, text, time.perf_counter() - started

    def event(self, event: dict[str, Any], event_id: str, retry: int | None = None) -> int:
        body = event_body(event, event_id)
        headers = sign(SECRET, body)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.send(body, "application/json", headers)[0]

    def mention(
        self, text: str, *, user: str = "U0LEARNER", channel: str = "C0SALES", ts: str, event_id: str
    ) -> int:
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER}> {text}",
            "ts": ts,
            "channel": channel,
        }
        return self.event(event, event_id)

    def dm(self, text: str, *, user: str = "U0LEARNER", ts: str = "1.0001", event_id: str) -> int:
        event = {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": ts,
            "channel": "D0DM",
        }
        return self.event(event, event_id)

    def command(
        self, text: str, *, user: str = "U0LEARNER", channel: str = "C0SALES"
    ) -> tuple[int, str, float]:
        fields = {
            "command": "/learn",
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "channel_name": "sales",
            "team_id": TEAM,
            "response_url": self.fake.response_url("command"),
            "trigger_id": "trigger-1",
        }
        return self.send(form_body(fields), "application/x-www-form-urlencoded")

    def interact(self, payload: dict[str, Any]) -> tuple[int, str, float]:
        payload = {"team": {"id": TEAM}, "api_app_id": "A0001", "token": "unused", **payload}
        return self.send(payload_body(payload), "application/x-www-form-urlencoded")

    def click(
        self, message: dict[str, Any], label: str, *, user: str = "U0LEARNER", channel: str = "C0SALES"
    ):
        """Press the button with this label on a message the fake recorded (as Slack echoes it back)."""
        elements = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
        button = next(e for e in elements if e["text"]["text"] == label)
        ts = message.get("ts", "1700000000.000001")
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "trigger_id": "trigger-2",
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel},
            "message": {"ts": ts, "thread_ts": message.get("thread_ts"), "blocks": message["blocks"]},
            "response_url": self.fake.response_url("click"),
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "lb_actions_0",
                    "value": button["value"],
                    "text": button["text"],
                }
            ],
        }
        return self.interact(payload)


def posted_message(call: Any) -> dict[str, Any]:
    """A chat.postMessage call as the message Slack would store (ts from the fake's numbering)."""
    return {
        "blocks": call.params["blocks"],
        "thread_ts": call.params.get("thread_ts"),
        "ts": call.response.get("ts"),
    }


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text in some blocks, one line each: what a person would read."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


def dump(value: Any) -> str:
    return json.dumps(value, indent=1)


def rows(app: SlackApp, model: type) -> list:
    with app.adapter.router.bot.session() as session:
        return list(session.exec(select(model)))


def buttons(blocks: list[dict]) -> list[str]:
    return [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
