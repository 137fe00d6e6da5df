"""The org sync: read the org chart from Microsoft Graph or a roster file and store it as people.

Graph: `GET /users` with `$expand=manager` and `$select`, page by page (`@odata.nextLink`), so the
whole chart costs one request per 999 people, never one per person. Disabled accounts count as left.
Roster: CSV or YAML with name, email, manager_email, team, timezone, role (email required). The
listing is read and checked completely before the database is touched; then `storage.org.apply_org`
stores it in one transaction, so a bad file or a Graph failure changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session

from bot.config import AppConfig, Settings
from nudges.clock import Clock
from nudges.roster_files import RosterError, email_problem, read_rows, zone_problem
from storage.org import OrgEntry, OrgSyncResult, apply_org

if TYPE_CHECKING:
    from msgraph import GraphServiceClient

log = logging.getLogger(__name__)

ROSTER_COLUMNS = {"name", "email", "manager_email", "team", "timezone", "role"}
USER_FIELDS = ["id", "displayName", "mail", "userPrincipalName", "department", "accountEnabled"]
PAGE_SIZE = 999  # the most Graph returns per /users page


class OrgSyncError(RuntimeError):
    """The org chart could not be read (Graph refused or failed); nothing was changed."""


class Host(Protocol):
    config: AppConfig
    clock: Clock

    def session(self) -> AbstractContextManager[Session]: ...


def sync_org(host: Host, settings: Settings | None, *, source: str | None = None) -> OrgSyncResult:
    """Read the org chart from app.yaml's `org.source` and store it; raises OrgSyncError / RosterError."""
    chosen = source or host.config.org.source
    if chosen == "off":
        raise OrgSyncError("org.source is off in app.yaml: set it to graph or roster")
    if chosen == "roster":
        if not host.config.org.roster:
            raise OrgSyncError("org.roster is not set in app.yaml (a CSV or YAML file)")
        entries = read_roster(host.config.resolve(host.config.org.roster))
    else:
        if settings is None:
            raise OrgSyncError("org.source is graph but no Graph settings were given")
        entries = read_graph(settings)
    now = host.clock.now()
    with host.session() as session:
        result = apply_org(session=session, entries=entries, source=chosen, now=now)
    log.info(
        "org sync from %s: %d listed, %d added, %d updated, %d left, %d returned",
        chosen,
        result.listed,
        result.added,
        result.updated,
        result.left,
        result.returned,
    )
    return result


# ── the roster ───────────────────────────────────────────────────────────────────────────────────


def read_roster(path: Path) -> list[OrgEntry]:
    """Every person in a roster file, checked whole: RosterError lists each bad row (file, line, what)."""
    rows = read_rows(path, ROSTER_COLUMNS, {"email"})
    problems: list[str] = []
    first_line: dict[str, str] = {}
    for row in rows:
        email = row.get("email").lower()
        if problem := email_problem(email):
            problems.append(f"{row.where}: email {problem}")
        elif email in first_line:
            problems.append(f"{row.where}: {email} is listed twice (first at {first_line[email]})")
        first_line.setdefault(email, row.where)
    entries = []
    for row in rows:
        email, boss = row.get("email").lower(), row.get("manager_email").lower()
        if boss and (problem := email_problem(boss)):
            problems.append(f"{row.where}: manager_email {problem}")
        elif boss and boss == email:
            problems.append(f"{row.where}: {email} cannot be their own manager")
        elif boss and boss not in first_line:
            problems.append(
                f"{row.where}: manager_email {boss} is not anyone in the roster (add a row for them)"
            )
        zone = row.get("timezone")
        if zone and (problem := zone_problem(zone)):
            problems.append(f"{row.where}: timezone: {problem}")
        if len(row.get("name")) > 200 or len(row.get("team")) > 100 or len(row.get("role")) > 40:
            problems.append(f"{row.where}: name (200), team (100) or role (40) is too long")
        entries.append(
            OrgEntry(
                email=email,
                name=row.get("name") or None,
                manager_email=boss or None,
                team=row.get("team") or None,
                timezone=zone or None,
                role=row.get("role").lower() or None,
            )
        )
    if problems:
        raise RosterError(path, problems)
    return entries


# ── Microsoft Graph ──────────────────────────────────────────────────────────────────────────────


def read_graph(settings: Settings) -> list[OrgEntry]:
    """Every enabled user with their manager, through the real Graph client (one request per page)."""
    from bot import graph

    async def work() -> list[OrgEntry]:
        async with graph.open_graph(settings) as client:
            return [entry async for entry in graph_people(client)]

    try:
        return graph.run(work)
    except graph.GraphNotConfigured as exc:
        raise OrgSyncError(str(exc)) from None
    except Exception as exc:  # an API or connection error: report it, change nothing
        raise OrgSyncError(
            graph.problem(exc, reading="the users and their managers", permission="User.Read.All")
        ) from None


async def graph_people(client: GraphServiceClient) -> AsyncIterator[OrgEntry]:
    """Users page by page with `$expand=manager`, as OrgEntry (disabled accounts left out)."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    from bot.graph import get_json

    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        select=USER_FIELDS, expand=["manager($select=id,mail,userPrincipalName)"], top=PAGE_SIZE
    )
    config: RequestConfiguration[Any] = RequestConfiguration(query_parameters=query)
    page: dict[str, Any] | None = await get_json(client, client.users, config)
    while page is not None:
        for user in page.get("value") or []:
            if entry := entry_of(user):
                yield entry
        link = page.get("@odata.nextLink")
        page = await get_json(client, client.users.with_url(link)) if link else None


def entry_of(user: dict[str, Any]) -> OrgEntry | None:
    """A Graph user (JSON) as an org chart entry; None for a disabled account or one without an address."""
    principal = str(user.get("userPrincipalName") or "").lower()
    email = str(user.get("mail") or principal).lower()
    if not email or user.get("accountEnabled") is False:
        return None
    boss = user.get("manager") or {}
    boss_email = str(boss.get("mail") or boss.get("userPrincipalName") or "").lower()
    return OrgEntry(
        email=email,
        name=user.get("displayName"),
        manager_email=boss_email or None,
        team=user.get("department"),
        external_id=user.get("id"),
        principal_name=principal if principal and principal != email else None,
    )
