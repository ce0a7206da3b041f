"""Health: verdicts, /healthz and /metrics over real HTTP, e-mail alerts to a real SMTP sink,
and nothing secret or personal in the logs or the mail."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from prometheus_client.parser import text_string_to_metric_families

from helpers import ListCollector, make_settings
from pengaduan.errors import AuthError, TransientError
from pengaduan.health.alerts import AlertMonitor, smtp_sender
from pengaduan.health.check import Watched, judge
from pengaduan.health.server import HealthServer
from pengaduan.pipeline import Pipeline
from pengaduan.settings import CollectorSettings, HealthSettings, Secret, Settings
from pengaduan.store.db import Store
from pengaduan.store.state import FAILING, NEEDS_REAUTH, CollectorState

UTC = timezone.utc
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
NIK = "5107011500900001"  # month "00": never a real person's
SECRET = "s3cr3t-T0ken-value-xyz"


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


# --- pure verdicts -----------------------------------------------------------------------------


def _state(**kw) -> CollectorState:  # type: ignore[no-untyped-def]
    base = dict(collector="c", type="t", cursor=None, health="ok", last_run_at=None,
                last_success_at=None, last_error=None, failures=0, retry_at=None)
    return CollectorState(**{**base, **kw})


def test_a_collector_silent_for_more_than_n_intervals_is_unhealthy() -> None:
    w = Watched("c", 60.0)
    ok = _state(last_success_at=T0)
    assert judge(w, ok, T0 + timedelta(seconds=179), 3, T0).state == "ok"
    silent = judge(w, ok, T0 + timedelta(seconds=181), 3, T0)
    assert (silent.state, silent.healthy) == ("silent", False)
    assert "3 intervals" in silent.reason
    # Failing, but still within the window: degraded, not yet an alarm.
    failing = _state(last_success_at=T0, health=FAILING, last_error="503")
    assert judge(w, failing, T0 + timedelta(seconds=90), 3, T0).state == "failing"
    assert judge(w, failing, T0 + timedelta(seconds=90), 3, T0).healthy
    # Never succeeded: counted from when the process started watching.
    assert judge(w, None, T0 + timedelta(seconds=100), 3, T0).healthy
    assert judge(w, None, T0 + timedelta(seconds=200), 3, T0).state == "silent"


def test_refused_credentials_are_unhealthy_at_once_and_a_quota_pause_is_not() -> None:
    w = Watched("c", 60.0)
    reauth = _state(last_success_at=T0, health=NEEDS_REAUTH, last_error="token expired")
    assert judge(w, reauth, T0 + timedelta(seconds=1), 3, T0).state == "needs_reauth"
    midnight = T0 + timedelta(hours=10)
    paused = _state(last_success_at=T0, health=FAILING, retry_at=midnight,
                    last_error="yt: YouTube daily quota used up; paused until midnight")
    v = judge(w, paused, T0 + timedelta(hours=5), 3, T0)
    assert (v.state, v.healthy) == ("quota_paused", True)
    # Still nothing three intervals after the source's own reset time: silent.
    assert judge(w, paused, midnight + timedelta(minutes=4), 3, T0).state == "silent"


# --- a pipeline with a collector the test controls ---------------------------------------------


def _settings(store: Store, tmp_path: Path, items: list, fail=None, **health) -> Settings:  # type: ignore[no-untyped-def]
    settings = make_settings(store.url, tmp_path)
    config = ListCollector.Config(items=items, fail_with=fail)
    settings.collectors["feed"] = CollectorSettings("feed", "test_list", ListCollector, True, 60.0, config)
    return dataclasses.replace(settings, health=HealthSettings(**health))


def _set_fail(settings: Settings, fail: Exception | None) -> None:
    cs = settings.collectors["feed"]
    settings.collectors["feed"] = dataclasses.replace(
        cs, config=dataclasses.replace(cs.config, fail_with=fail)
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path}/p.db")
    s.ensure_schema()
    yield s
    s.dispose()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_healthz_goes_503_when_a_collector_falls_silent_and_200_when_it_recovers(
    store: Store, tmp_path: Path
) -> None:
    clock = Clock(T0)
    settings = _settings(store, tmp_path, [{"id": 1, "body": "jalan rusak"}])
    pipeline = Pipeline(store, settings, clock=clock)
    server = HealthServer(store, settings, "127.0.0.1", 0, clock=clock)
    server.start()
    base = "http://%s:%d" % server.address
    try:
        assert pipeline.run(settings.collectors["feed"].build()).outcome == "ok"
        code, body = _get(base + "/healthz")
        assert code == 200 and json.loads(body)["status"] == "ok"

        _set_fail(settings, TransientError("server said 503"))
        clock.advance(minutes=1)
        pipeline.run(settings.collectors["feed"].build())
        code, body = _get(base + "/healthz")
        assert code == 200 and json.loads(body)["collectors"] == {"feed": "failing"}

        clock.advance(minutes=3)  # 4 min since the last success: more than 3 × 1 min
        code, body = _get(base + "/healthz")
        data = json.loads(body)
        assert code == 503 and data["status"] == "unhealthy"
        assert [u["collector"] for u in data["unhealthy"]] == ["feed"]
        assert data["unhealthy"][0]["state"] == "silent"

        _set_fail(settings, None)
        pipeline.run(settings.collectors["feed"].build())
        code, body = _get(base + "/healthz")
        assert code == 200 and json.loads(body)["status"] == "ok"
        assert _get(base + "/nope")[0] == 404
    finally:
        server.stop()


def test_metrics_expose_per_collector_figures_quarantine_and_overdue_cases(
    store: Store, tmp_path: Path
) -> None:
    clock = Clock(T0)
    items = [{"id": 1, "body": "bantuan sosial belum cair"}, {"id": 2, "body": ""},
             {"id": 3, "body": "KTP hilang"}]
    settings = _settings(store, tmp_path, items)
    pipeline = Pipeline(store, settings, clock=clock)
    pipeline.run(settings.collectors["feed"].build())
    _set_fail(settings, TransientError("quota: YouTube daily quota used up; paused until",
                                       retry_at=T0 + timedelta(hours=8)))
    clock.advance(minutes=5)
    pipeline.run(settings.collectors["feed"].build())
    clock.advance(days=3)  # every case is past its 1-working-day deadline

    server = HealthServer(store, settings, "127.0.0.1", 0, clock=clock)
    server.start()
    try:
        code, body = _get("http://%s:%d/metrics" % server.address)
    finally:
        server.stop()
    assert code == 200
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    feed = (("collector", "feed"),)
    assert samples[("pengaduan_store_up", ())] == 1
    assert samples[("pengaduan_collector_last_success_timestamp_seconds", feed)] == T0.timestamp()
    assert samples[("pengaduan_collector_lag_seconds", feed)] == (clock.now - T0).total_seconds()
    assert samples[("pengaduan_collector_items_total", feed + (("kind", "fetched"),))] == 3
    assert samples[("pengaduan_collector_items_total", feed + (("kind", "new"),))] == 2
    assert samples[("pengaduan_collector_items_total", feed + (("kind", "quarantined"),))] == 1
    assert samples[("pengaduan_collector_errors_total", feed)] == 1
    assert samples[("pengaduan_collector_consecutive_failures", feed)] == 1
    assert samples[("pengaduan_collector_healthy", feed)] == 0
    assert samples[("pengaduan_collector_health", (("collector", "feed"), ("state", "silent")))] == 1
    assert samples[("pengaduan_collector_health", (("collector", "feed"), ("state", "ok")))] == 0
    assert samples[("pengaduan_quarantine_size", ())] == 1
    assert samples[("pengaduan_cases_open", (("channel", "test"),))] == 2
    assert samples[("pengaduan_cases_overdue", (("channel", "test"),))] == 2
    # retry_at is in the past by now: not exposed as a pending retry or a pause.
    assert ("pengaduan_collector_quota_paused_until_timestamp_seconds", feed) not in samples


def test_metrics_show_a_quota_pause_and_a_declared_token_expiry(store: Store, tmp_path: Path) -> None:
    from pengaduan.health.metrics import snapshot_metrics
    from pengaduan.health.snapshot import read_snapshot

    clock = Clock(T0)
    settings = _settings(store, tmp_path, [])
    reset = T0 + timedelta(hours=8)
    _set_fail(settings, TransientError("yt: YouTube daily quota used up; paused until then",
                                       retry_at=reset))
    Pipeline(store, settings, clock=clock).run(settings.collectors["feed"].build())

    @dataclasses.dataclass(frozen=True)
    class Declared:
        token_expires_at: str = "2026-12-31"

    settings.collectors["ig"] = CollectorSettings("ig", "x", ListCollector, True, 60.0, Declared())
    with store.transaction() as conn:
        snap = read_snapshot(conn, settings, clock(), T0)
    values = {(s.name, tuple(s.labels.values())): s.value
              for f in snapshot_metrics(snap, settings) for s in f.samples}
    assert values[("pengaduan_collector_quota_paused_until_timestamp_seconds", ("feed",))] == reset.timestamp()
    assert values[("pengaduan_collector_retry_at_timestamp_seconds", ("feed",))] == reset.timestamp()
    assert values[("pengaduan_collector_health", ("feed", "quota_paused"))] == 1
    assert values[("pengaduan_collector_token_expiry_timestamp_seconds", ("ig",))] == datetime(
        2026, 12, 31, tzinfo=UTC).timestamp()


# --- alerts over real SMTP ---------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_sink():  # type: ignore[no-untyped-def]
    sink = Sink()
    with socket.socket() as probe:  # aiosmtpd does not report the port it got for port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()


def test_an_admin_is_mailed_once_when_a_collector_turns_unhealthy_and_once_when_it_recovers(
    store: Store, tmp_path: Path, smtp_sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, port = smtp_sink
    clock = Clock(T0)
    settings = _settings(
        store, tmp_path, [{"id": 1, "body": "rumah rusak"}],
        alert_email_to=("admin@dinsos.example",), smtp_host="127.0.0.1", smtp_port=port,
        smtp_from="pengaduan@dinsos.example",
        smtp_password=Secret(SECRET, "environment variable X"),
    )
    pipeline = Pipeline(store, settings, clock=clock)
    monitor = AlertMonitor(store, settings, clock, smtp_sender(
        dataclasses.replace(settings.health, smtp_password=None)))
    pipeline.run(settings.collectors["feed"].build())
    assert monitor.check() == [] and sink.messages == []  # healthy, never alerted: no mail

    _set_fail(settings, AuthError(f"token {SECRET} refused for NIK {NIK}: renew it"))
    clock.advance(minutes=1)
    pipeline.run(settings.collectors["feed"].build())
    assert monitor.check() == [("feed", "unhealthy")]
    assert monitor.check() == []  # still unhealthy: no second mail
    # A restarted process knows it was already reported (the audit log), and says nothing.
    assert AlertMonitor(store, settings, clock, monitor.sender).check() == []

    _set_fail(settings, None)
    clock.advance(minutes=1)
    pipeline.run(settings.collectors["feed"].build())
    assert monitor.check() == [("feed", "recovered")]
    assert monitor.check() == []

    for _ in range(50):
        if len(sink.messages) == 2:
            break
        time.sleep(0.05)
    assert len(sink.messages) == 2
    first, second = (m.decode() for m in sink.messages)
    assert "collector feed is unhealthy: needs_reauth" in first
    assert "renew" in first and "has recovered" in second
    for text in (first, second):
        assert SECRET not in text and NIK not in text


def test_a_failed_send_is_retried_at_the_next_check(store: Store, tmp_path: Path) -> None:
    clock = Clock(T0)
    settings = _settings(store, tmp_path, [], fail=AuthError("refused"),
                         alert_email_to=("admin@dinsos.example",))
    Pipeline(store, settings, clock=clock).run(settings.collectors["feed"].build())
    sent = []

    def down(msg) -> None:  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError(111, "Connection refused")

    assert AlertMonitor(store, settings, clock, down).check() == []
    assert AlertMonitor(store, settings, clock, sent.append).check() == [("feed", "unhealthy")]
    assert len(sent) == 1


# --- nothing secret or personal in the logs -----------------------------------------------------


def test_secrets_and_personal_data_never_reach_the_logs(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
    smtp_sink,
) -> None:
    from pengaduan.cli.logs import JsonFormatter, MaskingFilter

    sink, port = smtp_sink
    monkeypatch.setenv("PENGADUAN_TEST_SMTP_PASSWORD", SECRET)
    settings = make_settings(
        store.url, tmp_path,
        health={"alert_email_to": ["admin@dinsos.example"], "smtp_host": "127.0.0.1",
                "smtp_port": port, "smtp_password": {"env": "PENGADUAN_TEST_SMTP_PASSWORD"}},
    )
    assert settings.health.smtp_password is not None and SECRET not in repr(settings)
    items = [{"id": 1, "body": f"NIK saya {NIK}, bantuan PKH belum cair", "name": "Ni Luh"},
             {"id": 2, "body": ""}]
    config = ListCollector.Config(items=items)
    settings.collectors["feed"] = CollectorSettings("feed", "test_list", ListCollector, True, 60.0, config)
    clock = Clock(T0)
    handler_filter = MaskingFilter()
    caplog.handler.addFilter(handler_filter)
    caplog.set_level(logging.DEBUG)
    try:
        pipeline = Pipeline(store, settings, clock=clock)
        pipeline.run(settings.collectors["feed"].build())
        _set_fail(settings, TransientError(f"server echoed {SECRET} and NIK {NIK}"))
        clock.advance(minutes=1)
        pipeline.run(settings.collectors["feed"].build())
        _set_fail(settings, RuntimeError(f"bug with NIK {NIK}"))
        clock.advance(minutes=5)
        pipeline.run(settings.collectors["feed"].build())
        AlertMonitor(store, settings, clock, lambda m: (_ for _ in ()).throw(
            OSError(f"refused {SECRET}"))).check()
        AlertMonitor(store, settings, clock).check()  # real SMTP, with the secret to log in
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert caplog.records, "the run logged nothing: the test would prove nothing"
    formatter = JsonFormatter()
    for record in caplog.records:
        line = formatter.format(record)
        assert NIK not in line, line
        assert SECRET not in line, line
    assert any(getattr(r, "event", None) == "collector_run" for r in caplog.records)


def test_run_serves_the_endpoint_from_a_thread_while_it_polls(store: Store, tmp_path: Path) -> None:
    import threading

    from pengaduan.pipeline import serve

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = _settings(store, tmp_path, [{"id": 1, "body": "air bersih"}],
                         listen=("127.0.0.1", port))
    pipeline = Pipeline(store, settings)
    thread = threading.Thread(target=serve, args=(pipeline, 0.05))
    thread.start()
    try:
        for _ in range(100):
            try:
                code, body = _get(f"http://127.0.0.1:{port}/healthz")
                if json.loads(body).get("collectors", {}).get("feed") == "ok":
                    break
            except OSError:
                pass
            time.sleep(0.05)
        assert code == 200 and json.loads(body)["collectors"] == {"feed": "ok"}
    finally:
        pipeline.stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    with pytest.raises(OSError):
        _get(f"http://127.0.0.1:{port}/healthz")  # stopped with the scheduler


def test_health_settings_are_checked_all_at_once(tmp_path: Path) -> None:
    from pengaduan.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        make_settings("sqlite://", tmp_path, health={
            "listen": "9108", "silent_after_intervals": 0, "alert_email_to": ["nobody"],
            "smtp_password": "plain", "smtp_port": "25", "colour": "red"})
    text = str(err.value)
    for key in ("listen", "silent_after_intervals", "alert_email_to", "smtp_password",
                "smtp_port", "'colour'"):
        assert key in text, key
    ok = make_settings("sqlite://", tmp_path, health={"listen": "127.0.0.1:9108"})
    assert ok.health.listen == ("127.0.0.1", 9108) and ok.health.silent_after_intervals == 3


def test_status_also_shows_quarantine_size_and_overdue_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    from helpers import SAMPLES
    from pengaduan.cli.main import main
    from pengaduan.health.snapshot import case_counts

    config = tmp_path / "settings.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n')
    assert main(["--config", str(config), "import", "lapor",
                 str(SAMPLES / "lapor/export-2026-10.xlsx")]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    store = Store(f"sqlite:///{tmp_path}/s.db")
    with store.transaction() as conn:
        open_, late = case_counts(conn, datetime.now(UTC))
    store.dispose()
    assert "Quarantine: 0 open entries" in out
    match = re.search(r"Cases: (\d+) open, (\d+) overdue", out)
    assert match and int(match.group(1)) == sum(open_.values()) > 0
    assert int(match.group(2)) == sum(late.values())
