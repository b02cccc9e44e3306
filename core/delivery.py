"""Channels that carry a message to a customer: SMTP email and an SMS gateway over HTTP.

A channel has one method, ``send(message)``: it returns when the receiver has the
message and raises :class:`RetryableDeliveryError` when it may get it later (server
down, timeout, 4xx SMTP reply, HTTP 5xx) or :class:`PermanentDeliveryError` when it
never will (an address the server refuses for good, an HTTP 4xx other than 409).

Sending is at-least-once: a worker that dies after the receiver took a message but
before the outbox row is marked sent sends it again on the next run. Every message
therefore carries one id, the outbox row's, that the receiver dedupes on, as real
receivers do: the ``Message-ID`` header of an email (``<notification-<id>@<domain>>``)
and the ``Idempotency-Key`` header of an SMS gateway request (a gateway that already
has the key answers 409, or repeats its first answer; both count as sent).

Which channels run comes from the configuration (:func:`channels_from_config`):
SMTP when ``SMTP_HOST`` is set, the gateway when ``SMS_GATEWAY_URL`` is set. A
channel left unset writes the message to the log and counts it as sent in
development and tests (the demo needs no mail server), and in production refuses
with a retryable error, so the message waits in the outbox until it is configured.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

from flask import current_app

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message was not delivered."""


class RetryableDeliveryError(DeliveryError):
    """Not delivered now; trying again later may succeed."""


class PermanentDeliveryError(DeliveryError):
    """Not delivered, and trying again will not help."""


@dataclass(frozen=True)
class OutboundMessage:
    """One message as a channel sees it; ``id`` is the outbox row's id, its stable message id."""

    id: int
    channel: str  # email | sms
    recipient: str
    body: str
    subject: str | None = None
    language: str = "zh"


class Channel(Protocol):
    def send(self, message: OutboundMessage) -> None:
        """Deliver ``message`` or raise a :class:`DeliveryError`."""
        ...


def message_id_header(notification_id: int, domain: str) -> str:
    """The email Message-ID of an outbox row: the same on every resend, so a receiver keeps one."""
    return f"<notification-{notification_id}@{domain}>"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    tls: str = "starttls"  # starttls | ssl | none
    sender: str = "noreply@localhost"
    message_id_domain: str = "localhost"
    timeout_s: float = 10.0


class SmtpChannel:
    """Email through an SMTP server (smtplib)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def build(self, message: OutboundMessage) -> EmailMessage:
        """The email for ``message``: plain text, UTF-8, its stable Message-ID."""
        email = EmailMessage()
        email["From"] = self.settings.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject or ""
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = message_id_header(message.id, self.settings.message_id_domain)
        email.set_content(message.body)  # before Content-Language: it clears the Content-* headers
        email["Content-Language"] = "en" if message.language == "en" else "zh-CN"
        return email

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.tls == "ssl":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=ssl.create_default_context())
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        if s.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, message: OutboundMessage) -> None:
        email = self.build(message)
        try:
            with self._connect() as smtp:
                if self.settings.user:
                    smtp.login(self.settings.user, self.settings.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentDeliveryError(f"recipient refused: {codes}") from exc
            raise RetryableDeliveryError(f"recipient deferred: {codes}") from exc
        except smtplib.SMTPDataError as exc:
            # 5xx to the message itself is the server's final word on it; 4xx says "later".
            if exc.smtp_code >= 500:
                raise PermanentDeliveryError(f"message refused: SMTP {exc.smtp_code}") from exc
            raise RetryableDeliveryError(f"message deferred: SMTP {exc.smtp_code}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Down, timed out, or refusing our login or sender: a fix on either side lets it through.
            raise RetryableDeliveryError(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class SmsGatewaySettings:
    url: str
    token: str | None = None
    sender_id: str | None = None
    timeout_s: float = 10.0


class SmsGatewayChannel:
    """SMS through the operator's gateway: POST JSON with an ``Idempotency-Key``.

    2xx: sent. 409 (the gateway already has this key): sent. 5xx, 429, timeouts and
    refused connections: retry. Any other 4xx: the request itself is wrong; no retry.
    """

    def __init__(self, settings: SmsGatewaySettings) -> None:
        self.settings = settings

    def send(self, message: OutboundMessage) -> None:
        payload = {"to": message.recipient, "text": message.body, "message_id": str(message.id)}
        if self.settings.sender_id:
            payload["sender_id"] = self.settings.sender_id
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": str(message.id),
        }
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        request = urllib.request.Request(
            self.settings.url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 409:
                return  # the gateway already has this message
            if exc.code >= 500 or exc.code == 429:
                raise RetryableDeliveryError(f"SMS gateway HTTP {exc.code}") from exc
            raise PermanentDeliveryError(f"SMS gateway HTTP {exc.code}") from exc
        except OSError as exc:  # URLError, refused connections and timeouts alike
            raise RetryableDeliveryError(f"SMS gateway unreachable: {exc}") from exc


class LogChannel:
    """Development and tests without a server: the message goes to the log and counts as sent."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, message: OutboundMessage) -> None:
        log.info(
            "%s notification %s (%s) not sent anywhere: no %s server configured",
            self.channel,
            message.id,
            message.language,
            self.channel,
        )


