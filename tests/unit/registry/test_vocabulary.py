"""The registry's vocabulary is spelled in one module: every other module asks it."""

from __future__ import annotations

import re
from pathlib import Path

from tabship.registry import vocabulary as vocab

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "tabship"
SPELLED = re.compile(r"""[fr]?["'](champion|challenger|(metric|approval|gates)\.[a-z_{]*)["']""")


def test_no_module_but_the_vocabulary_spells_a_tag_or_alias() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "registry" / "vocabulary.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SPELLED.search(line)
    ]
    assert found == []
    assert SPELLED.search('tags.get("approval.status")')  # the pattern finds a spelling


def test_tags_read_back_what_was_written() -> None:
    tags = {
        **vocab.metric_tags({"roc_auc": 0.7}),
        **vocab.gate_tags(passed=False, failed=["min_roc_auc"]),
        **vocab.decision_tags(vocab.APPROVED, "ana", "2026-12-01", "fine", override=True),
        vocab.HISTORY: "[]",
    }
    assert vocab.metrics_of(tags) == {"roc_auc": 0.7}
    assert not vocab.gates_passed(tags)
    assert vocab.gates_failed(tags) == "min_roc_auc"
    assert vocab.status_of(tags) == vocab.APPROVED
    assert vocab.approval_of(tags) == {
        "by": "ana",
        "at": "2026-12-01",
        "reason": "fine",
        "override": "true",
    }
    assert vocab.HISTORY not in vocab.version_tags(tags)
    assert vocab.status_of({}) == vocab.PENDING
