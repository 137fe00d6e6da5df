"""Read SCORM (1.2, 2004) and cmi5 packages, as folders or .zip files, into course items.

Each package becomes a `course` item plus one item per launchable unit (`sco` for SCORM,
`au` for cmi5). Only the manifest and an optional `learnbot.yaml` are read, never
extracted, and XML is parsed with defusedxml so entity tricks (XXE, entity bombs) fail.
A broken package becomes one `SourceProblem` and the other packages are still read.
Item locations are `<package>/<manifest>:<identifier>`, so a problem naming the package or
its manifest tells the indexer to keep that package's stored items as they are.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree.ElementTree import Element, ParseError

import yaml
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from content_index.sources.base import (
    ItemError,
    ScanResult,
    SourceItem,
    SourceProblem,
    item_from_metadata,
    relative,
    slugify,
)

SCORM_MANIFEST = "imsmanifest.xml"
CMI5_MANIFEST = "cmi5.xml"
METADATA_FILE = "learnbot.yaml"
MAX_MANIFEST_BYTES = 5 * 1024 * 1024
MAX_METADATA_BYTES = 256 * 1024
PACKAGE_FIELDS = ("pillar", "skills", "impact", "audience", "duration_minutes", "reviewed")
_DURATION_RE = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_ABSOLUTE_RE = re.compile(r"^https?://", re.IGNORECASE)
_CLOCK_RE = re.compile(r"^(?P<hours>\d+):(?P<minutes>\d{1,2})(?::(?P<seconds>\d{1,2}(?:\.\d+)?))?$")


class PackageError(Exception):
    """The package as a whole cannot be read; becomes one problem for it."""

    def __init__(self, message: str, path: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


@dataclass
class Unit:
    """One launchable unit (SCO or AU) found in a manifest, before metadata rules are applied."""

    identifier: str
    title: str
    description: str = ""
    href: str | None = None
    duration_minutes: int | None = None


@dataclass
class Course:
    """What a manifest says about one course and its units."""

    identifier: str
    title: str
    unit_kind: str
    description: str = ""
    duration_minutes: int | None = None
    units: list[Unit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Package:
    """A package's name and where its files are, plus the manifest file name and its text."""

    name: str
    where: str
    manifest_name: str
    manifest: bytes
    metadata: bytes | None


def read_lms_packages(path: Path, *, source: str, base_url: str | None = None) -> ScanResult:
    """Read every package (sub-folder or .zip) in the folder `path`, one problem per broken package.

    Package-relative launch paths become links under `base_url` (where the LMS serves the
    packages, e.g. https://lms.example.com/packages); without it such a unit is a problem.
    """
    result = ScanResult()
    if not path.is_dir():
        result.problems.append(SourceProblem(str(path), "not a folder of SCORM/cmi5 packages"))
        return result
    seen: dict[str, str] = {}
    for entry in sorted(path.iterdir()):
        if entry.name.startswith(".") or not (entry.is_dir() or entry.suffix.lower() == ".zip"):
            continue
        where = relative(entry, path)
        try:
            package = _open_package(entry, where)
            _add_unique(result, _read_package(package, source, base_url), seen)
        except PackageError as exc:
            result.problems.append(SourceProblem(exc.path, str(exc), line=exc.line))
    return result


def _add_unique(result: ScanResult, found: ScanResult, seen: dict[str, str]) -> None:
    """Add a package's items, turning an id already used by another package into a problem."""
    result.problems.extend(found.problems)
    for item in found.items:
        if item.id in seen:
            message = f"duplicate id '{item.id}' (already used by {seen[item.id]})"
            result.problems.append(SourceProblem(item.location, message))
        else:
            seen[item.id] = item.location
            result.items.append(item)


# --- Finding the manifest -------------------------------------------------------------------


