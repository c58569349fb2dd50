"""Acknowledge, resolve and silence an alert from the Peringatan page (POST forms with a CSRF field).

The console offers these only to whom the notifications API would allow them; the API decides anyway,
with the person's own token, so its audit names them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse

from ..client import ServiceError
from .common import Context, Ctx, back_to

__all__ = ["make_actions_router"]

Fingerprint = Annotated[str, Path(pattern=r"^[0-9a-f]{16,64}$")]
Csrf = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=1000)]


def _outcome(exc: ServiceError) -> str:
    return {403: "forbidden", 404: "notfound"}.get(exc.status or 0, "service")


def make_actions_router() -> APIRouter:
    router = APIRouter()

    async def respond(
        ctx: Context, fp: str, action: str, csrf: str, comment: str, *, mute: bool = False
    ) -> RedirectResponse:
        if not ctx.session.csrf_ok(csrf):
            return back_to("/peringatan", err="csrf")
        body: dict[str, object] = {"comment": comment.strip() or None}
        if mute:
            body["until_resolved"] = True  # no reminders either, until the alert resolves
        try:
            await ctx.console.services.post("notifications", f"/alerts/{fp}/{action}", ctx.token, body)
        except ServiceError as exc:
            return back_to("/peringatan", err=_outcome(exc))
        return back_to("/peringatan", ok="mute" if mute else action)

    @router.post("/peringatan/{fingerprint}/acknowledge", include_in_schema=False)
    async def acknowledge(
        fingerprint: Fingerprint,
        ctx: Ctx,
        csrf: Csrf,
        comment: Text = "",
        do: Annotated[Literal["acknowledge", "mute"], Form()] = "acknowledge",
    ) -> RedirectResponse:
        """The plain acknowledgement, or (``do=mute``) one that also mutes the alert until it resolves."""
        return await respond(ctx, fingerprint, "acknowledge", csrf, comment, mute=do == "mute")

    @router.post("/peringatan/{fingerprint}/resolve", include_in_schema=False)
    async def resolve(fingerprint: Fingerprint, ctx: Ctx, csrf: Csrf, comment: Text = "") -> RedirectResponse:
        return await respond(ctx, fingerprint, "resolve", csrf, comment)

    @router.post("/peringatan/{fingerprint}/silence", include_in_schema=False)
    async def silence(
        fingerprint: Fingerprint,
        ctx: Ctx,
        csrf: Csrf,
        reason: Annotated[str, Form(min_length=1, max_length=1000)],
        hours: Annotated[float, Form(gt=0, le=24 * 90)] = 2,
    ) -> RedirectResponse:
        if not ctx.session.csrf_ok(csrf):
            return back_to("/peringatan", err="csrf")
        services = ctx.console.services
        try:
            alert = await services.get("notifications", f"/alerts/{fingerprint}", ctx.token)
            matchers = [
                {"name": k, "value": v} for k, v in sorted(alert["labels"].items()) if k != "severity"
            ]
            await services.post(
                "notifications",
                "/silences",
                ctx.token,
                {
                    "matchers": matchers,
                    "region_prefix": alert.get("region"),
                    "duration_s": round(hours * 3600),
                    "comment": reason.strip(),
                },
            )
        except ServiceError as exc:
            return back_to("/peringatan", err=_outcome(exc))
        return back_to("/peringatan", ok="silence")

    return router
