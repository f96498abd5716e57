"""An input's value as a person reads it: declared factor and unit applied, a sensible
number of digits, words for missing values."""

from __future__ import annotations

from typing import Any


def shown(value: Any, said: dict[str, Any]) -> str:
    """``value`` in words: 'missing', a level as it is, or a number with its unit."""
    if value is None:
        return "missing"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    number = float(value) * float(said.get("factor") or 1.0)
    unit = said.get("unit")
    text = _digits(number)
    return f"{text} {unit}" if unit else text


def _digits(number: float) -> str:
    """Whole numbers with thousands separators; others to two decimals, or three
    significant digits below one."""
    if number == int(number) and abs(number) < 1e15:
        return f"{int(number):,}"
    if abs(number) >= 100:
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    return f"{number:.3g}"
