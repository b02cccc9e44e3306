"""Delivery through real receivers: an SMTP server on loopback (aiosmtpd) and an HTTP stand-in
for the SMS gateway, each keeping one message per id as real ones do (the mail store by
Message-ID, the gateway by Idempotency-Key, answering 409 to a key it already has).

Nothing is lost and nothing is sent twice: a message queued while the mail server is
down waits with backoff and is delivered once it is back, exactly once; a worker
killed between sending and marking (SIGKILL from the mail server the moment it has
the message) leaves the row to the next run, which sends it again with the same id,
and the mailbox keeps one.
"""

from __future__ import annotations

import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time as clock
from datetime import datetime, time, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from application import create_app
from core import jobs
from core.clock import now
from core.config import Config
from core.delivery import (
    DeliveryPolicy,
    OutboundMessage,
    PermanentDeliveryError,
    RetryableDeliveryError,
    SmsGatewayChannel,
    SmsGatewaySettings,
    SmtpChannel,
    SmtpSettings,
    channels_from_config,
    configured,
)
from core.models import JobRun
from workorders import notifications, outbox
from workorders.models import Customer, Notification, WorkOrder

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "dispatch.test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that stores one message per Message-ID, as a mail store does,
    and counts every delivery; it can SIGKILL the sending process once it has a message."""

    def __init__(self) -> None:
        self.messages: dict[str, email.message.EmailMessage] = {}
        self.deliveries: list[str] = []
        self.kill_pid: int | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        message_id = str(message["Message-ID"])
        self.deliveries.append(message_id)
        self.messages.setdefault(message_id, message)
        if self.kill_pid is not None:
            pid, self.kill_pid = self.kill_pid, None
            os.kill(pid, signal.SIGKILL)  # the sender dies before it hears "250"
        return "250 OK"


class MailServer:
    """A real SMTP server on a fixed loopback port that can go down and come back."""

    def __init__(self, port: int) -> None:
        self.port, self.mailbox, self.controller = port, Mailbox(), None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Gateway(ThreadingHTTPServer):
    """The SMS gateway stand-in: POST /sms with JSON; one message per Idempotency-Key."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), GatewayHandler)
        self.messages: dict[str, dict] = {}
        self.requests: list[str] = []
        self.answer: int | None = None  # a forced status (503: down, 400: refusing)
        self.delay_s = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms"


