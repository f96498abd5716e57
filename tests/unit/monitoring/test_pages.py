"""A report's Markdown becomes a well-formed HTML page: lists in a list, tables with a
header row, text escaped."""

from __future__ import annotations

from html.parser import HTMLParser

from tabship.monitoring.pages import page

TEXT = """# Drift of <m>

- version 1: stable
- version 2: drift

| input | PSI |
| --- | ---: |
| age | 0.31 |
| income | 0.02 |

![PSI](psi-v1.png)
"""


class Nesting(HTMLParser):
    """Records each element with its parent, and fails on a closing tag that does not match."""

    VOID = frozenset({"img", "meta"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, self.open[-1] if self.open else ""))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag


def test_a_report_page_nests_lists_and_tables_and_escapes_text() -> None:
    html = page(TEXT, "Drift of <m>")
    parsed = Nesting()
    parsed.feed(html)
    assert parsed.open == []
    assert ("li", "ul") in parsed.seen
    assert [t for t, p in parsed.seen if p == "tr"] == ["th", "th", "td", "td", "td", "td"]
    assert ("img", "body") in parsed.seen
    assert "Drift of &lt;m&gt;" in html
