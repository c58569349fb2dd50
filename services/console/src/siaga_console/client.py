"""The services' public HTTP APIs, called with the signed-in person's own token (never a console token)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from .settings import ConsoleSettings

__all__ = ["ServiceError", "Services"]


class ServiceError(Exception):
    """A service refused (``status`` 4xx) or did not answer (``status`` None)."""

    def __init__(self, service: str, status: int | None, detail: str) -> None:
        super().__init__(f"{service}: {status} {detail}")
        self.service = service
        self.status = status
        self.detail = detail


@dataclass
class Services:
    clients: dict[str, httpx.AsyncClient]

    @classmethod
    def from_settings(cls, settings: ConsoleSettings) -> Services:
        timeout = httpx.Timeout(settings.request_timeout_s)
        urls = {
            "meetings": settings.meetings_url,
            "logistics": settings.logistics_url,
            "notifications": settings.notifications_url,
        }
        return cls({name: httpx.AsyncClient(base_url=url, timeout=timeout) for name, url in urls.items()})

    async def close(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients.values()))

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        client = self.clients[service]
        try:
            r = await client.request(
                method,
                path,
                params={k: v for k, v in (params or {}).items() if v is not None},
                json=body,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ServiceError(service, None, type(exc).__name__) from None
        if r.status_code >= 400:
            try:
                detail = str(r.json().get("detail", r.text))
            except ValueError:
                detail = r.text
            raise ServiceError(service, r.status_code, detail[:500])
        return r.json() if r.content else None

    async def get(self, service: str, path: str, token: str, **params: Any) -> Any:
        return await self.call(service, "GET", path, token, params=params)

    async def get_or(self, default: Any, service: str, path: str, token: str, **params: Any) -> Any:
        """The answer, or ``default`` when the service says 403 or 404 (nothing readable there)."""
        try:
            return await self.get(service, path, token, **params)
        except ServiceError as exc:
            if exc.status in (403, 404):
                return default
            raise

    async def post(self, service: str, path: str, token: str, body: Any) -> Any:
        return await self.call(service, "POST", path, token, body=body)
