"""Request dependencies, as ``Annotated`` aliases the routes declare."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from tabship.serving.http.access import Caller
from tabship.serving.services import Services
from tabship.settings import Scope


def services(request: Request) -> Services:
    """The server's services, for routes that declare them."""
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def key(request: Request) -> str | None:
    """The caller's key, if any (declared for the docs by the security scheme)."""
    return request.headers.get("x-api-key")


def requires(scope: Scope) -> Callable[..., Caller]:
    """A dependency admitting callers allowed ``scope`` (401/403 otherwise)."""

    def check(svc: ServicesDep, presented: Annotated[str | None, Depends(key)]) -> Caller:
        return svc.access.require(scope, presented)

    return check


AdminDep = Annotated[Caller, Depends(requires("admin"))]
ModelsDep = Annotated[Caller, Depends(requires("models"))]
