"""The one strict base of every declaration section: unknown keys are errors (a typo in a
declaration must not pass silently) and a loaded declaration never changes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A declaration section: extra keys refused, frozen once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
