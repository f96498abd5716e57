"""The manual approval gate: the only way to champion, refused for failed gates, recorded."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tabship.errors import StoreError
from tabship.registry.approval import ApprovalError, approve, reject
from tabship.registry.client import Registry
from tabship.registry.vocabulary import CHALLENGER, CHAMPION
from tabship.settings import Settings
from tabship.training.train import train
from tabship.usecase import UseCase
from tests.cli_runner import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def two_versions(
    small_usecase: Callable[..., UseCase], built: Callable[[UseCase], int], train_settings: Settings
) -> tuple[UseCase, Registry]:
    """Version 1 passes its gates; version 2 fails one (an impossible PR-AUC floor)."""
    usecase = small_usecase()
    built(usecase)
    train(usecase, train_settings)
    failing = usecase.model_copy(
        update={
            "training": usecase.training.model_copy(
                update={  # type: ignore[union-attr]
                    "gates": usecase.training.gates.model_copy(
                        update={"min_metrics": {"pr_auc": 0.99}}
                    )  # type: ignore[union-attr]
                }
            )
        }
    )
    train(failing, train_settings)
    return usecase, Registry(train_settings)


def test_failed_gates_block_approval_unless_overridden(
    two_versions: tuple[UseCase, Registry],
) -> None:
    usecase, registry = two_versions
    name = usecase.name
    assert registry.version(name, "2").tags["gates.passed"] == "false"
    with pytest.raises(ApprovalError, match="failed its gates \\(min pr_auc\\)"):
        approve(registry, name, "2", by="ana", reason="looks fine")
    assert CHAMPION not in registry.aliases(name)
    assert registry.history(name) == []
    decision = approve(registry, name, "2", by="ana", reason="accepting the risk", override=True)
    assert decision.override
    assert registry.aliases(name)[CHAMPION] == "2"
    assert registry.version(name, "2").tags["approval.override"] == "true"


def test_champion_moves_and_every_decision_is_recorded(
    two_versions: tuple[UseCase, Registry],
) -> None:
    usecase, registry = two_versions
    name = usecase.name
    assert registry.aliases(name) == {CHALLENGER: "2"}
    approve(registry, name, "1", by="ana", reason="first model")
    reject(registry, name, "2", by="bo", reason="fails the floor")
    with pytest.raises(ApprovalError, match="was rejected by bo"):
        approve(registry, name, "2", by="ana", reason="changed my mind")
    assert registry.aliases(name)[CHAMPION] == "1"
    history = registry.history(name)
    assert [(e["action"], e["version"], e["by"]) for e in history] == [
        ("approve", "1", "ana"),
        ("reject", "2", "bo"),
    ]
    assert history[0]["previous_champion"] is None
    tags = registry.version(name, "1").tags
    assert (tags["approval.status"], tags["approval.by"], tags["approval.reason"]) == (
        "approved",
        "ana",
        "first model",
    )


def test_bad_approvals_are_one_line_errors_and_change_nothing(
    two_versions: tuple[UseCase, Registry],
    train_settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    usecase, registry = two_versions
    monkeypatch.setenv("TABSHIP_HOME", str(train_settings.home))
    monkeypatch.setenv("TABSHIP_USECASES", str(train_settings.usecases))
    monkeypatch.setenv("TABSHIP_TRACKING_URI", str(train_settings.tracking_uri))
    for args, needle in (
        (["approve", usecase.name, "9", "--by", "ana", "--reason", "x"], "has no version 9"),
        (["approve", usecase.name, "1", "--reason", "x"], "needs the name of who decides (--by)"),
        (["approve", usecase.name, "1", "--by", "ana"], "needs a reason (--reason)"),
    ):
        out = run_cli(["models", *args], capsys, monkeypatch)
        assert out.code == 1
        assert len(out.err.strip().splitlines()) == 1, out.err
        assert needle in out.err
    assert CHAMPION not in registry.aliases(usecase.name)
    with pytest.raises(StoreError):
        approve(registry, usecase.name, "9", by="ana", reason="x")
    listed = run_cli(["models", "list", usecase.name], capsys, monkeypatch)
    assert listed.code == 0
    assert "challenger" in listed.out
    assert "FAILED" in listed.out
