"""Teams over HTTP under load: time to the reply at the connector, with 50 concurrent activities.

The app under test runs in its own process (`learnbot serve` with TEAMS_ALLOW_ANONYMOUS=1, SQLite)
and its connector calls go to the fake connector in this process (tests/teams/fake_connector.py),
which notes when each reply arrives. Each message is a personal-chat question in its own
conversation, so its reply is matched by conversation id. The baseline in the same run is a bare
Agents SDK app (aiohttp, `start_agent_process`, an `AgentApplication` that echoes the text), so
the ratios show what learnbot's work costs (member lookup, dedupe, search, storage, the card).
Run: `python -m benchmarks.teams_http [--requests 500] [--concurrency 50]`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.slack_http import QUESTIONS, latency_table  # noqa: E402 - the same as Slack's
from tests.teams.fake_connector import FakeConnector  # noqa: E402

TENANT = "72f988bf-0000-4000-8000-000000000001"


@dataclass
class Result:
    """One variant's latencies (ms) and rates (per second)."""

    name: str
    ack_ms: list[float]
    reply_ms: list[float]
    acks_per_s: float
    replies_per_s: float
    missing: int


def _start(command: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    for _ in range(5):  # learnbot prints a line or two before the Teams one
        line = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/api/messages)", line)
        if match:
            return process, match.group(1)
    process.kill()
    raise SystemExit(f"the server did not start: {line!r}")


def _activity(n: int, tag: str, service_url: str) -> tuple[str, bytes]:
    user = f"00000000-0000-4000-8000-{n % 50:012d}"
    conversation = f"a:bench-{tag}-{n}"
    activity = {
        "type": "message",
        "id": f"{tag}-{n}",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": f"29:{user}", "name": f"Learner {n % 50}", "aadObjectId": user},
        "recipient": {"id": "28:learnbot", "name": "learnbot"},
        "conversation": {"conversationType": "personal", "id": conversation, "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
        "text": QUESTIONS[n % len(QUESTIONS)],
        "textFormat": "plain",
    }
    return conversation, json.dumps(activity).encode()


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _load(name: str, url: str, fake: FakeConnector, requests: int, concurrency: int, tag: str) -> Result:
    """Send `requests` messages, `concurrency` at a time; match each reply by its conversation."""
    sent: dict[str, float] = {}
    acks: list[float] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        conversation, body = _activity(n, tag, fake.url)
        started = time.monotonic()
        with lock:
            sent[conversation] = started
        status = _post(url, body)
        if status in (200, 202):
            with lock:
                acks.append((time.monotonic() - started) * 1000)

    fake.reset()
    tag = f"{tag}{uuid.uuid4().hex[:6]}"
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests)))
    acked = time.monotonic()
    deadline = time.monotonic() + 120
    arrived: dict[str, float] = {}
    while time.monotonic() < deadline:
        posts = [c for c in fake.posts() if c.conversation in sent]
        arrived = {c.conversation: c.at for c in posts}
        if len(arrived) >= requests:
            break
        time.sleep(0.05)
    reply_ms = [(arrived[c] - start) * 1000 for c, start in sent.items() if c in arrived]
    finished = max(arrived.values(), default=acked)
    return Result(
        name=name,
        ack_ms=acks,
        reply_ms=reply_ms,
        acks_per_s=requests / (acked - began),
        replies_per_s=len(reply_ms) / (finished - began),
        missing=requests - len(reply_ms),
    )


def serve_baseline() -> None:
    """The baseline: a bare Agents SDK app on aiohttp whose message handler echoes the text."""
    import asyncio

    from aiohttp import web
    from microsoft_agents.authentication.msal import MsalConnectionManager
    from microsoft_agents.hosting.aiohttp import (
        CloudAdapter,
        jwt_authorization_middleware,
        start_agent_process,
    )
    from microsoft_agents.hosting.core import (
        AgentApplication,
        AgentAuthConfiguration,
        MemoryStorage,
        TurnContext,
        TurnState,
    )

    config = AgentAuthConfiguration(anonymous_allowed=True, connection_name="SERVICE_CONNECTION")
    connections = MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": config})
    adapter = CloudAdapter(connection_manager=connections)
    agent = AgentApplication[TurnState](
        storage=MemoryStorage(), adapter=adapter, connection_manager=connections, start_typing_timer=False
    )

    @agent.activity("message")
    async def echo(context: TurnContext, state: TurnState) -> None:
        await context.send_activity(f"you said: {context.activity.text}")

    async def messages(request: web.Request) -> web.Response:
        return await start_agent_process(request, agent, adapter)

    async def run() -> None:
        app = web.Application(middlewares=[jwt_authorization_middleware])
        app["agent_configuration"] = config
        app.router.add_post("/api/messages", messages)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"listening on http://127.0.0.1:{port}/api/messages", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


def _write_config(folder: Path) -> Path:
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    for source in data["content_sources"]:
        source["path"] = str(ROOT / source["path"])
    path = folder / "app.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def format_table(results: list[Result], requests: int, concurrency: int) -> str:
    """A markdown table: latencies, rates, and learnbot's ratio to the baseline run alongside."""
    rows = [(r.name, r.ack_ms, r.reply_ms, r.acks_per_s, r.replies_per_s, r.missing) for r in results]
    lines = latency_table(rows, "reply", "replies", "no reply")
    lines += [
        "",
        f"{requests} personal-chat messages (own conversation each, 50 learners), {concurrency} concurrent, "
        "anonymous mode against the fake connector.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Prepare a SQLite library, run the baseline and learnbot against the fake connector, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        serve_baseline()
        return
    from bot.app import prepare
    from bot.config import Settings

    members = {
        f"29:00000000-0000-4000-8000-{n:012d}": {
            "id": f"29:00000000-0000-4000-8000-{n:012d}",
            "name": f"Learner {n}",
            "aadObjectId": f"00000000-0000-4000-8000-{n:012d}",
            "email": f"learner{n}@example.com",
        }
        for n in range(50)
    }
    with FakeConnector(members=members) as fake, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(data_dir=folder / "data", config_path=_write_config(folder))
        prepare(settings)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TEAMS_ALLOW_ANONYMOUS": "1",
            "LEARNBOT_CONFIG": str(settings.config_path),
            "LEARNBOT_DATA_DIR": str(settings.data_dir),
            "LEARNBOT_LOG_LEVEL": "WARNING",
        }
        for name in (
            "SLACK_BOT_TOKEN",
            "SLACK_SIGNING_SECRET",
            "SLACK_APP_TOKEN",
            "DATABASE_URL",
            "TEAMS_APP_ID",
        ):
            env.pop(name, None)
        variants = [
            (
                "bare Agents SDK echo (baseline)",
                [sys.executable, "-m", "benchmarks.teams_http", "--serve-baseline"],
            ),
            (
                "learnbot serve (SQLite)",
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"],
            ),
        ]
        results = []
        for n, (name, command) in enumerate(variants):
            process, url = _start(command, env, folder if n else ROOT)
            try:
                _load(name, url, fake, 20, 5, f"w{n}")  # warm up: imports, caches, connections
                results.append(_load(name, url, fake, args.requests, args.concurrency, f"{n + 1}"))
            finally:
                process.kill()
                process.wait()
        print(format_table(results, args.requests, args.concurrency))


if __name__ == "__main__":
    main()