class GatewayHandler(BaseHTTPRequestHandler):
    server: Gateway

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers.get("Idempotency-Key") or ""
        self.server.requests.append(key)
        clock.sleep(self.server.delay_s)
        if self.server.answer is not None:
            status = self.server.answer
        elif key in self.server.messages:
            status = 409  # already have it
        else:
            self.server.messages[key] = body
            status = 201
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"key": key}).encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def mail():
    server = MailServer(_free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def gateway():
    server = Gateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _settings(app_config: Config, mail: MailServer, gateway: Gateway, **more) -> dict:
    return {
        **app_config.as_dict(),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": mail.port,
        "SMTP_TLS": "none",
        "SMTP_FROM": f"service@{DOMAIN}",
        "SMS_GATEWAY_URL": gateway.url,
        **more,
    }


@pytest.fixture()
def notify_app(app, app_config, mail, gateway):
    """The test app, sending to the loopback mail server and gateway."""
    return create_app(Config(**_settings(app_config, mail, gateway)))


def _message(message_id: int, channel: str = "email", language: str = "zh") -> OutboundMessage:
    zh = language == "zh"
    return OutboundMessage(
        id=message_id,
        channel=channel,
        recipient="ops@example.com" if channel == "email" else "13812345678",
        subject="工单WO1：已完工" if zh else "Order WO1: completed",
        body="张伟，您好！您的工单已完工。" if zh else "Zhang Wei, your order was completed.",
        language=language,
    )


def test_smtp_sends_chinese_and_english_mail_with_the_row_id_as_message_id(mail):
    channel = SmtpChannel(
        SmtpSettings(
            host="127.0.0.1", port=mail.port, tls="none", sender=f"s@{DOMAIN}", message_id_domain=DOMAIN
        )
    )
    channel.send(_message(41))
    channel.send(_message(42, language="en"))
    zh, en = mail.mailbox.messages.values()
    assert zh["Message-ID"] == f"<notification-41@{DOMAIN}>"
    assert zh["Subject"] == "工单WO1：已完工" and zh["Content-Language"] == "zh-CN"
    assert zh.get_content().strip() == "张伟，您好！您的工单已完工。"
    assert en["Message-ID"] == f"<notification-42@{DOMAIN}>" and en["Content-Language"] == "en"
    assert en["To"] == "ops@example.com" and en["From"] == f"s@{DOMAIN}"


def test_smtp_down_is_a_retryable_error():
    channel = SmtpChannel(SmtpSettings(host="127.0.0.1", port=_free_port(), tls="none", timeout_s=2))
    with pytest.raises(RetryableDeliveryError):
        channel.send(_message(1))


def test_sms_gateway_answers_map_to_sent_retry_and_failed(gateway):
    channel = SmsGatewayChannel(SmsGatewaySettings(url=gateway.url, token="t0k", timeout_s=0.5))
    channel.send(_message(7, channel="sms"))
    assert gateway.messages["7"] == {
        "to": "13812345678",
        "text": "张伟，您好！您的工单已完工。",
        "message_id": "7",
    }
    channel.send(_message(7, channel="sms"))  # 409: the gateway already has it; sent
    assert gateway.requests == ["7", "7"] and len(gateway.messages) == 1
    gateway.answer = 503
    with pytest.raises(RetryableDeliveryError, match="503"):
        channel.send(_message(8, channel="sms"))
    gateway.answer = 400
    with pytest.raises(PermanentDeliveryError, match="400"):
        channel.send(_message(8, channel="sms"))
    gateway.answer, gateway.delay_s = None, 1.5
    with pytest.raises(RetryableDeliveryError):  # timed out
        channel.send(_message(9, channel="sms"))
    down = SmsGatewayChannel(SmsGatewaySettings(url=f"http://127.0.0.1:{_free_port()}/sms", timeout_s=1))
    with pytest.raises(RetryableDeliveryError):
        down.send(_message(10, channel="sms"))


def _prefer(db, customer_id: int, channel: str, language: str = "zh") -> None:
    db.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(email="ops@example.com", preferred_channel=channel, language=language)
    )
    db.commit()


def _assign(client, field, hour: int = 10) -> int:
    """A repair taken and assigned through ``client`` (its app's channels deliver the message)."""
    body = {
        "kind": "repair",
        "product": "adsl",
        "priority": "P2",
        "customer_id": field.home["customer_id"],
        "site_id": field.home["site_id"],
        "duplicate_ok": True,  # several faults at the one test home, on purpose
    }
    resp = client.post("/api/v1/workorders", headers=field.agent, json=body)
    assert resp.status_code == 201, resp.get_json()
    oid = resp.get_json()["id"]
    planned = datetime.combine(now().date() + timedelta(days=1), time(hour)).isoformat()
    move = {"to": "assigned", "technician_id": field.tech_id, "planned_start": planned}
    resp = client.post(f"/api/v1/workorders/{oid}/transitions", headers=field.disp, json=move)
    assert resp.status_code == 200, resp.get_json()
    return oid


def _row(db, order_id: int) -> Notification:
    db.expire_all()
    return db.scalars(select(Notification).where(Notification.order_id == order_id)).one()


def _deliver(app, at: datetime) -> dict:
    with app.app_context():
        channels, rules = configured()
        with app.extensions["db_sessionmaker"]() as session:
            return outbox.deliver_due(session, channels, rules, at=at)


def test_mail_queued_while_the_server_is_down_is_delivered_once_it_is_back(notify_app, mail, db, field):
    """Long because it follows one message through two failed attempts, the server's return
    and the runs after it."""
    _prefer(db, field.home["customer_id"], "email", "en")
    mail.stop()
    oid = _assign(notify_app.test_client(), field)  # the change commits; delivery fails at once

    row = _row(db, oid)
    assert (row.state, row.attempts, row.channel) == ("pending", 1, "email")
    assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error
    first_wait = row.next_attempt_at - now()
    assert timedelta(seconds=50) <= first_wait <= timedelta(seconds=61)
    # not due yet: a run now leaves it alone
    assert _deliver(notify_app, now())["sent"] == 0 and _row(db, oid).attempts == 1
    # still down when due: the wait doubles
    at = row.next_attempt_at + timedelta(seconds=1)
    assert _deliver(notify_app, at) == {"sent": 0, "retry": 1, "failed": 0, "skipped": 0}
    row = _row(db, oid)
    assert row.attempts == 2 and row.next_attempt_at - at == timedelta(seconds=120)

    mail.start()
    assert _deliver(notify_app, row.next_attempt_at)["sent"] == 1
    assert _deliver(notify_app, row.next_attempt_at + timedelta(days=1))["sent"] == 0
    row = _row(db, oid)
    assert (row.state, row.attempts, row.last_error) == ("sent", 3, None)
    assert mail.mailbox.deliveries == [f"<notification-{row.id}@{DOMAIN}>"]
    (message,) = mail.mailbox.messages.values()
    assert message["Subject"] == f"Order {db.get(WorkOrder, oid).code}: your appointment"
    assert "the visit for your ADSL broadband order" in message.get_content()


