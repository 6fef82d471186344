"""Delivery channels for outbox messages: SMS gateway, SMTP, file, phone-call task.

A channel's ``send(message)`` returns on success and raises ``DeliveryFailed`` (retried with back-off)
or ``PermanentFailure`` (dead at once). Channels with ``in_transaction = True`` write rows and are
called inside the unit of work that marks the message sent.
"""

from __future__ import annotations

import json
import smtplib
import threading
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.deadlines import SHANGHAI
from engine.models import OutboxMessage
from workflows.core.masking import mask_phone
from workflows.core.settings import Settings
from workflows.models import CallTask, Case

if TYPE_CHECKING:
    from workflows.runtime.unit_of_work import UnitOfWork


class DeliveryFailed(Exception):
    """A transient failure: the message is retried with back-off."""


class PermanentFailure(DeliveryFailed):
    """Retrying cannot help (no address, unknown channel): the message is dead at once."""


@dataclass(frozen=True)
class RenderedMessage:
    """One message ready to send; ``address`` is decrypted just before sending, never stored."""

    outbox_id: int
    channel: str
    recipient_type: str
    recipient_id: str | None
    address: str | None
    subject: str
    body: str
    case_id: int | None
    template: str

    @property
    def idempotency_key(self) -> str:
        return f"jiefen-outbox-{self.outbox_id}"


class FileChannel:
    """JSON lines in the instance folder: the embedded default, tests and the demo.

    The address is written masked: the file is a stand-in for a gateway, not a place for
    personal data.
    """

    in_transaction = False

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, message: RenderedMessage) -> None:
        self.send_many([message])

    def send_many(self, messages: list[RenderedMessage]) -> None:
        """A batch in one write (the outbox drain hands over a batch at a time)."""
        text = "".join(json.dumps({**asdict(m), "address": _masked(m.address),
                                   "idempotency_key": m.idempotency_key},
                                  ensure_ascii=False) + "\n" for m in messages)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(text)

    def lines(self) -> list[dict]:
        """Everything written so far (tests, the demo)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line]


class SmsGatewayChannel:
    """HTTP POST to a configurable SMS gateway; the outbox id is the idempotency key."""

    in_transaction = False

    def __init__(self, endpoint: str, token: str, *, timeout: float = 10.0):
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError("JIEFEN_SMS_ENDPOINT must be an http(s) URL")
        self.endpoint, self.token, self.timeout = endpoint, token, timeout

    def send(self, message: RenderedMessage) -> None:
        if not message.address:
            raise PermanentFailure("收件人没有手机号")
        body = json.dumps({"to": message.address, "text": message.body,
                           "id": message.idempotency_key}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.endpoint, data=body, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8",
                     "Authorization": f"Bearer {self.token}",
                     "Idempotency-Key": message.idempotency_key})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500 and exc.code not in (408, 409, 429):
                raise PermanentFailure(f"SMS gateway refused: HTTP {exc.code}") from None
            raise DeliveryFailed(f"SMS gateway: HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryFailed(f"SMS gateway unreachable: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"SMS gateway: HTTP {status}")


class SmtpChannel:
    """Email through SMTP (STARTTLS by default)."""

    in_transaction = False

    def __init__(self, host: str, port: int = 587, *, user: str = "", password: str = "",
                 sender: str = "", starttls: bool = True, timeout: float = 10.0):
        self.host, self.port, self.user, self.password = host, port, user, password
        self.sender, self.starttls, self.timeout = sender, starttls, timeout

    def send(self, message: RenderedMessage) -> None:
        if not message.address or "@" not in message.address:
            raise PermanentFailure("收件人没有电子邮箱")
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.sender, message.address, message.subject
        email["Message-ID"] = f"<{message.idempotency_key}@jiefen>"
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP: {exc}") from None


class PhoneTaskChannel:
    """Citizens who prefer the phone: a call task in the responsible unit's call list instead of
    a message (the case's lead unit; the centre's triage officers while there is none).

    The call is due one working day after it is created, or on the last day of the legal window
    the reminder is about when that comes first (``CALL_SPEC``)."""

    in_transaction = True

    def send(self, message: RenderedMessage, *, uow: UnitOfWork) -> None:
        if message.case_id is None:
            raise PermanentFailure("电话回访任务必须属于一个案件")
        case = uow.session.get(Case, message.case_id)
        party_id = message.recipient_id if message.recipient_type == "party" else None
        row = uow.session.get(OutboxMessage, message.outbox_id)
        params = (row.params if row is not None else None) or {}
        now = uow.clock.now()
        calendar = uow.services.calendar
        calendar.warm(uow.session)
        due = calendar.resolve(CALL_SPEC, now)
        end = _day(params.get("window_end"))
        if end is not None:   # 24:00 of the window's last day, if that comes first
            zone = getattr(calendar, "tz", SHANGHAI)
            due = min(due, datetime.combine(end + timedelta(days=1), time(0), zone))
        uow.session.add(CallTask(
            case_id=message.case_id, party_id=party_id,
            department_id=case.lead_department_id if case else None, reason=message.template,
            status="open", created_at=now, due_at=due,
            window_id=str(params["window"])[:8] if params.get("window") else None,
            window_start=_day(params.get("window_start")), window_end=end))


CALL_SPEC = "working_days(1)"   # [proposal] a call task is due the next working day


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def default_channels(settings: Settings) -> dict[str, Any]:
    """Channels from settings: file always, phone always, SMS and email when configured."""
    channels: dict[str, Any] = {
        "file": FileChannel(Path(settings.instance_path) / "outbox" / "messages.jsonl"),
        "phone": PhoneTaskChannel(),
    }
    if settings.sms_endpoint:
        channels["sms"] = SmsGatewayChannel(settings.sms_endpoint, settings.sms_token)
    if settings.smtp_host:
        channels["email"] = SmtpChannel(
            settings.smtp_host, settings.smtp_port, user=settings.smtp_user,
            password=settings.smtp_password, sender=settings.smtp_from,
            starttls=getattr(settings, "smtp_starttls", True))
    return channels


def _masked(address: str | None) -> str | None:
    if not address:
        return address
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    return mask_phone(address)
