"""A local fake of the Microsoft Graph routes the SharePoint source reads, for the real msgraph-sdk client.

Shapes follow Microsoft's Graph documentation: a drive's delta feed (`/drives/{id}/items/root/delta()`)
pages with absolute `@odata.nextLink`s and ends with an `@odata.deltaLink`; a later call with that link
returns only what changed since, deleted items with a `deleted` facet; an expired link answers 410
`resyncRequired`. Site pages (`/sites/{id}/pages/graph.sitePage`) list `microsoft.graph.sitePage`s,
one page with `$expand=canvasLayout` has its text web parts. Document content answers with a 302 to a
download URL, as Graph does. Every request is recorded, and any route can be made to fail (e.g. 403).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SITE_URL = "https://contoso.sharepoint.com/sites/learning"
PAGE_SIZE = 2  # small, so every listing is paged


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeSharePoint:
    """One site with one document library; tests add, change and delete files and pages."""

    drive_id: str = "b!drive-learning"
    site_id: str = "contoso.sharepoint.com,site-1,web-1"
    base_url: str = ""
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # drive items by id (current)
    contents: dict[str, bytes] = field(default_factory=dict)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # list-item fields by drive item id
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    page_html: dict[str, str] = field(default_factory=dict)
    page_fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # Site Pages library columns
    pages_list_id: str = "list-sitepages"
    changes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (version, item as changed)
    version: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # route name -> HTTP status to answer
    requests: list[str] = field(default_factory=list)  # "GET /path?query" as received
    page_size: int = PAGE_SIZE  # items per delta or pages response (Graph's own are up to 200)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.root_id = "root-id"
        self.items[self.root_id] = {
            "id": self.root_id,
            "name": "root",
            "root": {},
            "folder": {"childCount": 0},
        }

    # What tests do -----------------------------------------------------------------------------

    def add_folder(self, name: str, parent: str | None = None) -> str:
        folder_id = f"folder-{uuid.uuid4().hex[:8]}"
        item = {
            "id": folder_id,
            "name": name,
            "folder": {"childCount": 0},
            "parentReference": self._parent(parent),
        }
        self._record(item)
        return folder_id

    def add_file(
        self,
        name: str,
        *,
        folder: str | None = None,
        text: str | None = None,
        description: str = "",
        fields: dict[str, Any] | None = None,
    ) -> str:
        item_id = f"01{uuid.uuid4().hex[:14].upper()}"
        self.contents[item_id] = (text or "").encode("utf-8")
        self.fields[item_id] = dict(fields or {})
        self._record(self._file(item_id, name, folder, description))
        return item_id

    def change_file(
        self, item_id: str, *, text: str | None = None, description: str | None = None, **fields: Any
    ) -> None:
        item = dict(self.items[item_id])
        if text is not None:
            self.contents[item_id] = text.encode("utf-8")
        if description is not None:
            item["description"] = description
        self.fields[item_id].update(fields)
        item["size"] = len(self.contents[item_id])
        item["lastModifiedDateTime"] = _now()
        self._record(item)

    def delete_file(self, item_id: str) -> None:
        item = self.items[item_id]
        self._record(
            {"id": item_id, "deleted": {"state": "deleted"}, "parentReference": item["parentReference"]}
        )

    def add_page(
        self,
        name: str,
        title: str,
        *,
        description: str = "",
        html: str = "",
        fields: dict[str, Any] | None = None,
    ) -> str:
        page_id = str(uuid.uuid4())
        self.page_fields[page_id] = dict(fields or {})
        self.pages[page_id] = {
            "@odata.type": "#microsoft.graph.sitePage",
            "id": page_id,
            "name": name,
            "title": title,
            "description": description,
            "webUrl": f"{SITE_URL}/SitePages/{name}",
            "pageLayout": "article",
            "publishingState": {"level": "published", "versionId": "1.0"},
            "createdDateTime": _now(),
            "lastModifiedDateTime": _now(),
            "eTag": f'"{{{page_id.upper()}}},1"',
        }
        self.page_html[page_id] = html
        return page_id

    def change_page(self, page_id: str, *, title: str | None = None, html: str | None = None) -> None:
        page = self.pages[page_id]
        if title is not None:
            page["title"] = title
        if html is not None:
            self.page_html[page_id] = html
        version = int(page["eTag"].rsplit(",", 1)[1].rstrip('"')) + 1
        page["eTag"] = f'"{{{page_id.upper()}}},{version}"'
        page["lastModifiedDateTime"] = _now()

    def delete_page(self, page_id: str) -> None:
        del self.pages[page_id]

    def expire_delta_links(self) -> None:
        """Every delta link handed out so far now answers 410 resyncRequired."""
        self.failures["expired_before"] = self.version + 1

    def requested(self, fragment: str) -> list[str]:
        with self.lock:
            return [r for r in self.requests if fragment in r]

    # Internals ---------------------------------------------------------------------------------

    def _parent(self, folder: str | None) -> dict[str, Any]:
        parent = folder or self.root_id
        return {"driveId": self.drive_id, "driveType": "documentLibrary", "id": parent}

    def _file(self, item_id: str, name: str, folder: str | None, description: str) -> dict[str, Any]:
        folder_name = self.items[folder]["name"] + "/" if folder else ""
        return {
            "id": item_id,
            "name": name,
            "description": description,
            "webUrl": f"{SITE_URL}/Shared%20Documents/{folder_name}{name}",
            "size": len(self.contents[item_id]),
            "createdDateTime": _now(),
            "lastModifiedDateTime": _now(),
            "eTag": f'"{{{item_id}}},1"',
            "cTag": f'"c:{{{item_id}}},1"',
            "file": {"mimeType": "text/markdown" if name.endswith(".md") else "application/octet-stream"},
            "parentReference": self._parent(folder),
        }

    def _record(self, item: dict[str, Any]) -> None:
        with self.lock:
            self.version += 1
            if "deleted" in item:
                self.items.pop(item["id"], None)
            else:
                self.items[item["id"]] = item
            self.changes.append((self.version, item))

    def delta(self, token: int | None) -> list[dict[str, Any]]:
        """Everything (first call), or the latest state of each item changed after `token`."""
        with self.lock:
            if token is None:
                return [dict(item) for item in self.items.values()]
            latest: dict[str, dict[str, Any]] = {}
            for version, item in self.changes:
                if version > token:
                    latest.pop(item["id"], None)
                    latest[item["id"]] = item
            return [dict(item) for item in latest.values()]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSharePoint

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        fake = self.fake
        with fake.lock:
            fake.requests.append(f"GET {self.path}")
        parts = urlsplit(self.path)
        path = unquote(parts.path).removeprefix("/v1.0")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for pattern, route, method in _ROUTES:
            match = re.fullmatch(pattern, path)
            if match:
                if route in fake.failures:
                    return self._error(fake.failures[route], "accessDenied", "Access denied")
                return method(self, fake, query, *match.groups())
        self._error(404, "itemNotFound", f"no route for {path}")

    def _json(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._json(
            {"error": {"code": code, "message": message, "innerError": {"request-id": "fake"}}}, status
        )

    def _delta(self, fake: FakeSharePoint, query: dict[str, str], drive: str) -> None:
        token = int(query["token"]) if "token" in query else None
        if token is not None and token < fake.failures.get("expired_before", -1):
            return self._error(410, "resyncRequired", "The delta token has expired; resync required.")
        skip = int(query.get("skip", 0))
        changes = fake.delta(token)
        size = fake.page_size
        body: dict[str, Any] = {"value": changes[skip : skip + size]}
        link = f"{fake.base_url}/drives/{drive}/items/root/delta()"
        if skip + size < len(changes):
            body["@odata.nextLink"] = f"{link}?token={token if token is not None else ''}&skip={skip + size}"
            body["@odata.nextLink"] = body["@odata.nextLink"].replace("token=&", "")
        else:
            body["@odata.deltaLink"] = f"{link}?token={fake.version}"
        self._json(body)

    def _folder(self, fake: FakeSharePoint, query: dict[str, str], drive: str, folder_path: str) -> None:
        name = folder_path.strip("/").rstrip(":")
        found = next((i for i in fake.items.values() if "folder" in i and i.get("name") == name), None)
        if found is None:
            return self._error(404, "itemNotFound", "The resource could not be found.")
        self._json(found)

    def _content(self, fake: FakeSharePoint, query: dict[str, str], drive: str, item_id: str) -> None:
        if item_id not in fake.contents:
            return self._error(404, "itemNotFound", "The resource could not be found.")
        self.send_response(302)
        self.send_header("Location", f"{fake.base_url.rsplit('/v1.0', 1)[0]}/download/{item_id}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _download(self, fake: FakeSharePoint, query: dict[str, str], item_id: str) -> None:
        data = fake.contents[item_id]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _list_item(self, fake: FakeSharePoint, query: dict[str, str], drive: str, item_id: str) -> None:
        body: dict[str, Any] = {"id": "7", "webUrl": fake.items[item_id]["webUrl"]}
        if "fields" in query.get("$expand", ""):
            body["fields"] = {
                "@odata.etag": '"1"',
                "FileLeafRef": fake.items[item_id]["name"],
                **fake.fields[item_id],
            }
        self._json(body)

    def _pages(self, fake: FakeSharePoint, query: dict[str, str], site: str) -> None:
        skip = int(query.get("skip", 0))
        pages = list(fake.pages.values())
        body: dict[str, Any] = {"value": pages[skip : skip + fake.page_size]}
        if skip + fake.page_size < len(pages):
            body["@odata.nextLink"] = (
                f"{fake.base_url}/sites/{site}/pages/microsoft.graph.sitePage?skip={skip + fake.page_size}"
            )
        self._json(body)

    def _page_items(self, fake: FakeSharePoint, query: dict[str, str], site: str, list_id: str) -> None:
        if list_id != fake.pages_list_id:
            return self._error(404, "itemNotFound", "List does not exist.")
        items = []
        for number, (page_id, page) in enumerate(fake.pages.items(), start=1):
            item: dict[str, Any] = {"id": str(number), "webUrl": page["webUrl"]}
            if "fields" in query.get("$expand", ""):
                item["fields"] = {
                    "FileLeafRef": page["name"],
                    "Title": page["title"],
                    **fake.page_fields[page_id],
                }
            items.append(item)
        self._json({"value": items})

    def _page(self, fake: FakeSharePoint, query: dict[str, str], site: str, page_id: str) -> None:
        if page_id not in fake.pages:
            return self._error(404, "itemNotFound", "The resource could not be found.")
        page = dict(fake.pages[page_id])
        if "canvasLayout" in query.get("$expand", ""):
            page["canvasLayout"] = {
                "horizontalSections": [
                    {
                        "layout": "oneColumn",
                        "id": "1",
                        "emphasis": "none",
                        "columns": [
                            {
                                "id": "1",
                                "width": 12,
                                "webparts": [
                                    {
                                        "@odata.type": "#microsoft.graph.textWebPart",
                                        "id": str(uuid.uuid4()),
                                        "innerHtml": fake.page_html[page_id],
                                    }
                                ],
                            }
                        ],
                    }
                ]
            }
        self._json(page)


_ROUTES = (
    (r"/drives/([^/]+)/items/root/delta\(\)", "delta", _Handler._delta),
    (r"/drives/([^/]+)/root:(/.+)", "folder", _Handler._folder),
    (r"/drives/([^/]+)/items/([^/]+)/content", "content", _Handler._content),
    (r"/download/([^/]+)", "download", _Handler._download),
    (r"/drives/([^/]+)/items/([^/]+)/listItem", "list_item", _Handler._list_item),
    (r"/sites/([^/]+)/pages/(?:microsoft\.)?graph\.sitePage", "pages", _Handler._pages),
    (r"/sites/([^/]+)/pages/([^/]+)/(?:microsoft\.)?graph\.sitePage", "page", _Handler._page),
    (r"/sites/([^/]+)/lists/([^/]+)/items", "page_items", _Handler._page_items),
)


@contextmanager
def running(fake: FakeSharePoint | None = None) -> Iterator[FakeSharePoint]:
    """Serve `fake` on a free loopback port; its `base_url` is what GRAPH_API_URL should be."""
    fake = fake or FakeSharePoint()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1.0"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
