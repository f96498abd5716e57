"""What a use case declares about being served (``serving:`` in its declaration)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tabship.usecase.base import Strict


class TrafficSpec(Strict):
    """How the default route shares requests between champion and another alias.

    ``shadow``: the champion answers; ``alias`` also scores a ``share`` of requests and
    its answers are logged only. ``canary``: ``alias`` answers a ``share`` of entities,
    chosen by a hash of the entity id so an entity always meets the same version.
    """

    mode: Literal["none", "shadow", "canary"] = "none"
    alias: str | None = Field(
        None, description="The other alias (default: the newest candidate, challenger)."
    )
    share: float = Field(0.1, ge=0, le=1)


class RouteSpec(Strict):
    """A route shaped exactly as a client asked, beside the generic ones.

    ``rename`` maps the client's field names to the use case's columns (``{"id": "ids"}``);
    ``required`` lists the client's fields that must be present; the answer holds only
    ``response`` fields (client names), e.g. ``[id, prediction]``.
    """

    path: str = Field(pattern=r"^/[A-Za-z0-9_\-/]*$")
    accept: Literal["payload", "model"] = Field(
        "payload",
        description="'payload': the use case's payload fields; 'model': only the inputs the "
        "answering model uses (reference data is still joined by the service).",
    )
    rename: dict[str, str] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=list)
    response: list[str] = Field(default_factory=lambda: ["prediction"])


class ServingSpec(Strict):
    """How a use case is served: payload fields, batch limit, traffic policy, client routes."""

    payload: list[str] | None = Field(
        None,
        description="Fields a JSON payload carries (default: the model's features). Columns "
        "of the use case's reference data (enrich) are joined by the service, never sent.",
    )
    max_batch: int = Field(100, ge=1, le=10_000, description="Most rows in one request.")
    traffic: TrafficSpec = TrafficSpec()
    routes: list[RouteSpec] = Field(default_factory=list)
