"""Settings of the notifications service (environment variables, no prefix). Secrets are ``SecretStr``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from siaga_runtime import RuntimeSettings

__all__ = ["DEFAULT_ROUTING_FILE", "NotificationsSettings"]

DEFAULT_ROUTING_FILE = Path(__file__).with_name("routing.yaml")


class NotificationsSettings(RuntimeSettings):
    service_name: str = Field(
        "notifications", description="Service name, used in logs, metrics and event sources."
    )
    mongodb_database: str = Field(
        "siaga_notifications", description="Database owned by the notifications service."
    )
    http_port: int = 8103
    routing_file: str = Field(
        str(DEFAULT_ROUTING_FILE), description="Routing YAML (routes, receivers, escalation, inhibition)."
    )
    default_language: str = Field("id", pattern=r"^(id|en)$", description="Language of messages.")
    sweep_interval_s: float = Field(
        2.0, gt=0, description="How often group flushes and escalation timers are evaluated."
    )
    timer_bucket_s: float = Field(
        1.0, gt=0, description="Resolution of the durable timers (escalation waits, group flushes, retries)."
    )
    full_scan_interval_s: float = Field(
        60.0, gt=0, description="How often the alerts, groups and deliveries are also scanned (safety net)."
    )
    delivery_poll_s: float = Field(1.0, gt=0, description="How often each channel worker looks for work.")
    delivery_max_attempts: int = Field(8, ge=1, description="Attempts before a delivery is given up.")
    delivery_backoff_s: float = Field(2.0, gt=0, description="First retry delay; doubles per attempt.")
    delivery_backoff_max_s: float = Field(600.0, gt=0, description="Longest retry delay.")
    delivery_lease_s: float = Field(120.0, gt=0, description="How long a worker owns a claimed delivery.")
    channel_rate_per_s: float = Field(20.0, gt=0, description="Rate limit of each channel (messages/s).")
    channel_timeout_s: float = Field(10.0, gt=0, description="Timeout of one send.")
    smtp_host: str = Field("127.0.0.1", description="SMTP server.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_user: str | None = Field(None, description="SMTP user, if the server needs login.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_from: str = Field("siaga@localhost", description="Sender address of alert e-mails.")
    webhook_url: str | None = Field(None, description="Default webhook URL for contacts without one.")
    webhook_secret: SecretStr = Field(
        SecretStr("change-me"), description="HMAC-SHA256 key for the X-Siaga-Signature header."
    )
    telegram_base_url: str = Field("http://127.0.0.1:8081", description="Telegram-bot-compatible API base.")
    telegram_token: SecretStr | None = Field(None, description="Bot token.")
    telegram_webhook_secret: SecretStr | None = Field(
        None,
        description="Secret token Telegram sends in X-Telegram-Bot-Api-Secret-Token with each update "
        "(set with setWebhook); callbacks without it are refused.",
    )
    whatsapp_base_url: str = Field(
        "http://127.0.0.1:8082/v21.0", description="WhatsApp Cloud API base, up to the version segment."
    )
    whatsapp_phone_number_id: str | None = Field(None, description="WhatsApp Business phone number id.")
    whatsapp_token: SecretStr | None = Field(None, description="WhatsApp Cloud API access token.")
    whatsapp_app_secret: SecretStr | None = Field(
        None, description="App secret: the key of the X-Hub-Signature-256 HMAC on incoming webhooks."
    )
    whatsapp_verify_token: SecretStr | None = Field(
        None, description="The hub.verify_token of the webhook subscription handshake."
    )
    public_url: str = Field(
        "http://127.0.0.1:8103",
        description="Public base URL of this service, for the acknowledge links in messages.",
    )
    ack_link_secret: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key signing the acknowledge links (the same on every replica). Unset: a random "
        "key of the process, so links stop working at a restart (a warning says so).",
    )
    ack_link_ttl_s: float = Field(
        24 * 3600.0, gt=0, description="How long an acknowledge link stays valid after it is sent."
    )
