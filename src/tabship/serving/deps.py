"""Request dependencies, as ``Annotated`` aliases the routes declare."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from tabship.serving.errors import ApiError
from tabship.serving.services import Services


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def require_admin(svc: ServicesDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Admin routes need the configured key; with none configured they stay closed."""
    configured = svc.settings.api_key
    if configured is None:
        raise ApiError(401, "unauthorized", "admin routes are closed: no TABSHIP_API_KEY is set")
    if x_api_key is None or not hmac.compare_digest(
        x_api_key.encode(), configured.get_secret_value().encode()
    ):
        raise ApiError(401, "unauthorized", "missing or wrong X-API-Key")


AdminDep = Annotated[None, Depends(require_admin)]
