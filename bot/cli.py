"""The `learnbot` command: index content, ask, chat, migrate and evaluate search.

Every command reads app.yaml (`--config`, or LEARNBOT_CONFIG) and secrets from the
environment or `.env`. A bad app.yaml or an old database stops the command with exit
code 2 and a message saying what to fix, before anything is written.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, SettingsError, load_settings
from storage.db import DatabaseError

EXIT_USAGE = 2
log = logging.getLogger("learnbot")


class DataDirError(Exception):
    """The data directory cannot hold learnbot's files; the message names the path and why."""


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    updates = {}
    if args.config:
        updates["config_path"] = Path(args.config)
    if args.data_dir:
        updates["data_dir"] = Path(args.data_dir)
    settings = settings.model_copy(update=updates)
    if not settings.database_url:
        _check_data_dir(settings.data_dir)
    return settings


def _check_data_dir(path: Path) -> None:
    """The SQLite database and the log live here: it must be (or become) a writable folder."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".learnbot-write-check"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise DataDirError(
            f"cannot use the data directory {str(path)!r} ({why}); choose another with --data-dir"
        ) from None


def _log_to_file(settings: Settings) -> None:
    """Logs go to a file under the data directory, never into the chat on the terminal."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.data_dir / "learnbot.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Create or migrate the database schema to the latest revision."""
    from storage.db import make_engine, upgrade

    settings = _settings(args)
    engine = make_engine(settings.db_url)
    revision = upgrade(engine)
    print(f"database at revision {revision} ({engine.url.render_as_string(hide_password=True)})")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    """Read every content source in app.yaml and update storage incrementally."""
    from bot.app import prepare

    summary = prepare(_settings(args), progress=not args.no_progress)
    for problem in summary.problems:
        print(f"error: {problem}", file=sys.stderr)
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"indexed: {summary.line()}")
    return 1 if args.strict and summary.problems else 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question as learnbot would, then list the top results with their scores."""
    from bot.access import identify_caller
    from bot.adapters.console import PERSONAS, PLATFORM, render_card
    from bot.app import open_bot
    from bot.events import Who
    from content_index.answering import decide
    from content_index.cards import card_for
    from content_index.search import Filters, search
    from storage.content import get_content

    bot = open_bot(_settings(args))
    persona = PERSONAS[args.persona]
    who = Who(PLATFORM, persona.user_id, name=persona.name, email=persona.email)
    with bot.session() as session:
        audience = identify_caller(session=session, config=bot.config, who=who, now=bot.clock.now()).audience
    filters = Filters(audience=audience)
    alternatives = bot.config.search.alternatives
    decision = decide(
        bot.index, args.question, filters=filters, alternatives=alternatives, threshold=bot.threshold
    )
    hits = search(bot.index, decision.question, filters=filters, k=args.k) if decision.question else []
    with bot.session() as session:
        if decision.kind == "answer":
            item = get_content(session=session, content_id=decision.hits[0].id)
            assert item is not None
            card = card_for(
                item, pillar_name=bot.pillar_names.get(item.pillar or ""), confidence=decision.confidence
            )
            print("\n".join(render_card(card)))
        elif decision.kind == "not_sure":
            titles = [
                getattr(get_content(session=session, content_id=h.id), "title", h.id) for h in decision.hits
            ]
            print("Not sure - is it one of these? " + " | ".join(titles))
        elif decision.kind == "small_talk":
            print(decision.reply)
        else:
            print("No lesson for that yet (it would be logged as a content gap).")
        print(
            f"\ntop {len(hits)} (answer at confidence {bot.threshold:.2f}; the answer never depends on -k):"
        )
        for rank, hit in enumerate(hits, start=1):
            item = get_content(session=session, content_id=hit.id)
            title = item.title if item else hit.id
            print(f"{rank:>3}. {hit.score:8.3f}  conf {hit.confidence:.2f}  {hit.id}  {title}")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """Chat with learnbot in the terminal, as a learner, a manager or an L&D admin."""
    from bot.adapters.console import PERSONAS, ConsoleChat
    from bot.app import open_bot
    from bot.router import Router

    settings = _settings(args)
    _log_to_file(settings)
    chat = ConsoleChat(Router(open_bot(settings)))
    chat.persona = PERSONAS[args.persona]
    return chat.run()


