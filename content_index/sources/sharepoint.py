"""SharePoint site pages and documents in a drive folder as lessons, through Microsoft Graph, incrementally.

Documents come from the drive's delta feed: the first run enumerates the drive, later runs send the
stored delta link and get only what changed (a removed document carries a `deleted` facet). Site
pages have no delta, so their eTags are compared with the ones stored. Like every source this one
never touches storage: it is given what was stored after the last run and returns the new state,
which the indexer stores in the same transaction as the lessons. A 401/403 becomes a problem naming
the missing permission, and the state stays as it was, so nothing is skipped or lost.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import yaml
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.drives.item.items.item.list_item.list_item_request_builder import (
    ListItemRequestBuilder,
)
from msgraph.generated.models.drive_item import DriveItem
from msgraph.generated.models.site_page import SitePage
from msgraph.generated.sites.item.pages.item.graph_site_page.graph_site_page_request_builder import (
    GraphSitePageRequestBuilder,
)

from bot.config import Settings, SharePointSource
from bot.graph import GraphNotConfigured, open_graph, problem, run, status_of
from content_index.sources.base import (
    ItemError,
    ScanResult,
    SourceItem,
    SourceProblem,
    item_from_metadata,
    slugify,
)

FILES_PERMISSION = "Files.Read.All"
PAGES_PERMISSION = "Sites.Read.All"
TEXT_SUFFIXES = (".md", ".markdown", ".txt")
MAX_TEXT_BYTES = 1_000_000  # a lesson is short; a bigger text file is reported, not downloaded
# One item refused or gone (item-level permissions, deleted meanwhile): reported, the rest still read.
ITEM_STATUSES = (401, 403, 404)
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"[ \t\r\f\v]+")


class SetupError(Exception):
    """The configured folder is not in the drive: one problem, and the source's state is kept."""


@dataclass
class SharePointScan(ScanResult):
    """Only what changed since the last run, the lessons that went away, and the state to store."""

    removed: set[str] = field(default_factory=set)
    delta_link: str | None = None
    state: dict[str, Any] = field(default_factory=dict)


def read_sharepoint(
    source: SharePointSource, settings: Settings, *, delta_link: str | None, state: Mapping[str, Any]
) -> SharePointScan:
    """Read what changed in the source since `delta_link` / `state` (both None/empty on the first run)."""
    return run(lambda: _scan(source, settings, delta_link, state))


async def _scan(
    source: SharePointSource, settings: Settings, delta_link: str | None, state: Mapping[str, Any]
) -> SharePointScan:
    result = SharePointScan(delta_link=delta_link, state={k: v for k, v in state.items()})
    try:
        async with open_graph(settings) as client:
            if source.drive_id:
                await _guarded(
                    _documents(client, source, result),
                    result,
                    source,
                    f"documents in drive {source.drive_id!r}",
                    FILES_PERMISSION,
                )
            if source.site_id and source.pages:
                await _guarded(
                    _pages(client, source, result),
                    result,
                    source,
                    f"site pages of {source.site_id!r}",
                    PAGES_PERMISSION,
                )
    except GraphNotConfigured as exc:
        needs = f"{FILES_PERMISSION} (documents) and {PAGES_PERMISSION} (site pages)"
        result.problems.append(SourceProblem(source.name, f"{exc}; SharePoint sources need {needs}"))
    result.removed -= {item.id for item in result.items}
    return result


async def _guarded(
    work: Any, result: SharePointScan, source: SharePointSource, reading: str, permission: str
) -> None:
    """Run one half (documents or pages); a Graph failure becomes one problem and leaves that half's state."""
    try:
        await work
    except (APIError, httpx.HTTPError) as exc:
        result.problems.append(
            SourceProblem(source.name, problem(exc, reading=reading, permission=permission))
        )
    except SetupError as exc:
        result.problems.append(SourceProblem(source.name, str(exc)))


# Documents ------------------------------------------------------------------------------------------


