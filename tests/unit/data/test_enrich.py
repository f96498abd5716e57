"""Reference data (enrich): read as declared, or refused with the file and the reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tabship.data.enrich import read_reference
from tabship.errors import SourceError
from tabship.usecase import EnrichSpec

SPEC = EnrichSpec(name="demographics", file="zips.csv", key="zipcode", columns=["income", "people"])


def _write(folder: Path, text: str) -> Path:
    (folder / "zips.csv").write_text(text)
    return folder


def test_keys_are_text_and_values_numbers(tmp_path: Path) -> None:
    ref = read_reference(
        SPEC, _write(tmp_path, "zipcode,income,people,extra\n01234,5,6,x\n98001,7,,y\n")
    )
    shipped = ref.as_json()
    assert shipped["rows"] == {"01234": [5.0, 6.0], "98001": [7.0, None]}  # leading zero kept
    assert shipped["columns"] == ["income", "people"]
    assert len(str(shipped["version"])) == 16


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("zipcode,income\n1,2\n", "missing column(s): people"),
        ("zipcode,income,people\n1,2,3\n1,4,5\n", "zipcode repeats"),
        ("zipcode,income,people\n1,rich,3\n", "'income' is not numeric"),
        ("zipcode,income,people\n,2,3\n", "without a zipcode"),
    ],
)
def test_a_bad_reference_file_is_refused_with_the_reason(
    tmp_path: Path, text: str, words: str
) -> None:
    with pytest.raises(SourceError, match=re.escape(words)):
        read_reference(SPEC, _write(tmp_path, text))


def test_a_missing_reference_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no such file .*zips\.csv"):
        read_reference(SPEC, tmp_path)
