"""Delivery channels behind one protocol: signed webhook, SMTP e-mail, Telegram-compatible HTTP, Kafka topic."""

from .base import ChannelError, ChannelSender, Outgoing
from .email import EmailSender
from .telegram import TelegramSender
from .topic import TopicSender
from .webhook import WebhookSender, sign

__all__ = [
    "ChannelError",
    "ChannelSender",
    "EmailSender",
    "Outgoing",
    "TelegramSender",
    "TopicSender",
    "WebhookSender",
    "sign",
]
