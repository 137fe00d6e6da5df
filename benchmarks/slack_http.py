"""Slack over HTTP under load: time to ack and to post the answer, with 50 concurrent signed requests.

The app under test runs in its own process (`learnbot serve`, SQLite) with its Web API calls
going to the fake Slack in this process, which notes when each answer arrives. The baseline in
the same run is a bare Bolt app on the same HTTP server whose listener posts a fixed reply, so
the ratios show what learnbot's work (profile lookup, dedupe, search, storage, Block Kit) costs.

Then the same two apps while Slack is slow (every Web API call and response_url takes
`--slow` seconds, 10 by default): a mix of mentions, slash commands and button clicks, 50 at a
time; what counts is the ack, which Slack wants within 3 seconds (it shows the person an error
and logs `404 unhandled request` otherwise). The baseline acks in its listener, as Bolt's
examples do, so its acks wait for a free listener thread; learnbot acks first and queues.
Run: `python -m benchmarks.slack_http [--requests 500] [--concurrency 50] [--slow 10]` (or `make bench`).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_slack import FakeSlack, event_body, form_body, payload_body, post, sign  # noqa: E402

SECRET = "bench-signing-secret"
ACK_TARGET_MS = 300.0
SLOW_METHODS = (
    "users.info",
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "conversations.open",
    "views.open",
    "views.update",
    "views.publish",
    "response_url",
)
QUESTIONS = [
    "how do I give feedback to a peer",
    "make a pivot table in excel",
    "share my outlook calendar",
    "how do I run a 1:1 with my report",
    "what is the guest wifi password",
    "how do I handle an angry customer",
    "automate a weekly report",
    "report a phishing email",
]


@dataclass
class Result:
    """One variant's latencies (ms) and rates (per second)."""

    name: str
    ack_ms: list[float]
    post_ms: list[float]
    acks_per_s: float
    answers_per_s: float
    missing: int


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _start(command: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/slack/events", line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, f"http://127.0.0.1:{match.group(1)}/slack/events"


def _load(name: str, url: str, fake: FakeSlack, requests: int, concurrency: int, tag: str) -> Result:
    """Send `requests` signed mentions, `concurrency` at a time; match each answer by its thread ts."""
    sent: dict[str, float] = {}
    acks: list[float] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        ts = f"{n:06d}.{tag}"
        event = {
            "type": "app_mention",
            "user": f"U{n % 50:04d}",
            "text": f"<@UBOT> {QUESTIONS[n % len(QUESTIONS)]}",
            "ts": ts,
            "channel": f"C{n % 10:04d}",
        }
        body = event_body(event, f"Ev-{tag}-{n}")
        headers = sign(SECRET, body)
        started = time.monotonic()
        with lock:
            sent[ts] = started
        status, _ = post(url, body, "application/json", headers)
        elapsed = (time.monotonic() - started) * 1000
        if status == 200:
            with lock:
                acks.append(elapsed)

    fake.reset()
    tag = f"{tag}{uuid.uuid4().hex[:6]}"  # event ids are stored: a rerun on one database must not repeat them
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests)))
    acked = time.monotonic()
    deadline = time.monotonic() + 120
    while True:  # only this run's answers count (a previous run's stragglers may still arrive)
        posts = fake.called("chat.postMessage")
        arrived = {c.params.get("thread_ts"): c.at for c in posts if c.params.get("thread_ts") in sent}
        if len(arrived) >= requests or time.monotonic() >= deadline:
            break
        fake.wait_for("chat.postMessage", len(posts) + 1, timeout=max(0.0, deadline - time.monotonic()))
    post_ms = [(arrived[ts] - start) * 1000 for ts, start in sent.items() if ts in arrived]
    finished = max(arrived.values(), default=acked)
    return Result(
        name=name,
        ack_ms=acks,
        post_ms=post_ms,
        acks_per_s=requests / (acked - began),
        answers_per_s=len(post_ms) / (finished - began),
        missing=requests - len(post_ms),
    )


@dataclass
class Acks:
    """One variant's acks while Slack is slow: latencies (ms) of the 200s, and what was not acked."""

    name: str
    ack_ms: list[float]
    failed: int
    requests: int