def _open_package(entry: Path, where: str) -> Package:
    """Read the manifest (and learnbot.yaml if any) from a package folder or zip."""
    if entry.is_dir():
        files = {child.name.casefold(): child for child in entry.iterdir() if child.is_file()}
        manifest_name = _manifest_name(files, where, nested=_nested_manifests_in_folder(entry))
        metadata_path = files.get(METADATA_FILE)
        return Package(
            name=entry.name,
            where=where,
            manifest_name=manifest_name,
            manifest=_read_limited_file(files[manifest_name], MAX_MANIFEST_BYTES, where),
            metadata=_read_limited_file(metadata_path, MAX_METADATA_BYTES, where) if metadata_path else None,
        )
    return _open_zip(entry, where)


def _open_zip(entry: Path, where: str) -> Package:
    """Read the manifest from a zip without extracting anything (so hostile member names do no harm)."""
    try:
        with zipfile.ZipFile(entry) as archive:
            members = {
                info.filename.casefold(): info
                for info in archive.infolist()
                if "/" not in info.filename and not info.is_dir()
            }
            nested = [name for name in archive.namelist() if _is_manifest_name(posixpath.basename(name))]
            manifest_name = _manifest_name(members, where, nested=nested)
            metadata_info = members.get(METADATA_FILE)
            return Package(
                name=entry.stem,
                where=where,
                manifest_name=manifest_name,
                manifest=_read_limited_member(archive, members[manifest_name], MAX_MANIFEST_BYTES, where),
                metadata=(
                    _read_limited_member(archive, metadata_info, MAX_METADATA_BYTES, where)
                    if metadata_info
                    else None
                ),
            )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as exc:
        raise PackageError(f"not a valid zip file ({exc})", where) from None
    except (OSError, RuntimeError, NotImplementedError) as exc:
        raise PackageError(f"cannot read the zip file: {exc}", where) from None


def _is_manifest_name(name: str) -> bool:
    return name.casefold() in (SCORM_MANIFEST, CMI5_MANIFEST)


def _nested_manifests_in_folder(entry: Path) -> list[str]:
    """Manifests one level down, only to explain a common packaging mistake."""
    return [
        f"{child.parent.name}/{child.name}"
        for child in entry.glob("*/*")
        if child.is_file() and _is_manifest_name(child.name)
    ]


def _manifest_name(files: Mapping[str, Any], where: str, *, nested: list[str]) -> str:
    """Which manifest is at the package root: imsmanifest.xml (SCORM) first, else cmi5.xml."""
    for name in (SCORM_MANIFEST, CMI5_MANIFEST):
        if name in files:
            return name
    hint = f"; found {nested[0]}, but it must be at the package root" if nested else ""
    raise PackageError(
        f"no {SCORM_MANIFEST} (SCORM) or {CMI5_MANIFEST} (cmi5) at the package root{hint}", where
    )


def _read_limited_file(path: Path, limit: int, where: str) -> bytes:
    """Read a small file from a package folder, refusing files too big to be a manifest."""
    try:
        if path.stat().st_size > limit:
            raise PackageError(f"{path.name} is larger than {limit // 1024} KiB; not reading it", where)
        return path.read_bytes()
    except OSError as exc:
        raise PackageError(f"cannot read {path.name}: {exc.strerror or exc}", where) from None


def _read_limited_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str) -> bytes:
    """Read a small zip member; the declared size can lie, so never read more than `limit` bytes."""
    too_big = PackageError(f"{info.filename} is larger than {limit // 1024} KiB; not reading it", where)
    if info.file_size > limit:
        raise too_big
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise too_big
    return data


# --- Reading one package ----------------------------------------------------------------------


def _read_package(package: Package, source: str, base_url: str | None) -> ScanResult:
    """Turn a package's manifest and metadata into items; problems in single units don't stop the rest."""
    manifest_where = f"{package.where}/{package.manifest_name}"
    root = _parse_xml(package.manifest, manifest_where)
    meta = _package_metadata(package)
    if package.manifest_name == SCORM_MANIFEST:
        courses = _scorm_courses(root, manifest_where)
    else:
        courses = [_cmi5_course(root, manifest_where)]
    result = ScanResult()
    for course in courses:
        result.extend(_course_items(course, package, meta, source, manifest_where, base_url))
    return result