def cmd_eval(args: argparse.Namespace) -> int:
    """Score search on labelled questions: Recall@1, Recall@5, MRR@10 and latency."""
    from bot.app import open_bot
    from content_index.answering import ANSWER_THRESHOLD
    from content_index.evaluation import (
        evaluate,
        format_sweep,
        load_jsonl_corpus,
        load_queries,
        threshold_sweep,
    )
    from content_index.library import SemanticUnavailable, evaluation_tiers, library_documents

    queries = load_queries(Path(args.queries))
    settings = _settings(args)
    try:
        if args.corpus:
            documents, threshold = load_jsonl_corpus(Path(args.corpus)), ANSWER_THRESHOLD
            tiers = evaluation_tiers(documents, data_dir=settings.data_dir, tier=args.tier)
        else:
            bot = open_bot(settings)
            with bot.session() as session:
                documents = library_documents(session=session, pillar_names=bot.pillar_names)
            threshold = bot.threshold
            tiers = evaluation_tiers(documents, bot.config.search, data_dir=settings.data_dir, tier=args.tier)
    except SemanticUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    threshold = threshold if args.threshold is None else args.threshold
    reports = {name: evaluate(index, queries, threshold=threshold) for name, index in tiers.items()}
    bot_tier = next(iter(reports))  # what the bot answers with: the hybrid when installed
    if args.json:  # what the bot answers with at the top level, every tier under "tiers"
        combined: dict[str, object] = {"answers_with": bot_tier, **reports[bot_tier].as_dict()}
        combined["tiers"] = {name: report.as_dict() for name, report in reports.items()}
        print(json.dumps(combined))
        return 0
    print(side_by_side(reports, bot_tier))
    if args.sweep:
        for name in reports:
            rows = threshold_sweep(tiers[name], queries, [t / 20 for t in range(2, 19)])
            print(f"\n## {name}: answer rate and precision by threshold\n{format_sweep(rows)}")
    if "semantic" not in reports and args.tier == "both":
        print("\n(semantic tier not installed or switched off: see README, 'Search')")
    return 0


def side_by_side(reports: dict[str, Any], bot_tier: str) -> str:
    """One column per tier, one metric a line; the column the bot answers with is marked."""
    from content_index.evaluation import EvalReport

    names = list(reports)
    labels = EvalReport.labels()
    width = max(len(label) for label in labels.values())
    heads = [f"{name}{' (answers)' if name == bot_tier else ''}" for name in names]
    cells = [max(len(h), 8) for h in heads]
    lines = [f"{'metric':<{width}}  " + "  ".join(f"{h:>{c}}" for h, c in zip(heads, cells, strict=True))]
    lines.append(f"{'-' * width}  " + "  ".join("-" * c for c in cells))
    for key, label in labels.items():
        values = [reports[name].as_dict()[key] for name in names]
        shown = [str(v) if isinstance(v, int) else f"{v:.3f}" for v in values]
        lines.append(
            f"{label:<{width}}  " + "  ".join(f"{v:>{c}}" for v, c in zip(shown, cells, strict=True))
        )
    return "\n".join(lines)