async def _documents(client: GraphServiceClient, source: SharePointSource, result: SharePointScan) -> None:
    """Apply the drive's delta since the stored link; commit the new link and known items only at the end."""
    assert source.drive_id
    drive = client.drives.by_drive_id(source.drive_id)
    root = drive.items.by_drive_item_id("root")
    docs: dict[str, Any] = dict(result.state.get("documents") or {})
    known: dict[str, str] = dict(docs.get("items") or {})  # drive item id -> content id
    folders: set[str] = set(docs.get("folders") or [])
    anchor: str | None = docs.get("anchor")  # the configured folder's own id
    link = result.delta_link
    if docs.get("folder", "") != source.folder:  # a new folder setting: start over
        link, folders, anchor = None, set(), None
    if source.folder and not folders:
        path = quote(source.folder.strip("/"))
        folder = await root.with_url(
            f"{client.request_adapter.base_url}/drives/{quote(source.drive_id)}/root:/{path}"
        ).get()
        if folder is None or not folder.id:
            raise SetupError(f"folder {source.folder!r} not found in drive {source.drive_id!r}")
        folders, anchor = {folder.id}, folder.id
    try:
        changes, new_link = await _delta(root, link)
    except APIError as exc:
        if status_of(exc) != 410 or link is None:
            raise
        link = None  # the stored link expired (410 Gone, resyncRequired): enumerate again
        changes, new_link = await _delta(root, None)
    full = link is None
    files: dict[str, DriveItem] = {}
    removed_ids: set[str] = set()
    for item in changes:
        if not item.id or item.root is not None or item.id == anchor:
            continue
        parent = item.parent_reference.id if item.parent_reference else None
        in_scope = not source.folder or parent in folders
        if item.deleted is not None or not in_scope:
            folders.discard(item.id)
            files.pop(item.id, None)
            removed_ids.add(item.id)
        elif item.folder is not None:
            if source.folder:
                folders.add(item.id)
        elif item.file is not None:
            files[item.id] = item
            removed_ids.discard(item.id)
    if full:
        removed_ids |= set(known) - set(files)
    for graph_id in removed_ids:
        if graph_id in known:
            result.removed.add(known.pop(graph_id))
    for graph_id, item in files.items():
        try:
            built = await _document(drive, source, item)
        except APIError as exc:
            if status_of(exc) not in ITEM_STATUSES:
                raise  # throttled or down: this run stops here and the next asks again from the old link
            where = f"document {item.name or graph_id!r}"
            built = SourceProblem(
                _doc_location(source, item), problem(exc, reading=where, permission=FILES_PERMISSION)
            )
        _remember(result, known, graph_id, built)
    result.delta_link = new_link
    result.state["documents"] = {
        "folder": source.folder,
        "anchor": anchor,
        "folders": sorted(folders),
        "items": known,
    }


async def _delta(root: Any, link: str | None) -> tuple[list[DriveItem], str | None]:
    """Every page of the delta feed (following @odata.nextLink) and the @odata.deltaLink for next time."""
    page = await (root.delta.with_url(link).get() if link else root.delta.get())
    items: list[DriveItem] = []
    while page is not None:
        items.extend(page.value or [])
        if not page.odata_next_link:
            return items, page.odata_delta_link
        page = await root.delta.with_url(page.odata_next_link).get()
    return items, None


async def _document(drive: Any, source: SharePointSource, item: DriveItem) -> SourceItem | SourceProblem:
    """One document as a lesson: text files' content, others by name and description; columns by mapping."""
    name = item.name or item.id or "document"
    location = _doc_location(source, item)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    meta: dict[str, Any] = _defaults(source)
    meta.update(
        {"title": stem.replace("-", " ").replace("_", " ").strip(), "summary": item.description or ""}
    )
    body = f"{name}\n{item.description or ''}"
    builder = drive.items.by_drive_item_id(item.id)
    try:
        if name.lower().endswith(TEXT_SUFFIXES):
            if (item.size or 0) > MAX_TEXT_BYTES:
                raise ItemError(
                    f"{item.size} bytes is too big for a lesson (at most {MAX_TEXT_BYTES}); not read"
                )
            text = _decode(await builder.content.get() or b"")
            front, body = _front_matter(text)
            meta.update(front)
        if any(value for value in source.fields.model_dump().values()):
            meta.update(await _columns(builder, source))
        if not meta.get("summary"):
            meta["summary"] = _first_paragraph(body)
        meta["url"] = item.web_url
        return item_from_metadata(
            meta, source=source.name, default_id=slugify(stem), body=body, location=location
        )
    except ItemError as exc:
        return SourceProblem(location, str(exc), exc.line)


def _doc_location(source: SharePointSource, item: DriveItem) -> str:
    folder = source.folder.strip("/") + "/" if source.folder else ""
    return f"{source.name}/{folder}{item.name or item.id}"