def _parse_xml(data: bytes, where: str) -> Element:
    """Parse a manifest safely: no DTD-declared entities, no external references."""
    try:
        return fromstring(data)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise PackageError(f"malformed XML: {exc}", where, line=line) from None
    except DefusedXmlException as exc:
        raise PackageError(
            f"the manifest declares XML entities or external references, which are not allowed ({exc})", where
        ) from None


def _package_metadata(package: Package) -> dict[str, Any]:
    """learnbot.yaml's fields for every item of the package, checked once with the shared rules."""
    if package.metadata is None:
        return {}
    where, name = package.where, METADATA_FILE  # problems name the package, so the indexer keeps its items
    try:
        meta = yaml.safe_load(package.metadata.decode("utf-8-sig")) or {}
    except UnicodeDecodeError:
        raise PackageError(f"{name}: not UTF-8 text", where) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise PackageError(f"{name}{at}: invalid YAML: {problem}", where) from None
    if not isinstance(meta, dict):
        raise PackageError(f"{name} must be a mapping of fields (pillar: ..., skills: [...])", where)
    unknown = sorted(str(key) for key in meta if key not in PACKAGE_FIELDS)
    if unknown:
        raise PackageError(
            f"{name}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(PACKAGE_FIELDS)}", where
        )
    try:
        item_from_metadata({**meta, "title": "check"}, source="", default_id="check")
    except ItemError as exc:
        raise PackageError(f"{name}: {exc}", where) from None
    return meta


def _course_items(
    course: Course,
    package: Package,
    meta: Mapping[str, Any],
    source: str,
    where: str,
    base_url: str | None,
) -> ScanResult:
    """The course item followed by its unit items, all carrying the package's metadata."""
    result = ScanResult(problems=[SourceProblem(where, message) for message in course.problems])
    units: list[SourceItem] = []
    first_href = None
    for unit in course.units:
        try:
            if not unit.href:
                raise ItemError("has no launch link (SCORM resource href / cmi5 <url>)")
            units.append(_item(unit, course.unit_kind, package, meta, source, where, base_url))
            first_href = first_href or unit.href
        except ItemError as exc:
            result.problems.append(SourceProblem(where, f"{course.unit_kind} '{unit.identifier}': {exc}"))
    try:
        course_item = _item(
            _course_unit(course, first_href), "course", package, meta, source, where, base_url
        )
    except ItemError as exc:
        raise PackageError(f"course '{course.identifier}': {exc}", where) from None
    result.items = [course_item, *units]
    return result


def _course_unit(course: Course, first_href: str | None) -> Unit:
    """The course as a launchable unit: it opens at its first good unit and lasts as long as all of them."""
    duration = course.duration_minutes
    if duration is None and course.units and all(u.duration_minutes is not None for u in course.units):
        duration = sum(u.duration_minutes or 0 for u in course.units)
    return Unit(course.identifier, course.title, course.description, first_href, duration)


def _item(
    unit: Unit,
    kind: str,
    package: Package,
    meta: Mapping[str, Any],
    source: str,
    where: str,
    base_url: str | None,
) -> SourceItem:
    """One item with the shared metadata rules; learnbot.yaml wins over what the manifest says."""
    fields: dict[str, Any] = {**meta, "title": unit.title, "summary": unit.description}
    fields.setdefault("duration_minutes", unit.duration_minutes)
    fields["url"] = _launch_url(package.name, unit.href, base_url) if unit.href else None
    return item_from_metadata(
        fields,
        source=source,
        default_id=slugify(f"{package.name}-{unit.identifier}"),
        kind=kind,
        location=f"{where}:{unit.identifier}",
    )


