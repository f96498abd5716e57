"""The data-quality report of one build: counts per rule, shares, normalised values."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class QualityReport:
    """The data-quality report of one build: rows in, quarantined by rule, normalised, out."""

    use_case: str
    build_id: str
    source_files: list[str]
    raw_version: str
    rows_in: int
    rows_quarantined: int
    max_invalid_share: float
    by_rule: dict[str, int] = field(default_factory=dict)
    # Rules the Parquet footers prove every row keeps: not evaluated row by row.
    proven_by_statistics: list[str] = field(default_factory=list)
    normalized: dict[str, int] = field(default_factory=dict)
    # Missing values per declared column, over every row read (sentinels included).
    missing: dict[str, int] = field(default_factory=dict)
    exact_duplicates_dropped: int = 0
    unlabelled: int = 0
    passed: bool = True
    feature_version: int | None = None
    quarantine_version: int | None = None

    @property
    def rows_out(self) -> int:
        """Rows that reach the feature table."""
        return self.rows_in - self.rows_quarantined

    @property
    def invalid_share(self) -> float:
        """Share of rows quarantined: what the build's tolerance is checked against."""
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-ready data."""
        out = asdict(self)
        out["rows_out"] = self.rows_out
        out["invalid_share"] = self.invalid_share
        return out

    def to_markdown(self) -> str:
        """The report as Markdown a person reads."""
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"# Data quality: {self.use_case} (build {self.build_id})",
            "",
            f"Contract {verdict}: {self.rows_quarantined:,} of {self.rows_in:,} rows "
            f"quarantined ({self.invalid_share:.3%}; tolerated {self.max_invalid_share:.2%}).",
            "",
            f"- source: {', '.join(self.source_files)} (raw version `{self.raw_version}`)",
            f"- feature table version: {self.feature_version}",
            f"- quarantine table version: {self.quarantine_version}",
            "",
            "| rule | rows | share of rows |",
            "| --- | ---: | ---: |",
        ]
        for rule, count in sorted(self.by_rule.items(), key=lambda kv: -kv[1]):
            lines.append(f"| `{rule}` | {count:,} | {count / max(self.rows_in, 1):.4%} |")
        if not self.by_rule:
            lines.append("| (none broken) | 0 | 0% |")
        if self.proven_by_statistics:
            proven = ", ".join(f"`{r}`" for r in self.proven_by_statistics)
            lines += ["", f"Kept by every row, as the files' statistics prove: {proven}."]
        lines += [
            "",
            f"- exact duplicate rows dropped first: {self.exact_duplicates_dropped:,}",
            f"- rows without a label (kept, not used for training): {self.unlabelled:,}",
        ]
        lines += ["", "Missing values per column (every row read):", ""]
        gaps = {c: n for c, n in self.missing.items() if n}
        lines += [
            f"- `{col}`: {n:,} rows ({n / max(self.rows_in, 1):.2%})"
            for col, n in sorted(gaps.items(), key=lambda kv: -kv[1])
        ] or ["- none"]
        lines += ["", "Values declared as 'unknown' and stored as missing:", ""]
        lines += [f"- `{col}`: {n:,} rows" for col, n in self.normalized.items()] or ["- none"]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write JSON and Markdown, plus ``latest.*`` copies."""
        folder.mkdir(parents=True, exist_ok=True)
        json_text = json.dumps(self.to_dict(), indent=2)
        md_text = self.to_markdown()
        stem = folder / f"quality-{self.build_id}"
        for name, text in ((f"{stem}.json", json_text), (f"{stem}.md", md_text)):
            Path(name).write_text(text)
        (folder / "latest.json").write_text(json_text)
        (folder / "latest.md").write_text(md_text)
        return Path(f"{stem}.json"), Path(f"{stem}.md")
