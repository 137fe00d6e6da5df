"""app.yaml (behaviour) and environment (secrets), each loaded into one validated object.

A bad app.yaml raises `ConfigError` whose lines name the key path and the problem,
e.g. ``pathways[1].steps[2]: unknown content id 'excel-pivots'``. Loading never touches
stored data, so the CLI can refuse to start before anything is written.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.ids import slugify

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
Id = Annotated[str, Field(pattern=_ID_RE.pattern, max_length=100)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Campaign input, checked where it enters (app.yaml, chat, the Slack form): a channel is a name
# or an id of word characters, dots and hyphens (Slack allows 80), a message fits a chat post.
_CHANNEL_RE = re.compile(r"^[\w.-]{1,80}$")
_TEAMS_CHANNEL_RE = re.compile(r"^19:[\w.-]{1,200}@thread\.(tacv2|skype|v2)$")
CAMPAIGN_TITLE_LIMIT = 150
CAMPAIGN_MESSAGE_LIMIT = 2000
GRAPH_DEFAULT_URL = "https://graph.microsoft.com/v1.0"


def channel_problem(name: str, platform: str | None = None) -> str | None:
    """Why `name` (without its '#') cannot be a campaign's channel on `platform` (any, when None),
    or None when it can."""
    if not name:
        return "a channel name is empty"
    if _TEAMS_CHANNEL_RE.match(name):
        return None  # a Teams channel's id, as a channel mention in Teams gives it
    if platform == "teams":  # Teams posts need the channel's id; a typed name does not give it
        return f"in Teams, name the channel by mentioning it (@{name[:80]}), not as #{name[:80]}"
    if len(name) > 80:
        return f"channel name {name[:20]!r}… is {len(name)} characters long; the limit is 80"
    if not _CHANNEL_RE.match(name):
        return f"channel {name[:80]!r} may only have letters, digits, '.', '-' and '_'"
    return None


class ConfigError(Exception):
    """app.yaml could not be used; `problems` holds one 'key.path: what is wrong' line each."""

    def __init__(self, path: str | Path, problems: Sequence[str]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        super().__init__(f"{self.path}: " + "; ".join(self.problems))

    def __str__(self) -> str:
        lines = [f"{self.path} has {len(self.problems)} problem(s):"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pillar(_Strict):
    """A strategic pillar every lesson and pathway ties back to."""

    id: Id
    name: str = Field(min_length=1)
    imperative: str = ""


class Audience(_Strict):
    """Who a pathway is for; all empty means everyone."""

    roles: list[str] = []
    teams: list[str] = []
    users: list[str] = []


class Pathway(_Strict):
    """A hero pathway: ordered steps of content ids tied to a strategic imperative."""

    id: Id
    title: str = Field(min_length=1)
    pillar: str
    imperative: str = ""
    audience: Audience = Audience()
    cadence_days: int = Field(default=7, ge=1, le=90)
    due: dt.date | None = None
    steps: list[str] = Field(min_length=1)


class WorkingHours(_Strict):
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 30)

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class NudgePolicy(_Strict):
    """How politely nudges are sent: time zone, working hours, quiet days, weekly cap."""

    default_timezone: str = "UTC"
    working_hours: WorkingHours = WorkingHours()
    quiet_days: list[str] = ["sat", "sun"]
    max_per_week: int = Field(default=3, ge=0, le=50)
    follow_up_days: int = Field(default=3, ge=1, le=60)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)

    @field_validator("quiet_days")
    @classmethod
    def _weekdays(cls, value: list[str]) -> list[str]:
        days = [day.strip().lower()[:3] for day in value]
        for day in days:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown day {day!r} (use mon, tue, wed, thu, fri, sat, sun)")
        return days


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like 'Europe/London')") from None
    return value


class CampaignConfig(_Strict):
    """An announcement with a pathway invitation (a Join button) posted to channels.

    No `cron` and no `at`: posted once, on the first scheduler tick after it appears.
    `at` without a zone, and `cron`, are read in `timezone` (else nudges.default_timezone).
    """

    id: Id
    title: str = Field(min_length=1, max_length=CAMPAIGN_TITLE_LIMIT)
    message: str = Field(default="", max_length=CAMPAIGN_MESSAGE_LIMIT)
    pathway: str | None = None
    channels: list[str] = Field(min_length=1)
    platform: Literal["slack", "console", "teams"] = "slack"
    cron: str | None = None
    at: dt.datetime | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _zone(value)

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: list[str]) -> list[str]:
        names = [name.strip().lstrip("#") for name in value]
        for name in names:
            if problem := channel_problem(name):
                raise ValueError(problem)
        return names

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone=ZoneInfo("UTC"))
        except ValueError as exc:
            raise ValueError(
                f"invalid cron expression {value!r} ({exc}); use 5 fields: minute hour day month weekday"
            ) from None
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> CampaignConfig:
        if self.cron and self.at:
            raise ValueError("give either cron (repeating) or at (once), not both")
        return self


class Channels(_Strict):
    """Where learnbot posts: the SME channel for unanswered questions, announcements."""

    sme: str | None = None
    announcements: str | None = None


class MarkdownSource(_Strict):
    name: Id
    type: Literal["markdown"]
    path: str


class CsvSource(_Strict):
    name: Id
    type: Literal["csv"]
    path: str
    columns: dict[str, str] = {}
    list_separator: str = ";"


class LmsPackagesSource(_Strict):
    """SCORM / cmi5 packages; `base_url` is where the LMS serves them (relative launch paths go under it)."""

    name: Id
    type: Literal["lms_packages"]
    path: str
    base_url: str | None = Field(default=None, pattern=r"^https?://\S+$")


class SharePointFields(_Strict):
    """Which SharePoint column (a document's list-item field) holds each lesson field."""

    id: str | None = Field(default=None, min_length=1)
    title: str | None = Field(default=None, min_length=1)
    summary: str | None = Field(default=None, min_length=1)
    pillar: str | None = Field(default=None, min_length=1)
    impact: str | None = Field(default=None, min_length=1)
    skills: str | None = Field(default=None, min_length=1)
    audience: str | None = Field(default=None, min_length=1)
    duration_minutes: str | None = Field(default=None, min_length=1)
    reviewed: str | None = Field(default=None, min_length=1)


class SharePointDefaults(_Strict):
    """Values for lessons whose columns leave them empty (site pages have no columns of their own)."""

    pillar: str | None = None
    impact: list[str] = []
    skills: list[str] = []
    audience: list[str] = []
    duration_minutes: int | None = Field(default=None, ge=0, le=10000)
    reviewed: dt.date | None = None


class SharePointSource(_Strict):
    """Site pages (`site_id`) and documents in a drive folder (`drive_id`, `folder`), through Microsoft Graph.

    Read incrementally: the drive's delta link and the pages' eTags are stored between runs.
    """

    name: Id
    type: Literal["sharepoint"]
    site_id: str | None = Field(default=None, min_length=1)
    drive_id: str | None = Field(default=None, min_length=1)
    folder: str = ""
    pages: bool = True
    pages_list: str | None = Field(default=None, min_length=1)  # the Site Pages library (list id): columns
    fields: SharePointFields = SharePointFields()
    defaults: SharePointDefaults = SharePointDefaults()

    @model_validator(mode="after")
    def _something_to_read(self) -> SharePointSource:
        if not self.drive_id and not (self.site_id and self.pages):
            raise ValueError("give drive_id (documents) or site_id (site pages), or both")
        return self


ContentSource = Annotated[
    MarkdownSource | CsvSource | LmsPackagesSource | SharePointSource, Field(discriminator="type")
]


class SearchSettings(_Strict):
    """How sure search must be before answering, alternatives to show, synonyms, the semantic tier."""

    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    alternatives: int = Field(default=2, ge=0, le=5)
    synonyms: list[list[str]] = []
    builtin_synonyms: bool = True
    semantic: Literal["off", "on", "auto"] = "auto"
    refresh_seconds: int = Field(default=30, ge=0, le=86400)

    @field_validator("semantic", mode="before")
    @classmethod
    def _yaml_on_off(cls, value: object) -> object:
        """YAML reads a bare on / off as true / false."""
        return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value

    @field_validator("synonyms")
    @classmethod
    def _synonym_groups(cls, value: list[list[str]]) -> list[list[str]]:
        groups = []
        for number, group in enumerate(value):
            phrases = [phrase.strip() for phrase in group if phrase.strip()]
            if len(phrases) < 2:
                raise ValueError(f"group {number} needs at least two phrases that mean the same thing")
            if any(len(phrase) > 100 for phrase in phrases):
                raise ValueError(f"group {number} has a phrase longer than 100 characters")
            groups.append(phrases)
        return groups


class PassiveHelp(_Strict):
    """Quiet suggestions in opted-in channels (ids on any platform): confident matches, rate-limited."""

    channels: list[str] = []
    reply_as: Literal["ephemeral", "thread"] = "ephemeral"
    min_confidence: float = Field(default=0.8, ge=0, le=1)
    per_channel_minutes: int = Field(default=30, ge=0, le=10080)
    per_user_minutes: int = Field(default=240, ge=0, le=10080)


class SlackSettings(_Strict):
    """Slack behaviour (not secrets). `passive_help` here is the older spelling of the top-level key."""

    passive_help: PassiveHelp | None = None


class OrgSync(_Strict):
    """Where the org chart (people, teams, managers, time zones) comes from, and how often it is read.

    `roster` is a CSV or YAML file (name, email, manager_email, team, timezone, role), relative to app.yaml.
    """

    source: Literal["graph", "roster", "off"] = "off"
    roster: str | None = None
    sync_hours: int = Field(default=24, ge=1, le=168)

    @field_validator("source", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        return _off(value)


class OneOnOnes(_Strict):
    """Where managers' 1:1s are found, how far ahead, and when the manager's prompt goes out.

    `roster` is a CSV or YAML file of recurring 1:1s (manager_email, report_email, weekday, time,
    timezone, every_weeks, starting), relative to app.yaml. `scan_minutes`: how often calendars are read.
    """

    source: Literal["graph", "roster", "off"] = "off"
    roster: str | None = None
    lead_hours: float = Field(default=2, gt=0, le=72)
    lookahead_days: int = Field(default=7, ge=1, le=31)
    when_nothing_new: Literal["skip", "suggest"] = "skip"
    scan_minutes: int = Field(default=60, ge=5, le=1440)

    @field_validator("source", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        return _off(value)


def _off(value: object) -> object:
    """YAML reads a bare `off` as false."""
    return "off" if value is False else value


class ContentSettings(_Strict):
    """Content upkeep: a lesson whose `reviewed` date is older than this is flagged by the `why` audit."""

    review_after_days: int = Field(default=365, ge=1, le=3650)


PULSE_QUESTION = "How clearly do you see how your learning connects to our goals?"


class PurposePulse(_Strict):
    """The optional purpose pulse: one 1-5 question a period to each active learner (off by default).

    A period starts on the 1st of each month in `months` (default January, April, July, October),
    or, with `every_days`, every that many days counted from 2026-01-05 (a Monday).
    """

    enabled: bool = False
    question: str = Field(default=PULSE_QUESTION, min_length=1, max_length=300)
    months: list[int] | None = None
    every_days: int | None = Field(default=None, ge=7, le=366)

    @field_validator("months")
    @classmethod
    def _months(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("list at least one month (1-12), or leave months out")
        for month in value:
            if not 1 <= month <= 12:
                raise ValueError(f"month {month} is not 1-12")
        return sorted(set(value))

    @model_validator(mode="after")
    def _one_schedule(self) -> PurposePulse:
        if self.months is not None and self.every_days is not None:
            raise ValueError("give either months or every_days, not both")
        return self


class XapiConfig(_Strict):
    """xAPI export (on only when XAPI_ENDPOINT is set): how learners are named and statements batched.

    `actor`: `account` (the platform's URL and the person's id there) or `mbox_sha1sum` (the
    SHA-1 of their email, for an LRS that joins people by email); `iri_base`: the IRI under which
    learnbot names its lessons, questions, pillars, pathways, extensions and the `applied` verb.
    """

    actor: Literal["account", "mbox_sha1sum"] = "account"
    batch_size: int = Field(default=50, ge=1, le=500)
    iri_base: str = "https://learnbot.example/xapi"

    @field_validator("iri_base")
    @classmethod
    def _http_iri(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"must be an http(s) URL without ?query or #fragment (got {value!r})")
        return value


class AppConfig(_Strict):
    """Everything in app.yaml."""

    organisation: str = "Our company"
    pillars: list[Pillar] = Field(min_length=1)
    pathways: list[Pathway] = []
    nudges: NudgePolicy = NudgePolicy()
    campaigns: list[CampaignConfig] = []
    channels: Channels = Channels()
    admins: list[str] = []
    smes: list[str] = []
    managers: list[str] = []
    content_sources: list[ContentSource] = []
    search: SearchSettings = SearchSettings()
    passive_help: PassiveHelp = PassiveHelp()
    slack: SlackSettings = SlackSettings()
    org: OrgSync = OrgSync()
    one_on_ones: OneOnOnes = OneOnOnes()
    content: ContentSettings = ContentSettings()
    purpose_pulse: PurposePulse = PurposePulse()
    xapi: XapiConfig = XapiConfig()
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _passive_help_moved(self) -> AppConfig:
        """`slack.passive_help` (the older place) still works when the top-level key is not given."""
        if self.slack.passive_help is not None and "passive_help" not in self.model_fields_set:
            object.__setattr__(self, "passive_help", self.slack.passive_help)
        return self

    def pillar(self, pillar_id: str | None) -> Pillar | None:
        return next((p for p in self.pillars if p.id == pillar_id), None)

    def resolve(self, path: str) -> Path:
        """Source paths are relative to the folder app.yaml lives in."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else (self.base_dir / candidate).resolve()


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("markdown", "csv", "lms_packages", "sharepoint") and out.endswith("]"):
            continue  # pydantic names the union member tried; the user did not write it
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling)"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} is not a valid id (lowercase letters, digits and hyphens)"
    if kind == "union_tag_invalid":
        given = error["input"].get("type")
        return f"unknown source type {given!r} (use markdown, csv, lms_packages or sharepoint)"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _cross_checks(config: AppConfig) -> list[str]:
    problems: list[str] = []
    pillar_ids = {p.id for p in config.pillars}
    kinds: tuple[tuple[str, Sequence[Pillar | Pathway | CampaignConfig]], ...] = (
        ("pillars", config.pillars),
        ("pathways", config.pathways),
        ("campaigns", config.campaigns),
    )
    for kind, items in kinds:
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if item.id in seen:
                problems.append(
                    f"{kind}[{index}].id: duplicate id {item.id!r} (first at {kind}[{seen[item.id]}])"
                )
            seen.setdefault(item.id, index)
    for index, pathway in enumerate(config.pathways):
        if pathway.pillar not in pillar_ids:
            known = ", ".join(sorted(pillar_ids))
            problems.append(f"pathways[{index}].pillar: unknown pillar {pathway.pillar!r} (known: {known})")
    pathway_ids = {p.id for p in config.pathways}
    for index, campaign in enumerate(config.campaigns):
        if campaign.pathway and campaign.pathway not in pathway_ids:
            known = ", ".join(sorted(pathway_ids)) or "none"
            problems.append(
                f"campaigns[{index}].pathway: unknown pathway {campaign.pathway!r} (known: {known})"
            )
    names: dict[str, int] = {}
    for index, source in enumerate(config.content_sources):
        if source.name in names:
            problems.append(f"content_sources[{index}].name: duplicate source name {source.name!r}")
        if source.name == "curated":  # storage.curation.CURATED_SOURCE
            problems.append(
                f"content_sources[{index}].name: 'curated' is reserved for lessons experts save from chat"
            )
        names.setdefault(source.name, index)
        if isinstance(source, SharePointSource):
            problems += _sharepoint_checks(source, index, pillar_ids)
        elif not config.resolve(source.path).exists():
            problems.append(f"content_sources[{index}].path: {source.path!r} does not exist")
    for key, section in (("org", config.org), ("one_on_ones", config.one_on_ones)):
        if section.source == "roster" and not section.roster:
            problems.append(f"{key}.roster: required when {key}.source is roster (a CSV or YAML file)")
        elif section.source == "roster" and section.roster and not config.resolve(section.roster).is_file():
            problems.append(f"{key}.roster: {section.roster!r} does not exist")
    return problems


def _sharepoint_checks(source: SharePointSource, index: int, pillar_ids: set[str]) -> list[str]:
    """A SharePoint source's default pillar must be one app.yaml defines."""
    pillar = source.defaults.pillar
    if pillar and slugify(pillar) not in pillar_ids:
        known = ", ".join(sorted(pillar_ids))
        return [f"content_sources[{index}].defaults.pillar: unknown pillar {pillar!r} (known: {known})"]
    return []


def load_config(path: str | Path) -> AppConfig:
    """Read and validate app.yaml; raise `ConfigError` listing every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, [f"{where}: not valid YAML ({problem})"]) from None
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping of keys like 'pillars:' and 'pathways:'"])
    try:
        config = AppConfig.model_validate({**data, "base_dir": path.resolve().parent})
    except ValidationError as exc:
        problems = [f"{_loc(err['loc'])}: {_message(err)}" for err in exc.errors()]
        raise ConfigError(path, problems) from None
    problems = _cross_checks(config)
    if problems:
        raise ConfigError(path, problems)
    return config


def check_content_references(config: AppConfig, known_ids: Iterable[str], path: str | Path) -> None:
    """Every pathway step must name content learnbot has ever indexed; raise `ConfigError` otherwise."""
    known = set(known_ids)
    problems = []
    for p_index, pathway in enumerate(config.pathways):
        for s_index, step in enumerate(pathway.steps):
            if slugify(step) not in known:
                problems.append(f"pathways[{p_index}].steps[{s_index}]: unknown content id {step!r}")
    if problems:
        raise ConfigError(path, problems)


def missing_steps(config: AppConfig, active_ids: Iterable[str]) -> list[str]:
    """Pathway steps whose lesson has left the library (its file deleted): learners skip them meanwhile."""
    active = set(active_ids)
    return [
        f"pathways[{p_index}].steps[{s_index}]: lesson {step!r} is no longer in the library; "
        "learners skip this step until it is back or the pathway changes"
        for p_index, pathway in enumerate(config.pathways)
        for s_index, step in enumerate(pathway.steps)
        if slugify(step) not in active
    ]


class Settings(BaseSettings):
    """Secrets and locations, from the environment or a .env file; never from app.yaml.

    Each field reads the environment variable in its alias (e.g. `DATABASE_URL`); code and
    tests may also pass fields by name. Secrets are kept out of reprs and logs.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=Path(".learnbot"), validation_alias="LEARNBOT_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL", repr=False)
    config_path: Path = Field(default=Path("app.yaml"), validation_alias="LEARNBOT_CONFIG")
    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN", repr=False)
    slack_signing_secret: str | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET", repr=False
    )
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN", repr=False)
    slack_api_url: str | None = Field(default=None, validation_alias="SLACK_API_URL")
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET", repr=False)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", validation_alias="LEARNBOT_LOG_LEVEL"
    )
    graph_tenant_id: str | None = Field(default=None, validation_alias="GRAPH_TENANT_ID")
    graph_client_id: str | None = Field(default=None, validation_alias="GRAPH_CLIENT_ID")
    graph_client_secret: str | None = Field(default=None, validation_alias="GRAPH_CLIENT_SECRET", repr=False)
    graph_api_url: str = Field(default=GRAPH_DEFAULT_URL, validation_alias="GRAPH_API_URL")
    graph_allow_anonymous: bool = Field(default=False, validation_alias="GRAPH_ALLOW_ANONYMOUS")
    teams_app_id: str | None = Field(default=None, validation_alias="TEAMS_APP_ID")
    teams_app_password: str | None = Field(default=None, validation_alias="TEAMS_APP_PASSWORD", repr=False)
    teams_tenant_id: str | None = Field(default=None, validation_alias="TEAMS_TENANT_ID")
    teams_cert_pfx_file: Path | None = Field(default=None, validation_alias="TEAMS_CERT_PFX_FILE")
    teams_allow_anonymous: bool = Field(default=False, validation_alias="TEAMS_ALLOW_ANONYMOUS")
    xapi_endpoint: str | None = Field(default=None, validation_alias="XAPI_ENDPOINT")
    xapi_key: str | None = Field(default=None, validation_alias="XAPI_KEY", repr=False)
    xapi_secret: str | None = Field(default=None, validation_alias="XAPI_SECRET", repr=False)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "database_url",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_api_url",
        "slack_client_id",
        "slack_client_secret",
        "graph_tenant_id",
        "graph_client_id",
        "graph_client_secret",
        "teams_app_id",
        "teams_app_password",
        "teams_tenant_id",
        "teams_cert_pfx_file",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("graph_api_url", mode="before")
    @classmethod
    def _graph_default(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return GRAPH_DEFAULT_URL
        return value.strip().rstrip("/") if isinstance(value, str) else value

    @field_validator("graph_api_url")
    @classmethod
    def _graph_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"GRAPH_API_URL must be an http(s) URL like {GRAPH_DEFAULT_URL} (got {value!r})")
        if parts.scheme == "http" and not is_loopback(value):
            raise ValueError(f"GRAPH_API_URL must use https unless it is a loopback address (got {value!r})")
        return value

    @model_validator(mode="after")
    def _anonymous_only_on_loopback(self) -> Settings:
        if self.graph_allow_anonymous and not is_loopback(self.graph_api_url):
            raise ValueError(
                "GRAPH_ALLOW_ANONYMOUS is for local fakes only: GRAPH_API_URL must be a loopback address "
                f"(localhost, 127.0.0.1, ::1), not {urlsplit(self.graph_api_url).hostname!r}"
            )
        return self

    @field_validator("xapi_endpoint", "xapi_key", "xapi_secret", mode="before")
    @classmethod
    def _xapi_empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("xapi_endpoint")
    @classmethod
    def _xapi_endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"XAPI_ENDPOINT must be an http(s) URL like https://lrs.example.com/xAPI (got {value!r})"
            )
        if parts.scheme == "http" and not is_loopback(value):
            raise ValueError(f"XAPI_ENDPOINT must use https unless it is a loopback address (got {value!r})")
        return value

    @model_validator(mode="after")
    def _xapi_credentials(self) -> Settings:
        if self.xapi_endpoint and not (self.xapi_key and self.xapi_secret):
            raise ValueError(
                "XAPI_ENDPOINT is set: XAPI_KEY and XAPI_SECRET (the LRS's basic-auth key and secret) "
                "are needed too"
            )
        return self

    @field_validator("slack_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://", value):
            raise ValueError(f"SLACK_API_URL must start with http:// or https:// (got {value!r})")
        return value

    @property
    def db_url(self) -> str:
        """`DATABASE_URL` when set (PostgreSQL), else a SQLite file in the data directory."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql://" + url.removeprefix("postgres://")
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'learnbot.db').resolve()}"

    @property
    def has_slack(self) -> bool:
        return bool(self.slack_bot_token or self.has_slack_oauth)

    @property
    def has_graph(self) -> bool:
        """Graph can be called: client credentials are all set, or anonymous calls to a loopback fake."""
        credentials = self.graph_tenant_id and self.graph_client_id and self.graph_client_secret
        return bool(credentials or self.graph_allow_anonymous)

    @property
    def has_teams(self) -> bool:
        """Teams is served: an app id with a password or certificate, or anonymous local testing."""
        credentials = self.teams_app_id and (self.teams_app_password or self.teams_cert_pfx_file)
        return bool(credentials or self.teams_allow_anonymous)

    @property
    def has_slack_oauth(self) -> bool:
        """Multi-workspace install: both the OAuth client id and secret are set."""
        return bool(self.slack_client_id and self.slack_client_secret)


def is_loopback(url: str) -> bool:
    """The URL's host is this machine (localhost, a loopback IP): the only place Graph may be anonymous."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SettingsError(ValueError):
    """The environment (or .env) has a bad value; the message names the variable."""


def load_settings(env: dict[str, str] | None = None, env_file: str | Path = ".env") -> Settings:
    """Environment variables win over `.env`; with `env`, only that mapping is read (tests)."""
    try:
        if env is not None:
            return Settings.model_validate(env)
        file = Path(env_file)
        return Settings(_env_file=file if file.exists() else None)  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {_message(e)}" if e["loc"] else _message(e)
            for e in exc.errors()
        )
        raise SettingsError(f"bad environment setting: {problems}") from None