def _launch_url(package_name: str, href: str, base_url: str | None) -> str:
    """Absolute http(s) links stay; package-relative launch paths go under `base_url`/<package>/."""
    href = href.strip().replace("\\", "/")
    if _ABSOLUTE_RE.match(href):
        return href
    cut = min((i for i in (href.find("?"), href.find("#")) if i >= 0), default=len(href))
    path, tail = href[:cut], href[cut:]
    path = posixpath.normpath(path.lstrip("/")) if path.strip("/") else ""
    if path == ".." or path.startswith("../"):
        raise ItemError(f"launch path {href!r} points outside the package")
    if not base_url:
        raise ItemError(
            f"launch path {href!r} is relative, and nothing serves it: set base_url on this lms_packages "
            "source in app.yaml (where your LMS serves the packages), or give the unit an absolute link"
        )
    safe = "/?&=#%:;,+@!$'()*~"
    package = quote(package_name, safe="")
    return f"{base_url.rstrip('/')}/{package}/{quote(path, safe=safe)}{quote(tail, safe=safe)}"


# --- XML helpers (namespaces vary between SCORM versions and tools: match on local names) ------


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].casefold()


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if _local(child.tag) == name)


def _child(element: Element, name: str) -> Element | None:
    return next(_children(element, name), None)


def _lom_field(element: Element, section: str, name: str) -> Element | None:
    """The first <name> directly inside any <section> below `element` (e.g. LOM general/description)."""
    for found in element.iter():
        if _local(found.tag) == section:
            child = _child(found, name)
            if child is not None:
                return child
    return None


def _attr(element: Element, name: str) -> str:
    """An attribute by local name, case-insensitive (SCORM 1.2 'scormtype' vs 2004 'scormType')."""
    for key, value in element.attrib.items():
        if _local(key) == name.casefold():
            return value.strip()
    return ""


def _text(element: Element | None) -> str:
    """Plain text, or the English one of several <langstring>/<string> translations (else the first)."""
    if element is None:
        return ""
    translations = [child for child in element if _local(child.tag) in ("langstring", "string")]
    if not translations:
        return " ".join("".join(element.itertext()).split())
    texts = [
        (_attr(c, "lang") or _attr(c, "language"), " ".join((c.text or "").split())) for c in translations
    ]
    texts = [(lang.casefold(), text) for lang, text in texts if text]
    english = [text for lang, text in texts if lang == "en" or lang.startswith("en-")]
    return (english or [text for _, text in texts] or [""])[0]


