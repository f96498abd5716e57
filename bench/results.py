"""Write one benchmark's section of docs/benchmarks.md, leaving the others as they are."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(section: str, lines: list[str]) -> Path:
    """Replace the section headed ``section`` (or append it) with ``lines``."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    body = "\n".join([section, *lines])
    if section in text:
        head, _, rest = text.partition(section)
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        text = head + body + ("\n" + tail if tail else "")
    else:
        text = text.rstrip() + "\n\n" + body
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)
    return DOC
