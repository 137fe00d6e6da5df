"""A real Learning Record Store for tests: ralph's LRS server (file backend) in a virtual environment.

ralph-malph's LRS pins (click, fastapi, uvicorn…) clash with ours, so it lives in a venv under
the test cache (`.learnbot-test/ralph-venv`, or $LEARNBOT_TEST_CACHE), made once with pip and
reused while its requirement line is unchanged. The server is started on a free port with basic
auth, and tests wait for its heartbeat, never a fixed time. Without it the tests skip with the
reason, except under CI=true, where they fail. `DroppingProxy` sits in front of it to lose the
response to a POST that did reach the LRS (the retry case).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ralph 5.1.0's LRS imports `requests` (for OIDC auth) without declaring it: installed beside it.
REQUIREMENTS = ["ralph-malph[lrs,cli]==5.1.0", "requests>=2.31,<3"]
KEY, SECRET = "learnbot-test", "lrs-test-secret"
START_SECONDS = 60.0
# ralph's app as `ralph runserver -b fs` serves it (uvicorn, settings from RALPH_* variables), with one
# fix: ralph 5.1.0's file backend writes each POST with "create", which refuses an existing file, so
# every POST after the first answered 500; appending is what an LRS file store needs.
SHIM = """\
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

from ralph.api import app  # noqa: E402
"""


class LrsUnavailable(Exception):
    """The LRS could not be installed or started; the message says which step failed and why."""


def cache_dir() -> Path:
    return Path(os.environ.get("LEARNBOT_TEST_CACHE") or ROOT / ".learnbot-test")


def ralph_venv() -> Path:
    """The venv with ralph's LRS (made on first use, in well under two minutes with a warm pip cache)."""
    venv = cache_dir() / "ralph-venv"
    stamp = venv / ".learnbot-requirements"
    wanted = "\n".join(REQUIREMENTS)
    ralph = venv / "bin" / "ralph"
    if ralph.exists() and stamp.exists() and stamp.read_text() == wanted:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + REQUIREMENTS,
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LrsUnavailable(f"{' '.join(step[:4])}: {exc}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise LrsUnavailable(f"{' '.join(step[:4])} failed: {' | '.join(tail)}")
    stamp.write_text(wanted)
    return venv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Lrs:
    """A running ralph LRS: its xAPI endpoint, credentials and the file its statements are stored in."""

    endpoint: str
    key: str
    secret: str
    store: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stored_ids(self) -> list[str]:
        """Every statement id in the LRS's own file, once per stored copy (duplicates would repeat)."""
        if not self.store.exists():
            return []
        lines = self.store.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["id"] for line in lines if line.strip()]

    def get(self, statement_id: str) -> dict[str, Any]:
        """One statement back through the xAPI statements resource."""
        request = urllib.request.Request(
            f"{self.endpoint}/statements?statementId={statement_id}",
            headers={"Authorization": basic(self.key, self.secret), "X-Experience-API-Version": "1.0.3"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        # xAPI answers a statementId query with the statement; ralph 5.1.0 wraps it in a StatementResult
        found = body.get("statements", [body]) if isinstance(body, dict) else []
        [statement] = [s for s in found if s.get("id") == statement_id]
        return dict(statement)


def basic(key: str, secret: str) -> str:
    return "Basic " + b64encode(f"{key}:{secret}".encode()).decode()


def start_lrs(folder: Path) -> Lrs:
    """Install (once) and start ralph's LRS with the file backend in `folder`; wait until it answers."""
    venv = ralph_venv()
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "RALPH_APP_DIR": str(folder / "app"),
        "RALPH_AUTH_FILE": str(folder / "auth.json"),
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_RUNSERVER_MAX_SEARCH_HITS_COUNT": "1000",
    }
    ralph = str(venv / "bin" / "ralph")
    auth = [ralph, "auth", "-u", KEY, "-p", SECRET, "-s", "all", "-M", "mailto:lrs-test@learnbot.example"]
    made = subprocess.run(auth + ["-w"], env=env, cwd=folder, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise LrsUnavailable(f"ralph auth failed: {made.stderr.strip().splitlines()[-1:]}")
    port = free_port()
    data = folder / "data"
    log = folder / "lrs.log"
    (folder / "learnbot_lrs.py").write_text(SHIM)
    env["RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH"] = str(data)
    command = [str(venv / "bin" / "python"), "-m", "uvicorn", "learnbot_lrs:app", "--no-access-log"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command + ["--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=out,
            stderr=out,
        )
    lrs = Lrs(f"http://127.0.0.1:{port}/xAPI", KEY, SECRET, data / "fs_lrs.jsonl", process, log)
    deadline = time.monotonic() + START_SECONDS
    while True:  # wait for the heartbeat (or the process to die), never a fixed time
        if process.poll() is not None:
            raise LrsUnavailable(f"ralph runserver exited ({process.returncode}): {log.read_text()[-500:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/__heartbeat__", timeout=2) as answer:
                if answer.status == 200:
                    return lrs
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            stop(lrs)
            raise LrsUnavailable(f"ralph's LRS did not answer within {START_SECONDS:g}s")
        time.sleep(0.1)


def stop(lrs: Lrs) -> None:
    lrs.process.terminate()
    try:
        lrs.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        lrs.process.kill()
        lrs.process.wait(timeout=10)


@pytest.fixture(scope="module")
def lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lrs]:
    """ralph's LRS for this module's tests (skips with the reason when it cannot run; fails under CI=true)."""
    try:
        server = start_lrs(tmp_path_factory.mktemp("lrs"))
    except LrsUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the real LRS tests to run: {exc}")
        pytest.skip(f"no LRS to test against: {exc}")
    try:
        yield server
    finally:
        stop(server)


@dataclass
class DroppingProxy:
    """An HTTP proxy to the LRS that forwards every request and, for the first `drop` POSTs, closes the
    connection instead of passing the LRS's answer back: the statements arrived, the sender never heard.
    With `busy`, it first plays an LRS that is rate-limiting."""

    target: str  # e.g. http://127.0.0.1:8100
    drop: int = 1
    busy: int = 0  # the first `busy` POSTs are answered 429 (Retry-After: 7) without reaching the LRS
    posts: list[int] = field(default_factory=list)  # the LRS's status for each POST forwarded
    server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        proxy = self
        host, _, port = self.target.removeprefix("http://").partition(":")

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if method == "POST" and proxy.busy > 0:
                    proxy.busy -= 1
                    self.send_response(429)
                    self.send_header("Retry-After", "7")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                upstream = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(method, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                content = answer.read()
                upstream.close()
                if method == "POST":
                    proxy.posts.append(answer.status)
                    if len(proxy.posts) <= proxy.drop:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)  # the answer is lost on the way back
                        return
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self._forward("POST")

            def do_GET(self) -> None:  # noqa: N802
                self._forward("GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