def _slow_request(n: int, tag: str) -> tuple[str, str]:
    """A mention, a slash command or a button click, in turn, each from a different person."""
    user, channel = f"U{tag}{n:05d}", f"C{n % 10:04d}"
    if n % 3 == 0:
        event = {"type": "app_mention", "user": user, "text": "<@UBOT> share my outlook calendar"}
        return event_body(event | {"ts": f"{n}.{tag}", "channel": channel}, f"Ev-slow-{tag}-{n}"), "json"
    if n % 3 == 1:
        fields = {
            "command": "/learn",
            "text": QUESTIONS[n % len(QUESTIONS)],
            "user_id": user,
            "channel_id": channel,
            "team_id": "T0001",
            "response_url": "http://127.0.0.1:9/never",  # replaced below with the fake's
            "trigger_id": f"t{n}",
        }
        return form_body(fields), "form"
    click = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": user},
        "container": {"type": "message", "message_ts": f"{n}.5", "channel_id": channel},
        "channel": {"id": channel},
        "message": {"ts": f"{n}.5", "blocks": []},
        "response_url": "http://127.0.0.1:9/never",
        "actions": [{"type": "button", "action_id": "lb:helpful:0", "value": "1|give-peer-feedback"}],
    }
    return payload_body(click), "form"


def _load_slow(name: str, url: str, fake: FakeSlack, requests: int, concurrency: int, tag: str) -> Acks:
    """Send the mix `concurrency` at a time while every Slack call is slow; time each ack."""
    acks: list[float] = []
    lock = threading.Lock()
    respond = fake.response_url("slow")

    def one(n: int) -> None:
        body, kind = _slow_request(n, tag)
        body = body.replace(
            "http%3A%2F%2F127.0.0.1%3A9%2Fnever", respond.replace(":", "%3A").replace("/", "%2F")
        )
        content_type = "application/json" if kind == "json" else "application/x-www-form-urlencoded"
        started = time.monotonic()
        status, _ = post(url, body, content_type, sign(SECRET, body))
        if status == 200:
            with lock:
                acks.append((time.monotonic() - started) * 1000)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests)))
    return Acks(name, acks, requests - len(acks), requests)


def format_slow_table(results: list[Acks], concurrency: int, slow: float) -> str:
    """A markdown table: ack latencies while Slack is slow, and how many were not acked in time."""
    lines = [
        f"| app, Slack answering in {slow:.0f} s | ack p50 ms | ack p99 ms | not acked (404 after 3 s) |",
        "|---|---|---|---|",
    ]
    for r in results:
        p50, p99 = _pct(r.ack_ms, 50), _pct(r.ack_ms, 99)
        lines.append(f"| {r.name} | {p50:.1f} | {p99:.1f} | {r.failed} of {r.requests} |")
    lines += [
        "",
        f"{results[0].requests} signed requests (mentions, /learn, button clicks in turn),"
        f" {concurrency} concurrent, every Web API call and response_url answered after {slow:.0f} s.",
    ]
    for r in results[1:]:
        ok = r.failed == 0 and _pct(r.ack_ms, 99) <= ACK_TARGET_MS
        lines.append(
            f"{r.name}: target ack p99 ≤ {ACK_TARGET_MS:.0f} ms, all acked: {'met' if ok else 'NOT met'}."
        )
    return "\n".join(lines)


def _write_config(folder: Path) -> Path:
    data = yaml.safe_load((ROOT / "app.yaml").read_text())
    for source in data["content_sources"]:
        source["path"] = str(ROOT / source["path"])
    path = folder / "app.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def serve_baseline() -> None:
    """The baseline server: a bare Bolt app, same HTTP server, a listener that posts a fixed reply."""
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from bot.adapters.slack.guard import guarded
    from bot.adapters.slack.server import HttpServer

    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)

    @app.event("app_mention")
    def reply(event: dict, client: WebClient) -> None:
        client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="ok")

    @app.command("/learn")
    def command(ack: Ack, body: dict, client: WebClient) -> None:  # ack in the listener, as Bolt's examples
        ack()
        client.chat_postMessage(channel=body["channel_id"], text="ok")

    @app.action(re.compile("^lb:"))
    def click(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="ok")

    handler = SlackRequestHandler(app, path="/slack/events")
    server = HttpServer(guarded(handler, os.environ["SLACK_SIGNING_SECRET"]), "127.0.0.1", 0)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/slack/events", flush=True)
    server.serve_forever()


Row = tuple[str, list[float], list[float], float, float, int]  # name, acks, replies (ms), both rates, missing


