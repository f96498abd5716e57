"""Drift of a logged window against the version's profile: flagged on exactly the inputs
that moved, silent on traffic like training's, robust to a killed writer's last line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tabship.monitoring.drift import MonitorError, measure
from tabship.monitoring.logread import LogScan, Window, compact
from tabship.monitoring.profile import Profile
from tabship.usecase.monitoring import MonitoringSpec
from tests.unit.monitoring.conftest import LogWriter, rows


def _measure(folder: Path, profile: Profile, **kw: object) -> object:
    return measure(duckdb.connect(), LogScan(folder), "m", {"1": profile}, MonitoringSpec(), **kw)


def test_traffic_like_trainings_passes(profile: Profile, write_log: LogWriter) -> None:
    result = _measure(write_log(rows(3000, 2)), profile)
    (version,) = result.versions
    assert version.rows == 3000
    assert not result.crossed
    assert all(d.band == "stable" for d in [version.score, *version.inputs])


def test_a_shifted_input_and_a_new_level_are_flagged_and_nothing_else(
    profile: Profile, write_log: LogWriter
) -> None:
    result = _measure(write_log(rows(3000, 3, shift=0.6, new_level=0.05)), profile)
    assert result.crossed
    (version,) = result.versions
    assert {d.name for d in version.failed} == {"amount", "kind"}
    kind = next(d for d in version.inputs if d.name == "kind")
    assert set(kind.unseen) == {"crypto"}
    assert kind.unseen_share == pytest.approx(0.05, abs=0.015)
    amount = next(d for d in version.inputs if d.name == "amount")
    assert amount.band == "act"


def test_a_truncated_last_line_is_skipped_and_counted(
    profile: Profile, write_log: LogWriter
) -> None:
    folder = write_log(rows(1000, 4))
    path = folder / "2026-11-30.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"request_id": "cut", "time": "2026-11-30T10:00:00+00:00", "fea')
    result = _measure(folder, profile)
    assert result.skipped_lines == 1
    assert result.versions[0].rows == 1000


def test_a_version_without_a_profile_is_a_clear_error(
    profile: Profile, write_log: LogWriter
) -> None:
    folder = write_log(rows(600, 5), version="2")
    with pytest.raises(MonitorError, match="version 2 has no reference profile"):
        measure(duckdb.connect(), LogScan(folder), "m", {"2": None}, MonitoringSpec(), ["2"])
    with pytest.raises(MonitorError, match="no logged version of m has a reference profile"):
        measure(duckdb.connect(), LogScan(folder), "m", {"2": None}, MonitoringSpec())


def test_too_little_traffic_gives_no_verdict(profile: Profile, write_log: LogWriter) -> None:
    result = _measure(write_log(rows(100, 6, shift=1.0)), profile)
    assert not result.versions[0].enough
    assert not result.crossed


def test_compacted_days_read_as_their_lines_did(profile: Profile, write_log: LogWriter) -> None:
    folder = write_log(rows(800, 10, shift=0.5), day="2026-11-29")
    write_log(rows(700, 11), day="2026-11-30")
    with (folder / "2026-11-29.jsonl").open("ab") as handle:
        handle.write(b'{"request_id": "cut", "ti')
    before = _measure(folder, profile)
    con = duckdb.connect()
    done = compact(con, folder, dt.date(2026, 11, 30))
    assert [(c.day, c.rows, c.skipped) for c in done] == [("2026-11-29", 800, 1)]
    assert sorted(p.name for p in folder.iterdir()) == ["2026-11-29.parquet", "2026-11-30.jsonl"]
    after = _measure(folder, profile)
    assert after.versions[0].rows == 1500
    for old, new in zip(before.versions[0].inputs, after.versions[0].inputs, strict=True):
        assert new.psi == pytest.approx(old.psi, abs=1e-12)
    day = LogScan(folder, Window(dt.datetime(2026, 11, 30, tzinfo=dt.UTC)))
    only = measure(duckdb.connect(), day, "m", {"1": profile}, MonitoringSpec())
    assert only.versions[0].rows == 700


def test_a_day_written_by_several_replicas_is_read_and_compacted_whole(
    profile: Profile, write_log: LogWriter
) -> None:
    folder = write_log(rows(500, 12, shift=0.5), day="2026-11-29", writer="pod-a")
    write_log(rows(400, 13, shift=0.5), version="1", day="2026-11-29", writer="pod-b")
    write_log(rows(300, 14), day="2026-11-30", writer="pod-a")
    before = _measure(folder, profile)
    assert before.versions[0].rows == 1200
    done = compact(duckdb.connect(), folder, dt.date(2026, 11, 30))
    assert [(c.day, c.rows) for c in done] == [("2026-11-29", 900)]
    assert sorted(p.name for p in folder.iterdir()) == [
        "2026-11-29.parquet",
        "2026-11-30.pod-a.jsonl",
    ]
    after = _measure(folder, profile)
    assert after.versions[0].rows == 1200
    for old, new in zip(before.versions[0].inputs, after.versions[0].inputs, strict=True):
        assert new.psi == pytest.approx(old.psi, abs=1e-12)


def test_lines_left_beside_a_compacted_day_are_removed_not_compacted_again(
    profile: Profile, write_log: LogWriter
) -> None:
    folder = write_log(rows(500, 15), day="2026-11-29", writer="pod-a")
    write_log(rows(400, 16), day="2026-11-29", writer="pod-b")
    leftover = (folder / "2026-11-29.pod-b.jsonl").read_bytes()
    compact(duckdb.connect(), folder, dt.date(2026, 11, 30))
    (folder / "2026-11-29.pod-b.jsonl").write_bytes(leftover)  # killed before removing it
    assert compact(duckdb.connect(), folder, dt.date(2026, 11, 30)) == []
    assert [p.name for p in folder.iterdir()] == ["2026-11-29.parquet"]
    assert _measure(folder, profile).versions[0].rows == 900
