"""A failed registry sync is named in one line, without the tracking URI's password."""

from __future__ import annotations

from tabship.serving.models.sync import describe_failure


def test_a_sync_failure_is_one_line_without_credentials() -> None:
    exc = ConnectionError(
        "could not connect to postgresql+psycopg://mlflow:s3cr3t@db:5432/mlflow\nretrying"
    )
    why = describe_failure(exc)
    assert (
        why
        == "ConnectionError: could not connect to postgresql+psycopg://mlflow:***@db:5432/mlflow"
    )
    assert describe_failure(TimeoutError()) == "TimeoutError"
