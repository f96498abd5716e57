"""Reports as HTML pages: the Markdown a report writes (headings, lists, tables, images)
turned into one self-contained page, with no converter to install."""

from __future__ import annotations

import html


def page(text: str, title: str) -> str:
    """A report's Markdown (headings, lists, tables, images) as one HTML page."""
    body = []
    for line in text.splitlines():
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("!["):
            alt, src = line[2:].split("](", 1)
            body.append(f'<img alt="{html.escape(alt)}" src="{html.escape(src.rstrip(")"))}">')
        elif line.startswith("| ---"):
            continue
        elif line.startswith("|"):
            # A table's first row is its header (Markdown's rule).
            cell = "td" if body and body[-1].startswith("<tr>") else "th"
            parts = line.strip("|").split("|")
            cells = "".join(f"<{cell}>{html.escape(c.strip())}</{cell}>" for c in parts)
            body.append(f"<tr>{cells}</tr>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line:
            body.append(f"<p>{html.escape(line)}</p>")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}</style></head>"
        + "<body>"
        + "\n".join(_wrapped(_wrapped(body, "<tr>", "table"), "<li>", "ul"))
        + "</body></html>"
    )


def _wrapped(body: list[str], item: str, tag: str) -> list[str]:
    """Wrap each run of ``item`` lines (table rows, list items) in one ``tag``."""
    out, inside = [], False
    for line in body:
        if line.startswith(item) != inside:
            out.append(f"<{tag}>" if not inside else f"</{tag}>")
            inside = not inside
        out.append(line)
    return [*out, f"</{tag}>"] if inside else out
