"""How a use case's explanations speak (``explain:`` in its declaration)."""

from __future__ import annotations

from pydantic import Field

from tabship.usecase.base import Strict


class ReasonSpec(Strict):
    """One input in words: its label, and what to say when it raises or lowers the score."""

    label: str
    raises: str | None = Field(None, description="Said when the input raises the score.")
    lowers: str | None = Field(None, description="Said when the input lowers the score.")


class ExplainSpec(Strict):
    """Reason texts per input and how many reasons an explanation lists."""

    top: int = Field(4, ge=1, le=20, description="Reasons listed per explanation.")
    inputs: dict[str, ReasonSpec] = Field(default_factory=dict)

    def texts(self) -> dict[str, dict[str, str]]:
        """The reason texts as plain data (a version's bundle keeps them)."""
        return {k: v.model_dump(exclude_none=True) for k, v in self.inputs.items()}
