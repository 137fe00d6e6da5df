"""`learnbot user export|delete PERSON`: a learner's data, for admins on the server.

PERSON is an email, a person id, or platform:id (slack:U024BE7LH). Delete asks to confirm by typing the
person id unless `--yes` is given; nothing is erased without it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.models import Person


def add_commands(commands: Any, settings_of: Callable[[argparse.Namespace], Settings]) -> None:
    """Register `user export` and `user delete` on the main parser's subcommands."""

    def cmd_export(args: argparse.Namespace) -> int:
        """Write everything stored about one person as JSON (to --out, else to stdout)."""
        from storage.personal_data import PersonNotFound, export_json, export_person

        try:
            with _one_person(settings_of(args), args.person) as (session, person):
                assert person.id is not None
                text = export_json(export_person(session=session, person_id=person.id))
        except PersonNotFound as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if args.out:
            out = Path(args.out)
            out.touch(mode=0o600)
            out.write_text(text + "\n", encoding="utf-8")
            print(f"exported person {person.id} to {out}")
        else:
            print(text)
        return 0

    def cmd_delete(args: argparse.Namespace) -> int:
        """Erase one person's personal data, keeping anonymous counts (asks to confirm without --yes)."""
        from storage.personal_data import PersonNotFound, erase_person

        try:
            with _one_person(settings_of(args), args.person) as (session, person):
                assert person.id is not None
                label = (
                    f"person {person.id} ({person.display_name or 'no name'}, {person.email or 'no email'})"
                )
                if not args.yes and not _confirmed(label, person.id):
                    print("nothing was deleted")
                    return 1
                erasure = erase_person(session=session, person_id=person.id)
        except PersonNotFound as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        kept = sum(erasure.kept_anonymous.values())
        gone = sum(erasure.deleted.values())
        print(f"erased {label}: {gone} rows deleted, {kept} rows kept as anonymous counts")
        return 0

    user = commands.add_parser("user", help="a person's own data: export or delete it")
    sub = user.add_subparsers(dest="user_command", required=True, metavar="USER_COMMAND")
    export = sub.add_parser("export", help=cmd_export.__doc__, description=cmd_export.__doc__)
    export.add_argument("person", help="email, person id, or platform:id (e.g. slack:U024BE7LH)")
    export.add_argument("--out", help="file to write (default: print the JSON)")
    export.set_defaults(func=cmd_export)
    delete = sub.add_parser("delete", help=cmd_delete.__doc__, description=cmd_delete.__doc__)
    delete.add_argument("person", help="email, person id, or platform:id (e.g. slack:U024BE7LH)")
    delete.add_argument("--yes", action="store_true", help="do not ask to confirm")
    delete.set_defaults(func=cmd_delete)


@contextmanager
def _one_person(settings: Settings, who: str) -> Iterator[tuple[Session, Person]]:
    """A session on the current schema and the person `who` names (PersonNotFound when nobody is);
    the engine is closed afterwards, whatever happens."""
    from storage.db import make_engine, require_current, session_scope
    from storage.personal_data import find_person

    engine = make_engine(settings.db_url)
    require_current(engine)
    try:
        with session_scope(engine) as session:
            yield session, find_person(session=session, who=who)
    finally:
        engine.dispose()


def _confirmed(label: str, person_id: int) -> bool:
    """Ask on the terminal; without one (a script), refuse: --yes says it was meant."""
    if not sys.stdin.isatty():
        print(f"refusing to erase {label} without confirmation: add --yes", file=sys.stderr)
        return False
    answer = input(f"erase {label}? This cannot be undone. Type the person id ({person_id}) to confirm: ")
    return answer.strip() == str(person_id)
