"""SharePoint site pages and documents in a drive folder as lessons, through Microsoft Graph, incrementally.

Documents come from the drive's delta feed: the first run enumerates the drive, later runs send the
stored delta link and get only what changed (a removed document carries a `deleted` facet). Site
pages have no delta, so their eTags are compared with the ones stored. Like every source this one
never touches storage: it is given what was stored after the last run and returns the new state,
which the indexer stores in the same transaction as the lessons. A 401/403 becomes a problem naming
the missing permission, and the state stays as it was, so nothing is skipped or lost.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import yaml
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.drives.item.items.item.list_item.list_item_request_builder import (
    ListItemRequestBuilder,
)
from msgraph.generated.sites.item.lists.item.items.items_request_builder import ItemsRequestBuilder
from msgraph.generated.sites.item.pages.item.graph_site_page.graph_site_page_request_builder import (
    GraphSitePageRequestBuilder,
)

from bot.config import Settings, SharePointSource
from bot.graph import GraphNotConfigured, get_json, open_graph, problem, run, status_of
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
CONCURRENCY = 8  # documents or pages read at a time (Graph throttles per app; its retries handle 429s)
T = TypeVar("T")
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
    # Everything the source has was read and yielded (a first run, or after a lost state): the indexer
    # may then retire any stored lesson of this source it did not see, as for a folder of files.
    complete: bool = True


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
        result.complete = False
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
        result.complete = False
        result.problems.append(
            SourceProblem(source.name, problem(exc, reading=reading, permission=permission))
        )
    except SetupError as exc:
        result.complete = False
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
        url = f"{client.request_adapter.base_url}/drives/{quote(source.drive_id)}/root:/{path}"
        try:
            folder = await get_json(client, root.with_url(url))
        except APIError as exc:
            if status_of(exc) != 404:
                raise
            folder = {}
        if not folder.get("id") or "folder" not in folder:
            raise SetupError(f"folder {source.folder!r} not found in drive {source.drive_id!r}")
        folders, anchor = {folder["id"]}, folder["id"]
    try:
        changes, new_link = await _delta(client, root, link)
    except APIError as exc:
        if status_of(exc) != 410 or link is None:
            raise
        link = None  # the stored link expired (410 Gone, resyncRequired): enumerate again
        changes, new_link = await _delta(client, root, None)
    full = link is None
    result.complete = result.complete and full
    files: dict[str, dict[str, Any]] = {}
    removed_ids: set[str] = set()
    for item in changes:
        item_id = item.get("id")
        if not item_id or "root" in item or item_id == anchor:
            continue
        parent = (item.get("parentReference") or {}).get("id")
        in_scope = not source.folder or parent in folders
        if "deleted" in item or not in_scope:
            folders.discard(item_id)
            files.pop(item_id, None)
            removed_ids.add(item_id)
        elif "folder" in item:
            if source.folder:
                folders.add(item_id)
        elif "file" in item:
            files[item_id] = item
            removed_ids.discard(item_id)
    if full:
        removed_ids |= set(known) - set(files)
    for graph_id in removed_ids:
        if graph_id in known:
            result.removed.add(known.pop(graph_id))
    pending = list(files.items())
    outcomes = await _bounded([partial(_document, client, drive, source, item) for _, item in pending])
    for (graph_id, item), built in zip(pending, outcomes, strict=True):
        if isinstance(built, BaseException):
            if status_of(built) not in ITEM_STATUSES:
                raise built  # throttled or down: stop here; the next run asks again from the old link
            where = f"document {item.get('name') or graph_id!r}"
            built = SourceProblem(
                _doc_location(source, item), problem(built, reading=where, permission=FILES_PERMISSION)
            )
        _remember(result, known, graph_id, built)
    result.delta_link = new_link
    result.state["documents"] = {
        "folder": source.folder,
        "anchor": anchor,
        "folders": sorted(folders),
        "items": known,
    }


async def _delta(
    client: GraphServiceClient, root: Any, link: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Every page of the delta feed (following @odata.nextLink) and the @odata.deltaLink for next time.

    Read as JSON through the SDK's request builders (`get_json`): its typed models cost about 20 ms
    a drive item, most of a first run's time.
    """
    page = await get_json(client, root.delta.with_url(link) if link else root.delta)
    items: list[dict[str, Any]] = []
    while True:
        items.extend(page.get("value") or [])
        if not page.get("@odata.nextLink"):
            return items, page.get("@odata.deltaLink")
        page = await get_json(client, root.delta.with_url(page["@odata.nextLink"]))