def test_a_worker_killed_between_sending_and_marking_resends_with_the_same_id(
    app, app_config, mail, gateway, db, field, tmp_path
):
    """Long because it runs a real worker process, kills it mid-delivery and checks both runs."""
    _prefer(db, field.home["customer_id"], "email")
    oid = field.order(hour=10)  # the test app logs this one; the message below is for the mail server
    order = db.get(WorkOrder, oid)
    (row,) = notifications.queue(db, "completed", order=order, context={"time": now()}, dedupe="kill-test")
    db.commit()  # outside the app: no delivery starts; the tick's worker takes it
    lease_s = 30
    env = {
        **os.environ,
        "DATABASE_URL": app_config.DATABASE_URL,
        "APP_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "REDIS_URL": "",
        "INSTANCE_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail.port),
        "SMTP_TLS": "none",
        "SMTP_FROM": f"service@{DOMAIN}",
        "NOTIFY_CLAIM_LEASE_S": str(lease_s),
    }
    worker = subprocess.Popen(
        # --force: the test app's own delivery ran a moment ago, so the job is not due yet
        [sys.executable, "-m", "flask", "--app", "wsgi", "tick", "--force"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    mail.mailbox.kill_pid = worker.pid
    _out, err = worker.communicate(timeout=120)
    assert worker.returncode == -signal.SIGKILL, err[-2000:]

    message_id = f"<notification-{row.id}@{DOMAIN}>"
    assert mail.mailbox.deliveries == [message_id]  # the server has it ...
    killed = db.get(Notification, row.id, populate_existing=True)
    assert (killed.state, killed.attempts) == ("pending", 1)  # ... the outbox never heard
    assert killed.next_attempt_at > now()  # claimed: nobody takes it until the lease ends

    resend_app = create_app(Config(**_settings(app_config, mail, gateway)))
    assert _deliver(resend_app, now())["sent"] == 0  # the lease holds
    assert _deliver(resend_app, now() + timedelta(seconds=lease_s + 1))["sent"] == 1
    assert mail.mailbox.deliveries == [message_id, message_id]  # sent again, with the same id
    assert list(mail.mailbox.messages) == [message_id]  # and the mailbox keeps one
    done = db.get(Notification, row.id, populate_existing=True)
    assert (done.state, done.attempts) == ("sent", 2)


def test_sms_down_then_up_is_sent_once_and_a_refusal_fails_at_once(notify_app, gateway, db, field):
    _prefer(db, field.home["customer_id"], "sms")
    gateway.answer = 503
    oid = _assign(notify_app.test_client(), field)
    row = _row(db, oid)
    assert (row.state, row.attempts, row.channel) == ("pending", 1, "sms")
    assert "503" in row.last_error

    gateway.answer = None
    assert _deliver(notify_app, row.next_attempt_at)["sent"] == 1
    row = _row(db, oid)
    assert row.state == "sent"
    assert list(gateway.messages) == [str(row.id)]
    assert "张伟，您好" in gateway.messages[str(row.id)]["text"]

    gateway.answer = 400  # the gateway refuses the request itself: no retry helps
    other = _assign(notify_app.test_client(), field, hour=15)
    refused = _row(db, other)
    assert (refused.state, refused.attempts) == ("failed", 1) and "400" in refused.last_error


def test_a_channel_that_is_down_is_tried_once_per_run(notify_app, gateway, db, field):
    _prefer(db, field.home["customer_id"], "sms")
    gateway.answer = 503
    client = notify_app.test_client()
    rows = [_row(db, _assign(client, field, hour=9)), _row(db, _assign(client, field, hour=15))]
    at = max(row.next_attempt_at for row in rows)
    asked = len(gateway.requests)
    assert _deliver(notify_app, at) == {"sent": 0, "retry": 1, "failed": 0, "skipped": 1}
    assert len(gateway.requests) == asked + 1  # the second row waits for the next run, unclaimed
    gateway.answer = None
    assert _deliver(notify_app, at + timedelta(days=1))["sent"] == 2
    assert len(gateway.messages) == 2


def test_production_without_a_mail_server_keeps_messages_waiting_with_attempts_unspent(app, db, field):
    _prefer(db, field.home["customer_id"], "email")
    order = db.get(WorkOrder, field.order(hour=10))
    (row,) = notifications.queue(db, "completed", order=order, context={"time": now()}, dedupe="no-server")
    db.commit()  # outside the app: nothing delivers it yet
    channels = channels_from_config({"APP_ENV": "production", "SMS_GATEWAY_URL": ""})
    counts = outbox.deliver_due(db, channels, DeliveryPolicy(), at=now() + timedelta(days=30))
    assert counts == {"sent": 0, "retry": 0, "failed": 0, "skipped": 1}
    waiting = db.get(Notification, row.id, populate_existing=True)
    assert (waiting.state, waiting.attempts) == ("pending", 0)


def test_a_message_fails_after_the_configured_attempts(app, app_config, mail, gateway, db, field):
    few = create_app(Config(**_settings(app_config, mail, gateway, NOTIFY_MAX_ATTEMPTS=2)))
    _prefer(db, field.home["customer_id"], "sms")
    gateway.answer = 503
    oid = _assign(few.test_client(), field)
    row = _row(db, oid)
    assert _deliver(few, row.next_attempt_at)["failed"] == 1
    row = _row(db, oid)
    assert (row.state, row.attempts) == ("failed", 2) and "after 2 attempts" in row.last_error
    assert DeliveryPolicy(backoff_s=60, backoff_cap_s=300).backoff(5) == timedelta(seconds=300)


@pytest.mark.redis
def test_an_rq_worker_delivers_after_the_commit_and_the_tick_schedules_the_next(
    app, app_config, mail, gateway, redis_url, db, field
):
    """Long because it drives a real RQ worker with its scheduler through the commit's job and a tick."""
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    queue_name = "test-notify"
    rq_app = create_app(
        Config(**_settings(app_config, mail, gateway, REDIS_URL=redis_url, RQ_QUEUE=queue_name))
    )
    _prefer(db, field.home["customer_id"], "email")
    oid = _assign(rq_app.test_client(), field)
    assert _row(db, oid).state == "pending"  # on the queue, not sent in the request
    assert db.scalars(select(JobRun.status).where(JobRun.kind == outbox.DELIVER_JOB)).all() == ["queued"]

    past = clock.time() - 120
    assert jobs.schedule_tick(redis_url, queue_name, 60, at_epoch=past) is True
    assert jobs.schedule_tick(redis_url, queue_name, 60, at_epoch=past) is False  # one per slot
    env = {
        **os.environ,
        "DATABASE_URL": app_config.DATABASE_URL,
        "REDIS_URL": redis_url,
        "RQ_QUEUE": queue_name,
        "SECRET_KEY": "test-secret",
        "APP_ENV": "testing",
        "PYTHONPATH": str(ROOT),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail.port),
        "SMTP_TLS": "none",
        "SMTP_FROM": f"service@{DOMAIN}",
    }
    worker_started = clock.time()
    worker = subprocess.run(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--burst",
            "--with-scheduler",
            "--url",
            redis_url,
            queue_name,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert worker.returncode == 0, worker.stderr[-3000:]
    row = _row(db, oid)
    assert row.state == "sent", worker.stderr[-3000:]
    assert mail.mailbox.deliveries == [f"<notification-{row.id}@{DOMAIN}>"]
    ran = set(db.scalars(select(JobRun.kind).where(JobRun.status == "finished")))
    assert {outbox.DELIVER_JOB, notifications.FOLLOWUP_REMINDERS_JOB} <= ran  # the tick started both
    connection = Redis.from_url(redis_url)
    scheduled = ScheduledJobRegistry(queue=Queue(queue_name, connection=connection)).get_job_ids()
    assert len(scheduled) == 1 and scheduled[0].startswith("tick-60-")
    # the next tick, after the one that ran (a slow worker may finish after that slot began)
    assert int(scheduled[0].rsplit("-", 1)[1]) * 60 > worker_started
    connection.close()
