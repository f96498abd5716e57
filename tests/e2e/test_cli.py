"""The ``tabship`` command as a user runs it: the happy path and every kind of bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tabship.settings import Settings
from tests.cli_runner import Outcome, run_cli


@pytest.fixture
def cli(settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TABSHIP_HOME", str(settings.home))
    monkeypatch.setenv("TABSHIP_USECASES", str(settings.usecases))
    monkeypatch.delenv("TABSHIP_DATA", raising=False)

    def run(*args: str) -> Outcome:
        return run_cli(list(args), capsys, monkeypatch)

    return run


def test_generate_build_materialize_get(cli, settings: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(
        "data",
        "generate",
        "credit_risk",
        "--rows",
        "5000",
        "--out",
        str(tmp_path / "src"),
        "--dirty",
        "0.01",
    )
    assert out.code == 0, out.err
    built = cli("features", "build", "credit_risk", "--data", str(tmp_path / "src"))
    assert built.code == 0, built.err
    assert "rows quarantined" in built.out
    assert "loan_amount:greater_than" in built.out
    assert cli("features", "materialize", "credit_risk").code == 0
    again = cli("features", "materialize", "credit_risk")
    assert "already live" in again.out
    shown = cli("features", "get", "credit_risk", "--sample", "2")
    assert shown.code == 0, shown.err
    first = json.loads(shown.out.split("\n}\n")[0] + "\n}")
    assert first["feature_table_version"] == "v0"
    assert set(first["features"]) >= {
        "nb_previous_loans",
        "avg_amount_loans_previous",
        "age",
        "years_on_the_job",
        "flag_own_car",
    }
    assert set(first) == {"use_case", "id", "features", "event_time", "feature_table_version"}
    one = cli("features", "get", "credit_risk", first["id"])
    assert one.code == 0
    assert json.loads(one.out)["features"] == first["features"]
    history = cli("features", "history", "credit_risk")
    assert history.code == 0
    assert "raw" in history.out


def _assert_one_line_error(out: Outcome, needle: str, settings: Settings) -> None:
    assert out.code != 0
    lines = [line for line in out.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, out.err
    assert needle in " ".join(out.err.split()), out.err
    assert not (settings.offline_dir / "credit_risk").exists()


def _with_column(loans: Path, name: str, values: pa.Array | None) -> pa.Table:
    """2,000 valid loans with one column replaced (or dropped when ``values`` is None)."""
    table = pq.read_table(loans).slice(0, 2000)
    if values is None:
        return table.drop_columns([name])
    return table.set_column(table.schema.get_field_index(name), name, values)


def _write_parquet(table: pa.Table) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        pq.write_table(table, folder / "loans.parquet")
        return folder / "loans.parquet"

    return write


def _write_bytes(name: str, content: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return folder / name

    return write


@pytest.mark.parametrize(
    ("make_source", "needle"),
    [
        pytest.param(
            lambda loans: _write_parquet(_with_column(loans, "loan_amount", None)),
            "missing column(s): loan_amount",
            id="missing-column",
        ),
        pytest.param(
            lambda loans: _write_parquet(_with_column(loans, "loan_date", pa.array([True] * 2000))),
            "column 'loan_date' has type boolean, expected date",
            id="wrong-type",
        ),
        pytest.param(
            lambda loans: _write_parquet(
                _with_column(loans, "loan_amount", pa.array(["n/a"] * 2000))
            ),
            "loan_amount:type (2,000)",
            id="text-instead-of-numbers",
        ),
        pytest.param(lambda loans: _write_bytes("loans.csv", b""), "is empty", id="empty-file"),
        pytest.param(
            lambda loans: _write_bytes(
                "loans.csv", (",".join(pq.read_schema(loans).names) + "\n").encode()
            ),
            "has no rows",
            id="header-only-csv",
        ),
        pytest.param(
            lambda loans: lambda folder: folder / "nope.parquet",
            "no such file or folder",
            id="nonexistent-path",
        ),
        pytest.param(
            lambda loans: _write_bytes("loans.xlsx", b"PK\x03\x04 not a table"),
            "is not a CSV or Parquet file",
            id="not-csv-or-parquet",
        ),
        pytest.param(
            lambda loans: _write_bytes("loans.parquet", b"id,loan_date\n1,2020-01-01\n"),
            "is not a Parquet file",
            id="parquet-name-on-csv-bytes",
        ),
    ],
)
def test_bad_source_is_a_one_line_error_and_writes_nothing(  # type: ignore[no-untyped-def]
    cli, settings: Settings, loans: Path, tmp_path: Path, make_source, needle: str
) -> None:
    path = make_source(loans)(tmp_path)
    out = cli("features", "build", "credit_risk", "--data", str(path))
    _assert_one_line_error(out, needle, settings)


def test_unknown_use_case(cli, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _assert_one_line_error(cli("features", "build", "nope"), "unknown use case 'nope'", settings)


def test_unknown_use_case_for_training(cli, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _assert_one_line_error(cli("train", "nope"), "unknown use case 'nope'", settings)


def test_training_before_any_feature_build(cli, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _assert_one_line_error(
        cli("train", "credit_risk"), "no features table for 'credit_risk'", settings
    )


def test_unknown_entity(cli, settings: Settings, loans: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("features", "build", "credit_risk", "--data", str(loans)).code == 0
    assert cli("features", "materialize", "credit_risk").code == 0
    out = cli("features", "get", "credit_risk", "123")
    assert out.code != 0
    assert "id 123 not found" in out.err


def test_unknown_feature_version(cli, settings: Settings, loans: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("features", "build", "credit_risk", "--data", str(loans)).code == 0
    out = cli("features", "materialize", "credit_risk", "--version", "9")
    assert out.code != 0
    assert "has no version 9" in out.err


def test_a_watched_folder_trains_each_new_file_once(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tabship.data.generate import generate
    from tabship.usecase import load_usecase
    from tests.conftest import EXAMPLES

    cards = load_usecase("card_approval", EXAMPLES)
    inbox = tmp_path / "inbox"
    generate(cards, 1257, inbox, seed=3)[0].rename(inbox / "2026-10.parquet")
    args = ("train", "card_approval", "--inbox", str(inbox), "--trials", "2")
    first = cli(*args)
    assert first.code == 0, first.err
    assert "new file 2026-10.parquet" in first.out
    assert "card_approval version 1" in first.out
    assert "registered model" not in first.err  # the summary says it, MLflow does not
    assert "no new file" in cli(*args).out  # rerun: nothing trained twice

    generate(cards, 1500, tmp_path / "n", seed=11)[0].rename(inbox / "2026-11.parquet")
    second = cli(*args)
    assert second.code == 0, second.err
    assert "card_approval version 2" in second.out
    assert "version 3" not in second.out

    bad = pq.read_table(inbox / "2026-11.parquet").drop_columns(["score_4"])
    pq.write_table(bad, inbox / "2026-12.parquet")
    refused = cli(*args)
    assert refused.code == 1
    assert "score_4" in refused.err
    listed = cli("models", "list", "card_approval")
    assert "│ 3 " not in listed.out  # the registry holds versions 1 and 2 only
    assert "│ 2 " in listed.out