def latency_table(rows: list[Row], reply: str, replies: str, missing: str) -> list[str]:
    """Markdown lines: each variant's ack and reply latencies and rates, then each later variant's
    ratio to the first (the baseline run alongside). `reply`, `replies`, `missing` name the columns."""
    lines = [
        f"| app | ack p50 ms | ack p99 ms | {reply} p50 ms | {reply} p99 ms | acks/s | {replies}/s "
        f"| {missing} |",
        "|" + "---|" * 8,
    ]
    for name, acks, done, ack_rate, done_rate, lost in rows:
        lines.append(
            f"| {name} | {_pct(acks, 50):.1f} | {_pct(acks, 99):.1f} | {_pct(done, 50):.1f} "
            f"| {_pct(done, 99):.1f} | {ack_rate:.0f} | {done_rate:.0f} | {lost} |"
        )
    _, base_acks, base_done, base_ack_rate, base_done_rate, _ = rows[0]
    for name, acks, done, ack_rate, done_rate, _ in rows[1:]:
        ratio = [
            _pct(acks, 50) / _pct(base_acks, 50),
            _pct(acks, 99) / _pct(base_acks, 99),
            _pct(done, 50) / _pct(base_done, 50),
            _pct(done, 99) / _pct(base_done, 99),
            ack_rate / base_ack_rate,
            done_rate / base_done_rate,
        ]
        lines.append(f"| ratio {name} / baseline | " + " | ".join(f"{x:.2f}x" for x in ratio) + " | |")
    return lines


def format_table(results: list[Result], requests: int, concurrency: int) -> str:
    """A markdown table: latencies, rates, and learnbot's ratio to the baseline run alongside."""
    rows = [(r.name, r.ack_ms, r.post_ms, r.acks_per_s, r.answers_per_s, r.missing) for r in results]
    lines = latency_table(rows, "post", "answers", "unanswered")
    lines += ["", f"{requests} signed app_mention requests, {concurrency} concurrent."]
    for ours in results[1:]:
        met = "met" if _pct(ours.ack_ms, 99) <= ACK_TARGET_MS else "NOT met"
        lines.append(f"{ours.name}: target ack p99 ≤ {ACK_TARGET_MS:.0f} ms {met}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Prepare a SQLite library, run the baseline and learnbot against the fake Slack, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--database-url", help="also run learnbot on this PostgreSQL database (it is indexed)"
    )
    parser.add_argument("--slow", type=float, default=10.0, help="seconds per Slack call in the slow run")
    parser.add_argument("--slow-requests", type=int, default=200, help="requests in the slow run")
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        serve_baseline()
        return
    from bot.app import prepare
    from bot.config import Settings

    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(data_dir=folder / "data", config_path=_write_config(folder))
        prepare(settings)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.url,
            "LEARNBOT_CONFIG": str(settings.config_path),
            "LEARNBOT_DATA_DIR": str(settings.data_dir),
            "LEARNBOT_LOG_LEVEL": "WARNING",
        }
        env.pop("SLACK_APP_TOKEN", None)
        env.pop("DATABASE_URL", None)
        serve = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"]
        variants: list[tuple[str, list[str], dict[str, str]]] = [
            (
                "bare Bolt, fixed reply (baseline)",
                [sys.executable, "-m", "benchmarks.slack_http", "--serve-baseline"],
                env,
            ),
            ("learnbot serve (SQLite)", serve, env),
        ]
        if args.database_url:
            prepare(settings.model_copy(update={"database_url": args.database_url}))
            variants.append(
                ("learnbot serve (PostgreSQL)", serve, {**env, "DATABASE_URL": args.database_url})
            )
        results, slow = [], []
        for n, (name, command, variant_env) in enumerate(variants):
            process, url = _start(command, variant_env, folder if n else ROOT)
            try:
                _load(name, url, fake, 20, 5, f"w{n}")  # warm up: imports, caches, connections
                results.append(_load(name, url, fake, args.requests, args.concurrency, f"{n + 1}"))
                for method in SLOW_METHODS:
                    fake.slow(method, args.slow)
                named = name.replace("fixed reply", "acks in its listeners")
                slow.append(_load_slow(named, url, fake, args.slow_requests, args.concurrency, f"s{n}"))
            finally:
                for method in SLOW_METHODS:
                    fake.slow(method, 0.0)
                process.kill()  # its queued work would wait for the slow fake for minutes
                process.wait(timeout=10)
    print(format_table(results, args.requests, args.concurrency))
    print()
    print(format_slow_table(slow, args.concurrency, args.slow))


if __name__ == "__main__":
    main()
