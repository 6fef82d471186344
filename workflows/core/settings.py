"""Every setting with its default and a one-line doc; read from JIEFEN_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
    scheduler_embedded: bool = False                # run the scheduler inside the dev server
    sweep_max_sleep: float = 1.0                    # lateness bound for timers armed elsewhere (s)
    sweep_batch: int = 200                          # instances per sweep
    timer_max_attempts: int = 3                     # then incident
    light_ladder: bool = False                      # lights also climb the ladder (processes without one)
    outbox_interval: float = 10.0                   # seconds between deliveries
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
    duplicate_window_days: int = 30                 # same person + category while open -> duplicate
    dev_mode: bool = False                          # `jiefen serve --dev`: cookies without Secure
    testing: bool = False

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