async def _columns(builder: Any, source: SharePointSource) -> dict[str, Any]:
    """The document's list-item fields named in the source's `fields` mapping (empty ones left out)."""
    query = ListItemRequestBuilder.ListItemRequestBuilderGetQueryParameters(expand=["fields"])
    list_item = await builder.list_item.get(RequestConfiguration(query_parameters=query))
    values = (list_item.fields.additional_data if list_item and list_item.fields else None) or {}
    out = {}
    for ours, column in source.fields.model_dump().items():
        value = values.get(column) if column else None
        if isinstance(value, str) and ours in ("skills", "audience") and ";" in value:
            value = value.split(";")  # multi-value text columns come back joined
        if value not in (None, "", []):
            out[ours] = value
    return out


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ItemError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """A Markdown lesson's YAML front matter (as in the Markdown folder source) and the text after it."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            try:
                meta = yaml.safe_load("\n".join(lines[1:index])) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                raise ItemError(
                    f"front matter is not valid YAML: {getattr(exc, 'problem', None) or exc}",
                    line=mark.line + 2 if mark else 1,
                ) from None
            if not isinstance(meta, dict):
                raise ItemError("front matter must be 'key: value' lines", line=2)
            return {str(k): v for k, v in meta.items()}, "\n".join(lines[index + 1 :])
    raise ItemError("front matter is not closed: add a '---' line after it", line=1)


# Site pages -----------------------------------------------------------------------------------------


async def _pages(client: GraphServiceClient, source: SharePointSource, result: SharePointScan) -> None:
    """List every page; fetch the text of new and changed ones (eTag differs); the unlisted are removed."""
    assert source.site_id
    site = client.sites.by_site_id(source.site_id)
    known: dict[str, dict[str, str]] = dict(result.state.get("pages") or {})
    listed: list[SitePage] = []
    page = await site.pages.graph_site_page.get()
    while page is not None:
        listed.extend(p for p in page.value or [] if p.id)
        page = (
            await site.pages.graph_site_page.with_url(page.odata_next_link).get()
            if page.odata_next_link
            else None
        )
    current = {p.id for p in listed}
    for page_id in set(known) - current:
        result.removed.add(known.pop(page_id)["id"])
    ids = {page_id: entry["id"] for page_id, entry in known.items()}
    query = GraphSitePageRequestBuilder.GraphSitePageRequestBuilderGetQueryParameters(expand=["canvasLayout"])
    for listing in listed:
        assert listing.id
        before = known.get(listing.id)
        if before and before.get("etag") == _version(listing):
            continue
        try:
            full = await site.pages.by_base_site_page_id(listing.id).graph_site_page.get(
                RequestConfiguration(query_parameters=query)
            )
            built = _page(source, full or listing)
        except APIError as exc:
            if status_of(exc) not in ITEM_STATUSES:
                raise
            where = f"page {listing.name or listing.id!r}"
            built = SourceProblem(
                f"{source.name}/pages/{listing.name or listing.id}",
                problem(exc, reading=where, permission=PAGES_PERMISSION),
            )
        _remember(result, ids, listing.id, built)
        if isinstance(built, SourceItem):
            known[listing.id] = {"id": built.id, "etag": _version(listing)}
        elif listing.id in ids:  # a broken page keeps its old lesson and is read again next time
            known[listing.id] = {"id": ids[listing.id], "etag": ""}
    result.state["pages"] = known


def _version(page: SitePage) -> str:
    modified = page.last_modified_date_time
    return page.e_tag or (modified.isoformat() if isinstance(modified, dt.datetime) else "")


def _page(source: SharePointSource, page: SitePage) -> SourceItem | SourceProblem:
    name = page.name or page.id or "page"
    location = f"{source.name}/pages/{name}"
    stem = name.rsplit(".", 1)[0] if name.lower().endswith(".aspx") else name
    body = _page_text(page)
    meta: dict[str, Any] = _defaults(source)
    meta.update(
        {
            "title": page.title or "",
            "summary": page.description or _first_paragraph(body),
            "url": page.web_url,
        }
    )
    try:
        return item_from_metadata(
            meta, source=source.name, default_id=slugify(stem), body=body, location=location
        )
    except ItemError as exc:
        return SourceProblem(location, str(exc), exc.line)


def _page_text(page: SitePage) -> str:
    """The text web parts of a page's canvas, as plain paragraphs."""
    layout = page.canvas_layout
    parts: list[Any] = []
    for section in (layout.horizontal_sections or []) if layout else []:
        for column in section.columns or []:
            parts.extend(column.webparts or [])
    if layout and layout.vertical_section:
        parts.extend(layout.vertical_section.webparts or [])
    texts = [_html_text(getattr(part, "inner_html", None) or "") for part in parts]
    return "\n\n".join(text for text in texts if text)


def _html_text(markup: str) -> str:
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</h\d>|</li>", "\n", markup)
    lines = (_SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", line))).strip() for line in markup.split("\n"))
    return "\n".join(line for line in lines if line)


# Shared ---------------------------------------------------------------------------------------------


def _defaults(source: SharePointSource) -> dict[str, Any]:
    return {k: v for k, v in source.defaults.model_dump().items() if v not in (None, [], "")}


def _first_paragraph(body: str, limit: int = 300) -> str:
    for block in re.split(r"\n\s*\n", body):
        text = " ".join(
            line.strip() for line in block.splitlines() if not line.lstrip().startswith("#")
        ).strip()
        if text:
            return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return ""


def _remember(
    result: SharePointScan, known: dict[str, str], graph_id: str, built: SourceItem | SourceProblem
) -> None:
    """Add a built lesson (or its problem); a renamed one retires its old id; a taken id is refused."""
    if isinstance(built, SourceProblem):
        result.problems.append(built)
        return
    other = next((gid for gid, cid in known.items() if cid == built.id and gid != graph_id), None)
    if other is not None:
        result.problems.append(
            SourceProblem(built.location, f"duplicate content id {built.id!r} in this source")
        )
        return
    old = known.get(graph_id)
    if old and old != built.id:
        result.removed.add(old)
    known[graph_id] = built.id
    result.items.append(built)