def _slack_problems(settings: Settings, socket_mode: bool) -> list[str]:
    """What is missing from the environment for the chosen mode, by variable name (never the values)."""
    if socket_mode:
        return (
            []
            if settings.slack_bot_token
            else ["SLACK_BOT_TOKEN is not set (Socket Mode needs the bot token)"]
        )
    problems = []
    if not settings.slack_signing_secret:
        problems.append("SLACK_SIGNING_SECRET is not set (every request's signature is checked with it)")
    if not settings.has_slack:
        problems.append(
            "set SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for multi-workspace install"
        )
    return problems


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the bot: Slack over HTTP at /slack/events on --port (or Socket Mode when SLACK_APP_TOKEN is set),
    and Teams at /api/messages on the same port when TEAMS_APP_ID or TEAMS_ALLOW_ANONYMOUS is set."""
    from bot.serve import serve, teams_problems

    settings = _settings(args)
    socket_mode = bool(settings.slack_app_token) and not args.http
    teams = settings.has_teams or bool(settings.teams_app_id)
    # Without Teams, Slack is required; with it, Slack is checked only when some of it is set.
    slack_set = settings.has_slack or settings.slack_signing_secret or settings.slack_app_token
    for problems, section in (
        (_slack_problems(settings, socket_mode) if slack_set or not teams else [], "Install in Slack"),
        (teams_problems(settings), "Install in Teams"),
    ):
        if problems:
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            print(f"see README, '{section}'", file=sys.stderr)
            return EXIT_USAGE
    return serve(settings, host=args.host, port=args.port, nudges=not args.no_nudges, socket_mode=socket_mode)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learnbot",
        description="In-workflow learning chatbot: answers questions with the best micro-lesson.",
    )
    parser.add_argument("--config", help="path to app.yaml (default: $LEARNBOT_CONFIG or ./app.yaml)")
    parser.add_argument("--data-dir", help="where the SQLite database and logs live (default: .learnbot)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="database schema commands")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", help=cmd_db_upgrade.__doc__).set_defaults(func=cmd_db_upgrade)

    index = commands.add_parser("index", help=cmd_index.__doc__, description=cmd_index.__doc__)
    index.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    index.add_argument("--strict", action="store_true", help="exit 1 when any file had a problem")
    index.set_defaults(func=cmd_index)

    ask = commands.add_parser("ask", help=cmd_ask.__doc__, description=cmd_ask.__doc__)
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument(
        "--as",
        dest="persona",
        choices=["learner", "manager", "admin"],
        default="admin",
        help="whose view of the library to search (default: admin, who sees everything)",
    )
    ask.add_argument("-k", type=int, default=5, help="how many results to list (default 5)")
    ask.set_defaults(func=cmd_ask)

    chat = commands.add_parser("chat", help=cmd_chat.__doc__, description=cmd_chat.__doc__)
    chat.add_argument(
        "--as",
        dest="persona",
        choices=["learner", "manager", "admin"],
        default="learner",
        help="who you are at the start (switch with /as in the chat)",
    )
    chat.set_defaults(func=cmd_chat)

    serve = commands.add_parser("serve", help=cmd_serve.__doc__, description=cmd_serve.__doc__)
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.add_argument("--http", action="store_true", help="use HTTP even when SLACK_APP_TOKEN is set")
    serve.add_argument(
        "--no-nudges", action="store_true", help="don't run the nudge scheduler in this process"
    )
    serve.set_defaults(func=cmd_serve)

    ev = commands.add_parser("eval", help=cmd_eval.__doc__, description=cmd_eval.__doc__)
    ev.add_argument("--corpus", help='JSONL of {"id", "title", "body"} items (default: the indexed library)')
    ev.add_argument("--queries", required=True, help='JSONL of {"id", "text", "relevant": [ids]} questions')
    ev.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ev.add_argument("--threshold", type=float, help="answer threshold for the answer-rate figures")
    ev.add_argument("--sweep", action="store_true", help="also show answer rate and precision per threshold")
    ev.add_argument(
        "--tier",
        choices=("both", "lexical", "semantic"),
        default="both",
        help="which search to score (default both: lexical, and semantic when its extra is installed)",
    )
    ev.set_defaults(func=cmd_eval)

    from bot.nudge_commands import add_commands  # tick, dispatch, nudges status|run

    add_commands(commands, _settings)
    from bot.report_commands import add_commands as add_report_commands  # report, demo seed

    add_report_commands(commands, _settings)
    from bot.xapi_commands import add_commands as add_xapi_commands  # xapi export|sweep

    add_xapi_commands(commands, _settings)
    from bot.org_commands import add_commands as add_org_commands  # org sync, one-on-ones scan

    add_org_commands(commands, _settings)
    from bot.user_commands import add_commands as add_user_commands  # user export|delete

    add_user_commands(commands, _settings)
    from bot.teams_commands import add_commands as add_teams_commands  # teams package

    add_teams_commands(commands, _settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # e.g. `learnbot ask … | head -3`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (DataDirError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("nothing was changed; fix the file and run the command again", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a folder where a file was expected, no permission, …
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