class UnconfiguredChannel:
    """Production without a server for this channel: the message waits in the outbox
    (delivery leaves its rows unclaimed: waiting for a server costs no attempts)."""

    configured = False

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, message: OutboundMessage) -> None:
        raise RetryableDeliveryError(f"the {self.channel} channel is not configured")


@dataclass(frozen=True)
class DeliveryPolicy:
    """How the outbox retries: attempts before failing, the backoff, the claim's lease, the batch."""

    max_attempts: int = 8
    backoff_s: int = 60
    backoff_cap_s: int = 3600
    lease_s: int = 300
    batch: int = 200

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> DeliveryPolicy:
        def setting(name: str, default: int) -> int:
            return int(str(config.get(name, default)))

        return cls(
            max_attempts=setting("NOTIFY_MAX_ATTEMPTS", cls.max_attempts),
            backoff_s=setting("NOTIFY_BACKOFF_S", cls.backoff_s),
            backoff_cap_s=setting("NOTIFY_BACKOFF_CAP_S", cls.backoff_cap_s),
            lease_s=setting("NOTIFY_CLAIM_LEASE_S", cls.lease_s),
            batch=setting("NOTIFY_BATCH", cls.batch),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt."""
        return timedelta(seconds=min(self.backoff_cap_s, self.backoff_s * 2 ** max(attempts - 1, 0)))


def configured() -> tuple[dict[str, Channel], DeliveryPolicy]:
    """The app's channels and delivery policy (inside an app context)."""
    return channels_from_config(current_app.config), DeliveryPolicy.from_config(current_app.config)


def channels_from_config(config: Mapping[str, object]) -> dict[str, Channel]:
    """The email and SMS channels the configuration describes (see the module docstring)."""
    offline: type[LogChannel] | type[UnconfiguredChannel] = (
        LogChannel if config.get("APP_ENV") in ("development", "testing") else UnconfiguredChannel
    )
    channels: dict[str, Channel] = {}
    host = str(config.get("SMTP_HOST") or "")
    if host:
        sender = str(config.get("SMTP_FROM") or "noreply@localhost")
        channels["email"] = SmtpChannel(
            SmtpSettings(
                host=host,
                port=int(str(config.get("SMTP_PORT") or 25)),
                user=str(config.get("SMTP_USER") or "") or None,
                password=str(config.get("SMTP_PASSWORD") or "") or None,
                tls=str(config.get("SMTP_TLS") or "starttls"),
                sender=sender,
                message_id_domain=str(config.get("MESSAGE_ID_DOMAIN") or sender.rpartition("@")[2]),
                timeout_s=float(str(config.get("SMTP_TIMEOUT_S") or 10)),
            )
        )
    else:
        channels["email"] = offline("email")
    url = str(config.get("SMS_GATEWAY_URL") or "")
    if url:
        channels["sms"] = SmsGatewayChannel(
            SmsGatewaySettings(
                url=url,
                token=str(config.get("SMS_GATEWAY_TOKEN") or "") or None,
                sender_id=str(config.get("SMS_SENDER_ID") or "") or None,
                timeout_s=float(str(config.get("SMS_TIMEOUT_S") or 10)),
            )
        )
    else:
        channels["sms"] = offline("sms")
    return channels
