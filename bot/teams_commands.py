"""`learnbot teams package --out learnbot-teams.zip`: the app package to upload to Teams.

The app id comes from --app-id or TEAMS_APP_ID (the Azure bot's Microsoft App ID); --domain adds the
public host learnbot is served on to `validDomains`. A missing or malformed value stops with exit
code 2 and says which one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Settings

EXIT_USAGE = 2


def add_commands(commands: Any, settings_of: Callable[[argparse.Namespace], Settings]) -> None:
    """Register `teams package` on the main parser's subcommands."""

    def cmd_package(args: argparse.Namespace) -> int:
        """Build the Teams app package: manifest.json with the app id filled in, and the two icons."""
        from bot.adapters.teams.package import PackageError, package

        app_id = args.app_id or settings_of(args).teams_app_id
        if not app_id:
            print(
                "error: give --app-id or set TEAMS_APP_ID (the Azure bot's Microsoft App ID)", file=sys.stderr
            )
            return EXIT_USAGE
        try:
            out = package(Path(args.out), app_id, domain=args.domain)
        except PackageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except OSError as exc:
            print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        print(f"wrote {out}: upload it in Teams (Apps → Manage your apps → Upload an app)")
        return 0

    teams = commands.add_parser("teams", help="Microsoft Teams: the app package")
    teams_commands = teams.add_subparsers(dest="teams_command", required=True, metavar="COMMAND")
    pack = teams_commands.add_parser("package", help=cmd_package.__doc__, description=cmd_package.__doc__)
    pack.add_argument("--out", default="learnbot-teams.zip", help="zip to write (default learnbot-teams.zip)")
    pack.add_argument("--app-id", help="the Azure bot's Microsoft App ID (default: TEAMS_APP_ID)")
    pack.add_argument("--domain", help="the public host learnbot is served on, for validDomains")
    pack.set_defaults(func=cmd_package)