async def _document(
    client: GraphServiceClient, drive: Any, source: SharePointSource, item: dict[str, Any]
) -> SourceItem | SourceProblem:
    """One document as a lesson: text files' content, others by name and description; columns by mapping."""
    name = str(item.get("name") or item["id"])
    description = str(item.get("description") or "")
    location = _doc_location(source, item)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    meta: dict[str, Any] = _defaults(source)
    meta.update({"title": stem.replace("-", " ").replace("_", " ").strip(), "summary": description})
    body = f"{name}\n{description}"
    builder = drive.items.by_drive_item_id(item["id"])
    try:
        if name.lower().endswith(TEXT_SUFFIXES):
            size = item.get("size") or 0
            if size > MAX_TEXT_BYTES:
                raise ItemError(f"{size} bytes is too big for a lesson (at most {MAX_TEXT_BYTES}); not read")
            text = _decode(await builder.content.get() or b"")
            front, body = _front_matter(text)
            meta.update(front)
        if any(value for value in source.fields.model_dump().values()):
            meta.update(await _columns(client, builder, source))
        if not meta.get("summary"):
            meta["summary"] = _first_paragraph(body)
        meta["url"] = item.get("webUrl")
        return item_from_metadata(
            meta, source=source.name, default_id=slugify(stem), body=body, location=location
        )
    except ItemError as exc:
        return SourceProblem(location, str(exc), exc.line)


def _doc_location(source: SharePointSource, item: dict[str, Any]) -> str:
    folder = source.folder.strip("/") + "/" if source.folder else ""
    return f"{source.name}/{folder}{item.get('name') or item.get('id')}"


async def _columns(client: GraphServiceClient, builder: Any, source: SharePointSource) -> dict[str, Any]:
    """The document's list-item fields named in the source's `fields` mapping (empty ones left out)."""
    query = ListItemRequestBuilder.ListItemRequestBuilderGetQueryParameters(expand=["fields"])
    list_item = await get_json(client, builder.list_item, RequestConfiguration(query_parameters=query))
    return _mapped(list_item.get("fields") or {}, source)


def _mapped(values: Mapping[str, Any], source: SharePointSource) -> dict[str, Any]:
    """Our fields from a list item's columns, by the source's `fields` mapping (empty ones left out)."""
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
    listed: list[dict[str, Any]] = []
    page = await get_json(client, site.pages.graph_site_page)
    while True:
        listed.extend(p for p in page.get("value") or [] if p.get("id"))
        if not page.get("@odata.nextLink"):
            break
        page = await get_json(client, site.pages.graph_site_page.with_url(page["@odata.nextLink"]))
    current = {p["id"] for p in listed}
    for page_id in set(known) - current:
        result.removed.add(known.pop(page_id)["id"])
    ids = {page_id: entry["id"] for page_id, entry in known.items()}
    query = GraphSitePageRequestBuilder.GraphSitePageRequestBuilderGetQueryParameters(expand=["canvasLayout"])
    changed = [p for p in listed if not (p["id"] in known and known[p["id"]].get("etag") == _version(p))]
    result.complete = result.complete and len(changed) == len(listed)  # unchanged pages are not yielded
    pages = site.pages
    config = RequestConfiguration(query_parameters=query)
    columns = await _page_columns(client, site, source) if changed else {}
    outcomes = await _bounded(
        [
            partial(get_json, client, pages.by_base_site_page_id(p["id"]).graph_site_page, config)
            for p in changed
        ]
    )
    for listing, full in zip(changed, outcomes, strict=True):
        page_id, name = listing["id"], listing.get("name") or listing["id"]
        if isinstance(full, BaseException):
            if status_of(full) not in ITEM_STATUSES:
                raise full
            built: SourceItem | SourceProblem = SourceProblem(
                f"{source.name}/pages/{name}",
                problem(full, reading=f"page {name!r}", permission=PAGES_PERMISSION),
            )
        else:
            built = _page(source, full or listing, columns.get(listing.get("name") or "", {}))
        _remember(result, ids, page_id, built)
        if isinstance(built, SourceItem):
            known[page_id] = {"id": built.id, "etag": _version(listing)}
        elif page_id in ids:  # a broken page keeps its old lesson and is read again next time
            known[page_id] = {"id": ids[page_id], "etag": ""}
    result.state["pages"] = known


