"""Delivery channels behind one protocol: signed webhook, SMTP e-mail, Telegram-compatible HTTP, WhatsApp
Cloud API, Kafka topic; and the acknowledge links they carry."""

from .base import ChannelError, ChannelSender, Outgoing
from .email import EmailSender
from .links import Action, ActionLinks, ack_path
from .telegram import TelegramSender
from .topic import TopicSender
from .webhook import WebhookSender, sign
from .whatsapp import WhatsAppSender

__all__ = [
    "Action",
    "ActionLinks",
    "ChannelError",
    "ChannelSender",
    "EmailSender",
    "Outgoing",
    "TelegramSender",
    "TopicSender",
    "WebhookSender",
    "WhatsAppSender",
    "ack_path",
    "sign",
]
