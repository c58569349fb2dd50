"""Settings of the console (environment variables, no prefix)."""

from __future__ import annotations

import secrets

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ConsoleSettings"]


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    service_name: str = Field("console", description="Service name, used in logs.")
    http_host: str = "127.0.0.1"
    http_port: int = 8104
    meetings_url: str = Field("http://127.0.0.1:8101", description="Base URL of the meetings API.")
    logistics_url: str = Field("http://127.0.0.1:8102", description="Base URL of the logistics API.")
    notifications_url: str = Field("http://127.0.0.1:8103", description="Base URL of the notifications API.")
    request_timeout_s: float = Field(10.0, gt=0, description="Bound on one call to a service.")
    session_secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="Key material for the encrypted session cookie; random per process when unset "
        "(then a restart signs everyone out). Set it when several console processes serve one site.",
    )
    session_max_age_s: int = Field(12 * 3600, ge=60, description="A session lasts this long after sign-in.")
    cookie_secure: bool = Field(True, description="Send the session cookie over HTTPS only (and localhost).")
    auth_tokens_file: str | None = Field(None, description="The services' token file (hashes only).")
    auth_dev_tokens: bool = Field(False, description="Accept dev:<institution>:<region>:<role> tokens.")
    election_id: str = Field("pilkada2024", description="The election whose logistics are shown first.")
    live_poll_s: float = Field(5.0, gt=0, description="How often a live page re-reads the services.")
    log_level: str = "INFO"
    log_json: bool = True
