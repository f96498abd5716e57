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
            parts = line.strip("|").split("|")
            cells = "".join(f"<td>{html.escape(c.strip())}</td>" for c in parts)
            body.append(f"<tr>{cells}</tr>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line:
            body.append(f"<p>{html.escape(line)}</p>")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "td{padding:2px 8px;border-bottom:1px solid #ddd}</style></head>"
        f"<body>{_tables(body)}</body></html>"
    )


def _tables(body: list[str]) -> str:
    """Wrap each run of table rows in its own table."""
    out, inside = [], False
    for line in body:
        if line.startswith("<tr>") and not inside:
            out.append("<table>")
            inside = True
        elif not line.startswith("<tr>") and inside:
            out.append("</table>")
            inside = False
        out.append(line)
    return "\n".join([*out, "</table>" if inside else ""])
