"""How a use case's explanations speak (``explain:`` in its declaration)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from tabship.usecase.base import Strict


class ReasonSpec(Strict):
    """One input in words: its label, and what to say when it raises or lowers the score."""

    label: str
    raises: str | None = Field(None, description="Said when the input raises the score.")
    lowers: str | None = Field(None, description="Said when the input lowers the score.")
    unit: str | None = Field(None, description="Shown after the value: 'years', 'EUR'.")
    factor: float | None = Field(
        None, description="The value is shown times this (days before today → years: -1/365.25)."
    )


class GroupSpec(ReasonSpec):
    """Inputs a person reads as one (a ratio beside the amounts it divides, several scores
    of one kind): their contributions are told together, as one reason."""

    inputs: list[str] = Field(min_length=2, description="The model inputs told together.")


class CompareSpec(Strict):
    """A declared way to find people like a client: the same level of each text input and
    the same fifth (among held-out clients) of each number."""

    label: str
    by: list[str] = Field(min_length=1, description="Inputs the client's peers share.")


class WordsSpec(Strict):
    """What the score and the two decisions are called where people read them."""

    score: str = Field("score", description="The score's name: 'risk of payment difficulties'.")
    positive: str = Field("positive", description="The decision at or above the threshold.")
    negative: str = Field("negative", description="The decision below the threshold.")
    outcome: str = Field(
        "positive", description="What the positive class is, said of people: 'had difficulties'."
    )


class ExplainSpec(Strict):
    """Reason texts per input and per group of inputs, how many reasons to list, how
    close to the threshold is close, and declared ways to compare a client."""

    top: int = Field(4, ge=1, le=20, description="Reasons listed per explanation.")
    boundary: float = Field(
        0.03, ge=0, le=0.5, description="Scores this close to the threshold are 'close'."
    )
    words: WordsSpec = Field(default_factory=WordsSpec)
    inputs: dict[str, ReasonSpec] = Field(default_factory=dict)
    groups: dict[str, GroupSpec] = Field(default_factory=dict)
    compare: dict[str, CompareSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_group_each(self) -> ExplainSpec:
        seen: dict[str, str] = {}
        for name, group in self.groups.items():
            if name in self.inputs:
                raise ValueError(f"groups.{name}: a group cannot share an input's name")
            for member in group.inputs:
                if member in seen:
                    raise ValueError(f"groups.{name}: {member} is already in group {seen[member]}")
                seen[member] = name
        return self

    def texts(self) -> dict[str, dict[str, str]]:
        """The reason texts as plain data (a version's bundle keeps them)."""
        return {k: v.model_dump(exclude_none=True) for k, v in self.inputs.items()}

    def grouped(self) -> dict[str, dict[str, Any]]:
        """The groups as plain data (a version's bundle keeps them)."""
        return {k: v.model_dump(exclude_none=True) for k, v in self.groups.items()}

    def comparisons(self) -> dict[str, dict[str, Any]]:
        """The declared comparisons as plain data (a version's bundle keeps them)."""
        return {k: v.model_dump() for k, v in self.compare.items()}