def _parse_duration(text: str) -> int | None:
    """Minutes (rounded up) from an ISO 8601 duration 'PT15M' or a SCORM 1.2 clock '0000:15:00'."""
    match = _DURATION_RE.match(text.strip().upper()) or _CLOCK_RE.match(text.strip())
    if not match or not any(match.groupdict().values()):
        return None
    parts = {key: float(value) for key, value in match.groupdict().items() if value}
    seconds = (
        parts.get("days", 0) * 86400
        + parts.get("hours", 0) * 3600
        + parts.get("minutes", 0) * 60
        + parts.get("seconds", 0)
    )
    return -(-int(seconds) // 60)


def _lom_description(element: Element) -> str:
    """A <description> directly on the element, else the one in its own LOM <metadata>."""
    direct = _text(_child(element, "description"))
    if direct:
        return direct
    metadata = _child(element, "metadata")
    return _text(_lom_field(metadata, "general", "description")) if metadata is not None else ""


def _lom_title(element: Element) -> str:
    """The title in the element's own LOM <metadata>, for manifests whose organization has none."""
    metadata = _child(element, "metadata")
    return _text(_lom_field(metadata, "general", "title")) if metadata is not None else ""


def _lom_duration(element: Element) -> int | None:
    """Typical learning time from the element's own LOM metadata (2004 <duration>, 1.2 <datetime>)."""
    metadata = _child(element, "metadata")
    if metadata is None:
        return None
    time = next((found for found in metadata.iter() if _local(found.tag) == "typicallearningtime"), None)
    if time is None:
        return None
    value = next((child for child in time if _local(child.tag) in ("duration", "datetime")), time)
    return _parse_duration(_text(value))


# --- SCORM --------------------------------------------------------------------------------------


def _scorm_courses(root: Element, where: str) -> list[Course]:
    """One course per <organization>, with a unit per item that launches a SCO resource."""
    if _local(root.tag) != "manifest":
        raise PackageError(f"root element is <{_local(root.tag)}>, expected <manifest>", where)
    resources_el = _child(root, "resources")
    resources = (
        {}
        if resources_el is None
        else {_attr(r, "identifier"): r for r in _children(resources_el, "resource")}
    )
    organizations = _child(root, "organizations")
    orgs = list(_children(organizations, "organization")) if organizations is not None else []
    if not orgs:
        raise PackageError("the manifest has no <organization>, so there is no course to show", where)
    base = _attr(root, "base") + (_attr(resources_el, "base") if resources_el is not None else "")
    courses = []
    for org in orgs:
        course = Course(
            identifier=_attr(org, "identifier") or _attr(root, "identifier"),
            title=_text(_child(org, "title")) or _lom_title(root),
            unit_kind="sco",
            description=_lom_description(org) or _lom_description(root),
            duration_minutes=_lom_duration(org) or _lom_duration(root),
        )
        if not course.title:
            raise PackageError("the manifest has no <title> for its organization", where)
        _collect_scos(org, resources, base, course)
        courses.append(course)
    return courses


def _collect_scos(org: Element, resources: Mapping[str, Element], base: str, course: Course) -> None:
    """Every <item> at any depth, in order; those pointing at a SCO resource become units, others are folders.

    A resource without a scormType is taken as a SCO: sloppy exports omit it, and assets are rarely items.
    """
    for item in org.iter():
        ref = _attr(item, "identifierref") if _local(item.tag) == "item" else ""
        if not ref:
            continue
        resource = resources.get(ref)
        if resource is None:
            course.problems.append(f"item '{_attr(item, 'identifier')}' refers to missing resource '{ref}'")
        elif _attr(resource, "scormtype").casefold() != "asset":
            course.units.append(_sco_unit(item, resource, base))


def _sco_unit(item: Element, resource: Element, base: str) -> Unit:
    """A SCO from its <item> (title, parameters) and <resource> (href, xml:base, metadata)."""
    href = _attr(resource, "href")
    if href and not _ABSOLUTE_RE.match(href):
        href = base + _attr(resource, "base") + href
    return Unit(
        identifier=_attr(item, "identifier") or _attr(resource, "identifier"),
        title=_text(_child(item, "title")),
        description=_lom_description(item) or _lom_description(resource),
        href=_with_parameters(href, _attr(item, "parameters")) if href else None,
        duration_minutes=_lom_duration(item) or _lom_duration(resource),
    )


def _with_parameters(href: str, parameters: str) -> str:
    """Append an item's launch parameters to its resource href, as the SCORM CAM describes."""
    parameters = parameters.lstrip("?&") if not parameters.startswith("#") else parameters
    if not parameters:
        return href
    if parameters.startswith("#"):
        return href if "#" in href else href + parameters
    return f"{href}{'&' if '?' in href else '?'}{parameters}"


# --- cmi5 ---------------------------------------------------------------------------------------


def _cmi5_course(root: Element, where: str) -> Course:
    """The <course> and every <au> (also inside <block>s) of a cmi5 course structure."""
    if _local(root.tag) != "coursestructure":
        raise PackageError(f"root element is <{_local(root.tag)}>, expected <courseStructure>", where)
    course_el = _child(root, "course")
    if course_el is None:
        raise PackageError("cmi5.xml has no <course>", where)
    course = Course(
        identifier=_attr(course_el, "id"),
        title=_text(_child(course_el, "title")),
        unit_kind="au",
        description=_text(_child(course_el, "description")),
    )
    if not course.title:
        raise PackageError("the <course> in cmi5.xml has no <title>", where)
    for au in root.iter():
        if _local(au.tag) == "au":
            course.units.append(
                Unit(
                    identifier=_attr(au, "id"),
                    title=_text(_child(au, "title")),
                    description=_text(_child(au, "description")),
                    href=_text(_child(au, "url")) or None,
                )
            )
    return course
