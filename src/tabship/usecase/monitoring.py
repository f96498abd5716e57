"""How a use case is watched once it serves (``monitoring:`` in its declaration)."""

from __future__ import annotations

from pydantic import Field, model_validator

from tabship.usecase.base import Strict


class PsiSpec(Strict):
    """Population stability bands as credit teams read them: below ``watch`` stable,
    from ``watch`` to ``act`` worth watching, from ``act`` up a shift to act on."""

    watch: float = Field(0.10, gt=0)
    act: float = Field(0.25, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> PsiSpec:
        if self.act < self.watch:
            raise ValueError(f"psi.act ({self.act}) is below psi.watch ({self.watch})")
        return self


class MonitoringSpec(Strict):
    """Drift thresholds, how much traffic a verdict needs, and the live gauges' window."""

    psi: PsiSpec = PsiSpec()
    missing_change: float = Field(
        0.10, gt=0, le=1, description="A missing share this much above training's fails."
    )
    unseen_share: float = Field(
        0.01, gt=0, le=1, description="A text input with this share of never-seen levels fails."
    )
    min_rows: int = Field(500, ge=1, description="Fewer logged rows than this: no verdict.")
    bins: int = Field(10, ge=2, le=50, description="Fixed bins per number (deciles by default).")
    live_window: int = Field(
        5000, ge=100, description="The live gauges compare the last this many predictions."
    )
    live_inputs: int = Field(
        20, ge=0, le=200, description="Inputs with a live gauge (the most important first)."
    )