async def _page_columns(
    client: GraphServiceClient, site: Any, source: SharePointSource
) -> dict[str, dict[str, Any]]:
    """Each page's mapped columns by page name, from the Site Pages library (`pages_list`), one listing."""
    if not source.pages_list or not any(source.fields.model_dump().values()):
        return {}
    items = site.lists.by_list_id(source.pages_list).items
    query = ItemsRequestBuilder.ItemsRequestBuilderGetQueryParameters(expand=["fields"])
    try:
        page = await get_json(client, items, RequestConfiguration(query_parameters=query))
    except APIError as exc:
        if status_of(exc) != 404:
            raise
        raise SetupError(
            f"pages_list {source.pages_list!r} is not a list in site {source.site_id!r}"
        ) from None
    found: dict[str, dict[str, Any]] = {}
    while True:
        for item in page.get("value") or []:
            fields = item.get("fields") or {}
            if fields.get("FileLeafRef"):
                found[str(fields["FileLeafRef"])] = _mapped(fields, source)
        if not page.get("@odata.nextLink"):
            return found
        page = await get_json(client, items.with_url(page["@odata.nextLink"]))


async def _bounded(calls: list[Callable[[], Awaitable[T]]]) -> list[T | BaseException]:
    """Run these Graph calls `CONCURRENCY` at a time; results in order, a Graph error in its call's place."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Callable[[], Awaitable[T]]) -> T | BaseException:
        async with gate:
            try:
                return await call()
            except (APIError, httpx.HTTPError) as exc:
                return exc

    return list(await asyncio.gather(*(one(call) for call in calls)))


def _version(page: dict[str, Any]) -> str:
    return str(page.get("eTag") or page.get("lastModifiedDateTime") or "")


def _page(
    source: SharePointSource, page: dict[str, Any], columns: Mapping[str, Any]
) -> SourceItem | SourceProblem:
    """One site page (microsoft.graph.sitePage with its canvasLayout, and its columns) as a lesson."""
    name = str(page.get("name") or page.get("id") or "page")
    location = f"{source.name}/pages/{name}"
    stem = name.rsplit(".", 1)[0] if name.lower().endswith(".aspx") else name
    body = _page_text(page)
    meta: dict[str, Any] = _defaults(source)
    meta.update(
        {
            "title": page.get("title") or "",
            "summary": page.get("description") or _first_paragraph(body),
            "url": page.get("webUrl"),
        }
    )
    meta.update(columns)
    try:
        return item_from_metadata(
            meta, source=source.name, default_id=slugify(stem), body=body, location=location
        )
    except ItemError as exc:
        return SourceProblem(location, str(exc), exc.line)


def _page_text(page: dict[str, Any]) -> str:
    """The text web parts of a page's canvas (horizontal sections' columns, the vertical section)."""
    layout = page.get("canvasLayout") or {}
    parts: list[dict[str, Any]] = []
    for section in layout.get("horizontalSections") or []:
        for column in section.get("columns") or []:
            parts.extend(column.get("webparts") or [])
    parts.extend((layout.get("verticalSection") or {}).get("webparts") or [])
    texts = [_html_text(str(part.get("innerHtml") or "")) for part in parts]
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
