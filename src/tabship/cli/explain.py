"""``tabship explain``: why a client's score is what it is, asked of a running service."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tabship.cli.context import console, get
from tabship.errors import TabshipError

app = typer.Typer()


@app.command("explain")
def explain_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use case whose model explains.")],
    entity_id: Annotated[str, typer.Argument(help="The client's id (the use case's entity).")],
    url: Annotated[str, typer.Option(help="Base URL of the service.")] = "http://127.0.0.1:8000",
    version: Annotated[
        str | None, typer.Option(help="A version number (default: the champion).")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="X-API-Key with the `features` scope, where needed.")
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Inputs shown in the table.")] = 10,
) -> None:
    """Print a client's score, decision, reasons and contributions per input."""
    import httpx

    usecase = get(ctx).usecase(use_case)
    where = f"/versions/{version}" if version else ""
    route = f"{url.rstrip('/')}/v1/models/{use_case}{where}/explain"
    key: Any = int(entity_id) if entity_id.isdigit() else entity_id
    headers = {"x-api-key": api_key} if api_key else None
    try:
        answer = httpx.post(route, json={usecase.entity: key}, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise TabshipError(f"cannot reach {route}: {exc}") from exc
    body = answer.json() if answer.content else {}
    if answer.status_code != 200:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise TabshipError(f"{answer.status_code} {error.get('code')}: {error.get('message')}")
    _print(body, usecase.entity, top)


def _print(body: dict[str, Any], entity: str, top: int) -> None:
    """The explanation as a person reads it: words first, then numbers."""
    score = body["prediction"]
    head = f"{entity} {body[entity]}: score {score:.4f}"
    if "threshold" in body:
        verdict = "at or above" if body["decision"] else "below"
        head += f", {verdict} the threshold {body['threshold']:.4f}"
    console.print(f"[bold]{head}[/bold] (version {body['version']}, {body['explainer']})")
    for reason in body["reasons"]:
        console.print(f"  - {reason}", highlight=False)
    table = Table(title=f"contributions ({body['scale']}; base value {body['base_value']:.4f})")
    table.add_column("input")
    table.add_column("value", justify="right")
    table.add_column("contribution", justify="right")
    for c in body["contributions"][:top]:
        table.add_row(c["input"], str(c["value"]), f"{c['contribution']:+.4f}")
    console.print(table)
