"""Every setting with its default and a one-line doc; read from JIEFEN_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def _default_bpmn_dir() -> Path:
    local = ROOT / "bpmn"
    if local.is_dir():
        return local
    import sys

    return Path(sys.prefix) / "share" / "jiefen" / "bpmn"


@dataclass(frozen=True)
class Settings:
    """jiefen configuration (``from_env`` reads it from JIEFEN_* variables)."""

    instance_path: Path = field(default_factory=lambda: Path.cwd() / "instance")  # SQLite, keys, files
    database_url: str = ""                          # default: SQLite file in the instance folder
    secret_key: str = ""                            # Flask cookie signing; from the keys file if empty
    keys_file: Path | None = None                   # default: <instance>/keys.json
    timezone: str = "Asia/Shanghai"                 # display and working-day arithmetic
    default_locale: str = "zh_Hans_CN"
    locales: tuple[str, ...] = ("zh_Hans_CN", "en")
    bpmn_dir: Path = field(default_factory=_default_bpmn_dir)  # shipped defaults for `jiefen deploy`
    scheduler_embedded: bool = True                 # `serve --dev` runs the scheduler in-process
    sweep_max_sleep: float = 1.0                    # lateness bound for timers armed elsewhere (s)
    sweep_batch: int = 200                          # instances per sweep
    timer_max_attempts: int = 3                     # then incident
    light_ladder: bool = False                      # lights also climb the ladder (processes without one)
    outbox_interval: float = 10.0                   # seconds between deliveries
    rollup_interval: float = 5.0                    # seconds between rollup catch-ups
    outbox_batch: int = 500                         # messages claimed per round trip
    outbox_drain_seconds: float = 8.0               # a delivery run stops after this
    outbox_rate_limits: str = ""                    # "sms=20,email=5": messages/s per channel
    outbox_max_attempts: int = 8
    notify_channels: tuple[str, ...] = ("file",)    # any of file, sms, email, phone
    sms_endpoint: str = ""
    sms_token: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    max_upload_bytes: int = 10 * 1024 * 1024
    attachment_max_bytes: int = 8 * 1024 * 1024     # one attached file (photos re-encoded)
    login_max_failures: int = 5                     # failed sign-ins per username in the window
    login_max_failures_per_ip: int = 20             # failed sign-ins per client IP in the window
    login_window_minutes: int = 15
    # argon2id cost; the defaults are argon2's RFC 9106 low-memory profile (tests lower them)
    argon2_time_cost: int = 3                       # passes over the memory
    argon2_memory_kib: int = 65536                  # memory per hash in KiB
    argon2_parallelism: int = 4                     # lanes
    proxy_fix: int = 0                              # trusted reverse proxies in front (X-Forwarded-*)
    session_idle_minutes: int = 30
    session_max_age_hours: int = 8
    idempotency_ttl_days: int = 7
    reveal_alert_per_day: int = 20                  # personal-data reveals per user per day before a flag
    search_alert_per_hour: int = 30                 # duplicate-check searches per user per hour before a flag
    api_refusals_per_minute: int = 30               # bad-token API requests per IP per minute before 429
    require_deploy_approval: bool = False           # a second process owner approves a version
    max_cardinality: int = 200                      # multi-instance / loop count ceiling of any model
    run_budget_steps: int = 5000                    # engine steps of one validation or dry run
    run_budget_seconds: float = 5.0                 # seconds of one validation or dry run
    draft_stale_days: int = 30                      # drafts untouched this long are listed for cleanup
    audit_heads_file: Path | None = None            # heads file sink (default <instance>/audit/heads.jsonl)
    audit_heads_url: str = ""                       # HTTP heads sink: each record POSTed, read back by GET
    audit_heads_token: str = ""                     # bearer token sent to the HTTP heads sink
    audit_heads_retries: int = 3                    # further attempts per record and shipping round
    audit_heads_interval_minutes: int = 5           # heads export period of web and scheduler processes
    duplicate_window_days: int = 30                 # same person + category while open -> duplicate
    received_skew_minutes: int = 5                  # received_at may lie this far ahead (clock skew)
    received_max_days: int = 30                     # an older received_at needs the clerk's reason
    date_floor: str = "2000-01-01"                  # no typed date (form, filter, calendar) before it
    address_match_min: int = 85                     # similarity score (0-100) for address candidates
    # same category at the same building within N days of an open case -> duplicate (0: off);
    # "category=days" items override it (matters between particular households are off)
    location_duplicate_days: int = 7
    location_duplicate_days_by_category: tuple[str, ...] = (
        "family=0", "labour=0", "property=0", "expropriation=0", "land_contract=0")
    # N reports of one category at one building or grid within M days raise a warning;
    # "category=N/M" items override it (N=0: off)
    hotspot_reports: int = 3
    hotspot_window_days: int = 30
    hotspot_by_category: tuple[str, ...] = ()
    hotspot_notify_kind: str = "ZZ"                 # unit kind whose supervisors hear of a warning
    # alarms of one device and kind within N minutes of the previous one join its open case
    alarm_window_minutes: int = 60
    channel_secret_grace_hours: int = 24            # a replaced channel secret still verifies this long
    channel_max_skew_seconds: int = 300             # signed pushes older (or further ahead) are refused
    silence_check_minutes: int = 5                  # how often interface silence is checked
    dev_mode: bool = False                          # `jiefen serve --dev`: cookies without Secure
    testing: bool = False

    def __post_init__(self) -> None:
        # a bad override fails at start-up, not at the first located report
        self.location_duplicate_window("")
        self.hotspot_rule("")
        date.fromisoformat(self.date_floor)

    def location_duplicate_window(self, category: str) -> timedelta | None:
        """How close to an open case at the same building a report of ``category`` is linked to
        it (None: never linked by location)."""
        days = _overrides(self.location_duplicate_days_by_category, "location_duplicate_days",
                          lambda value: int(value)).get(category, self.location_duplicate_days)
        return timedelta(days=days) if days > 0 else None

    def hotspot_rule(self, category: str) -> tuple[int, timedelta] | None:
        """(reports, window) that raise a hotspot warning for ``category`` (None: never)."""
        default = (self.hotspot_reports, self.hotspot_window_days)
        reports, days = _overrides(self.hotspot_by_category, "hotspot", _reports_per_days).get(
            category, default)
        return (reports, timedelta(days=days)) if reports > 0 and days > 0 else None

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_path / 'jiefen.sqlite3'}"

    @property
    def keys_path(self) -> Path:
        return self.keys_file or self.instance_path / "keys.json"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Settings from JIEFEN_* variables (DATABASE_URL is honoured as a fallback)."""
        env = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            raw = env.get(f"JIEFEN_{f.name.upper()}")
            if raw is None and f.name == "database_url":
                raw = env.get("DATABASE_URL")
            if raw is not None:
                values[f.name] = _convert(f.type, raw)
        return replace(cls(), **{**values, **overrides})


def _reports_per_days(value: str) -> tuple[int, int]:
    reports, _, days = value.partition("/")
    return int(reports), int(days)


def _overrides(items: tuple[str, ...], name: str, parse: Callable[[str], T]) -> dict[str, T]:
    """``("category=value", ...)`` as a dict; a malformed item is a ValueError naming it."""
    out: dict[str, T] = {}
    for item in items:
        category, sep, value = item.partition("=")
        try:
            if not sep or not category.strip():
                raise ValueError(item)
            out[category.strip()] = parse(value.strip())
        except ValueError:
            raise ValueError(f"JIEFEN_{name.upper()}_BY_CATEGORY: bad item {item!r}") from None
    return out


def _convert(kind: object, raw: str) -> object:
    text = str(kind)
    if "bool" in text:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if "tuple" in text:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if "Path" in text:
        return Path(raw)
    if text == "int":
        return int(raw)
    if text == "float":
        return float(raw)
    return raw
