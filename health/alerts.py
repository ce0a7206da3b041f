"""E-mail to an admin when a collector turns unhealthy, and again when it recovers.

Transitions are detected against the last alert *sent*, kept in the audit log (action
``alert``, detail ``{"collector", "state"}``), not in memory: a restarted process neither
repeats an alert for a state already reported nor forgets one it has not. A collector that
has never been alerted about and is healthy gets no mail; one found unhealthy does. An alert
is recorded only once the mail went out, so a failed send is tried again at the next check.

Mails say which collector, its state, why and what to do. The collector's last error is
included with personal data masked and every configured secret value removed.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
import ssl
from collections.abc import Callable, Iterable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select

from pengaduan.health.check import ADVICE, Verdict
from pengaduan.health.snapshot import read_snapshot
from pengaduan.normalizer.pii import mask_for_log
from pengaduan.settings import HealthSettings, Secret, Settings
from pengaduan.store.audit import record_audit
from pengaduan.store.db import Store
from pengaduan.store.schema import audit_log

log = logging.getLogger("pengaduan.health")

ACTOR = "pengaduan-health"
ACTION = "alert"
UNHEALTHY = "unhealthy"
RECOVERED = "recovered"

Sender = Callable[[EmailMessage], None]


def last_alerts(conn) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The state of the last alert sent about each collector."""
    rows = conn.execute(
        select(audit_log.c.detail).where(audit_log.c.action == ACTION).order_by(audit_log.c.id)
    )
    found: dict[str, str] = {}
    for (detail,) in rows:
        if isinstance(detail, dict) and "collector" in detail:
            found[detail["collector"]] = detail.get("state", "")
    return found


def transitions(verdicts: Iterable[Verdict], alerted: dict[str, str]) -> list[tuple[Verdict, str]]:
    """Which verdicts need a mail now: (verdict, UNHEALTHY or RECOVERED). Pure."""
    due = []
    for v in verdicts:
        last = alerted.get(v.collector)
        if not v.healthy and last != UNHEALTHY:
            due.append((v, UNHEALTHY))
        elif v.healthy and last == UNHEALTHY:
            due.append((v, RECOVERED))
    return due


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold, to be cut out of anything we send."""
    values = []
    if settings.health.smtp_password is not None:
        values.append(settings.health.smtp_password.reveal())
    for cs in settings.collectors.values():
        fields = dataclasses.fields(cs.config) if dataclasses.is_dataclass(cs.config) else ()
        for f in fields:
            value = getattr(cs.config, f.name, None)
            if isinstance(value, Secret):
                values.append(value.reveal())
    return [v for v in values if v]


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[secret]")
    return mask_for_log(text)


def compose(
    verdict: Verdict, kind: str, last_error: str | None, health: HealthSettings,
    secrets: list[str],
) -> EmailMessage:
    msg = EmailMessage()
    name = verdict.collector
    if kind == UNHEALTHY:
        msg["Subject"] = f"[pengaduan] collector {name} is unhealthy: {verdict.state}"
    else:
        msg["Subject"] = f"[pengaduan] collector {name} has recovered"
    msg["From"] = health.smtp_from
    msg["To"] = ", ".join(health.alert_email_to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="pengaduan.local")
    msg["Auto-Submitted"] = "auto-generated"
    last = verdict.last_success_at.isoformat() if verdict.last_success_at else "never"
    lines = [
        f"Collector: {name}",
        f"State: {verdict.state}",
        f"Why: {verdict.reason}",
        f"Last successful run (UTC): {last}",
    ]
    if verdict.retry_at is not None and kind == UNHEALTHY:
        lines.append(f"Next try (UTC): {verdict.retry_at.isoformat()}")
    if kind == UNHEALTHY:
        if last_error:
            lines.append(f"Last error: {scrub(last_error, secrets)}")
        lines.append(f"What to do: {ADVICE.get(verdict.state, 'see pengaduan status')}")
    else:
        lines.append("It has run successfully again; nothing to do.")
    lines += ["", "More: 'pengaduan status' on the server, and docs/operations.md."]
    msg.set_content("\n".join(lines) + "\n")
    return msg


def smtp_sender(health: HealthSettings) -> Sender:
    def send(msg: EmailMessage) -> None:
        with smtplib.SMTP(health.smtp_host, health.smtp_port, timeout=30) as smtp:
            if health.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if health.smtp_username:
                password = health.smtp_password.reveal() if health.smtp_password else ""
                smtp.login(health.smtp_username, password)
            smtp.send_message(msg)

    return send


class AlertMonitor:
    """``check()`` compares verdicts with the last alerts and mails the changes."""

    def __init__(
        self, store: Store, settings: Settings, clock: Callable[[], datetime],
        sender: Sender | None = None, watching_since: datetime | None = None,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.sender = sender or smtp_sender(settings.health)
        self.watching_since = watching_since or clock()
        self.secrets = secret_values(settings)

    def check(self) -> list[tuple[str, str]]:
        """Send what is due; returns the (collector, kind) pairs mailed."""
        if not self.settings.health.alert_email_to:
            return []
        now = self.clock()
        with self.store.transaction() as conn:
            snap = read_snapshot(conn, self.settings, now, self.watching_since)
            alerted = last_alerts(conn)
        sent = []
        for verdict, kind in transitions(snap.verdicts, alerted):
            state = snap.states.get(verdict.collector)
            msg = compose(
                verdict, kind, state.last_error if state else None, self.settings.health,
                self.secrets,
            )
            try:
                self.sender(msg)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning(
                    "alert e-mail about %s could not be sent (%s: %s); tried again at the next "
                    "check", verdict.collector, type(exc).__name__,
                    scrub(str(exc), self.secrets)[:200],
                )
                continue
            with self.store.transaction() as conn:
                record_audit(
                    conn, ACTOR, ACTION, now,
                    detail={"collector": verdict.collector, "state": kind,
                            "health": verdict.state},
                )
            log.info(
                "alert sent: %s %s", verdict.collector, kind,
                extra={"event": "health_alert", "collector": verdict.collector,
                       "alert": kind, "state": verdict.state},
            )
            sent.append((verdict.collector, kind))
        return sent
