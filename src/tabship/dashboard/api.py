"""The dashboard's only source: the prediction API, over HTTP. Every failure becomes one
sentence a person can act on (``Unavailable``), never a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

HEADER = "X-API-Key"


class Unavailable(Exception):  # noqa: N818 - a state shown to a person, not a bug
    """What the dashboard cannot show, and why, in words (``code``: the API's, if any)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Api:
    """The API at ``url`` (with the dashboard's key, where keys are set)."""

    url: str
    key: str | None = None
    timeout: float = 5.0

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {HEADER: self.key} if self.key else {}
        try:
            answer = httpx.request(
                method,
                f"{self.url.rstrip('/')}{path}",
                headers=headers,
                timeout=self.timeout,
                **kwargs,
            )
        except httpx.TransportError as exc:
            raise Unavailable(
                f"The scoring service at {self.url} does not answer ({type(exc).__name__}). "
                "Try again in a minute; if it persists, tell the support team."
            ) from exc
        if answer.status_code in (401, 403):
            raise Unavailable(
                "The scoring service refused the dashboard's key: ask the support team for "
                "a key with the features and models scopes."
            )
        try:
            body = answer.json()
        except ValueError as exc:
            raise Unavailable(
                f"The scoring service gave an unreadable answer ({answer.status_code})."
            ) from exc
        if answer.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            code = str(error.get("code", ""))
            raise Unavailable(_said(code, str(error.get("message", ""))), code)
        return dict(body)

    def models(self) -> list[dict[str, Any]]:
        """Every model the service loads."""
        return list(self._call("GET", "/v1/models")["models"])

    def model(self, name: str) -> dict[str, Any]:
        """One model: its entity, aliases and versions (threshold, explainer, comparisons)."""
        return self._call("GET", f"/v1/models/{name}")

    def sample(self, name: str, n: int = 100) -> list[str]:
        """Ids of known clients to pick from."""
        return list(self._call("GET", f"/v1/models/{name}/sample", params={"n": n})["ids"])

    def explain(self, name: str, entity: str, client: str) -> dict[str, Any]:
        """The client's score, decision, reasons and contributions."""
        return self._call("POST", f"/v1/models/{name}/explain", json={entity: _id(client)})

    def predict(self, name: str, entity: str, client: str) -> dict[str, Any]:
        """The client's score and decision alone (for versions without explanations)."""
        return self._call("POST", f"/v1/models/{name}/predict", json={entity: _id(client)})

    def similar(self, name: str, client: str, k: int, compare: str | None) -> dict[str, Any]:
        """Aggregates over clients like this one."""
        params: dict[str, Any] = {"k": k}
        if compare:
            params["compare"] = compare
        return self._call("GET", f"/v1/models/{name}/similar/{client}", params=params)

    def importance(self, name: str) -> dict[str, Any]:
        """What moves the scores overall."""
        return self._call("GET", f"/v1/models/{name}/importance")


def _id(client: str) -> int | str:
    """An id as the API stores it: digits are a number (ids like '007' stay text)."""
    plain = client.strip()
    return int(plain) if plain.isdigit() and (plain == "0" or not plain.startswith("0")) else plain


_SAID = {
    "unknown_entity": "No client with this id is known: check the id (the client may "
    "not have applied yet).",
    "no_explainer": "This model version gives no explanations, so the reasons cannot be "
    "shown; the decision itself stands.",
    "no_reference": "This model version keeps no comparison clients.",
    "cohort_too_small": "Too few clients are alike in this way to compare without "
    "describing individuals; choose another comparison.",
    "no_champion": "No model has been approved for decisions yet.",
    "unknown_model": "This model is not served.",
}


def _said(code: str, message: str) -> str:
    """The API's error in words (its own message where we have none)."""
    return _SAID.get(code, f"The scoring service could not answer: {message or code}.")
