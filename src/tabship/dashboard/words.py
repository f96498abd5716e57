"""The API's answers in sentences, words before numbers: what an officer reads aloud."""

from __future__ import annotations

from typing import Any


def percent(p: float) -> str:
    """A probability as a percentage a person reads (one decimal)."""
    return f"{100 * p:.1f}%"


def decision(why: dict[str, Any]) -> str:
    """The decision in words: 'refused' / 'accepted' (as declared), else where the score
    falls."""
    if why.get("decision_label"):
        return str(why["decision_label"])
    return "at or above the threshold" if why.get("decision") else "below the threshold"


def headline(why: dict[str, Any], entity: str) -> str:
    """'Client 100002: accepted.'"""
    return f"Client {why.get(entity, '')}: {decision(why)}."


def score_sentence(why: dict[str, Any]) -> str:
    """The score against the threshold, and whether it is close to it."""
    label = why.get("score_label", "score")
    score = float(why["prediction"])
    if why.get("threshold") is None:
        return f"Estimated {label}: {percent(score)}."
    threshold = float(why["threshold"])
    side = "above" if score >= threshold else "below"
    said = (
        f"Estimated {label}: {percent(score)}, {100 * abs(score - threshold):.1f} percentage "
        f"points {side} the threshold of {percent(threshold)}."
    )
    if why.get("close_to_threshold"):
        band = percent(float(why.get("boundary", 0)))
        said += f" This is close to the boundary (within {band}): a borderline case."
    return said


def version_sentence(why: dict[str, Any]) -> str:
    """Which model version decided."""
    alias = f" ({why['alias']})" if why.get("alias") else ""
    return f"Decided by model {why.get('model')}, version {why.get('version')}{alias}."


def contribution_line(c: dict[str, Any]) -> str:
    """'Age (50.8 years): raises the risk, +0.12' — direction in words, not colour alone."""
    way = "raises" if c["contribution"] > 0 else "lowers"
    shown = c.get("shown", c.get("value"))
    return f"{c.get('label', c['input'])} ({shown}): {way} the score, {c['contribution']:+.3f}"


def cohort_sentence(alike: dict[str, Any], outcome: str) -> str:
    """How many clients are alike, and how many of them had the outcome."""
    n, space = alike["cohort_size"], str(alike["space"])
    said = (
        f"The {n} clients most like this one (scored for similar reasons)"
        if space.startswith("contributions")
        else f"{n} clients: {space.lower()}"
    )
    rate = alike.get("observed_rate")
    if rate is None:
        return said + "."
    return f"{said}. {percent(float(rate))} of them {outcome}."


def scaled(s: dict[str, Any]) -> dict[str, Any]:
    """One input's standing in the units people read (the declared factor applied: a
    negative factor, such as days before today → years, turns the order round)."""
    factor = float((s.get("display") or {}).get("factor") or 1.0)
    out = dict(s)
    q = s.get("cohort_quantiles")
    if q:
        moved = {k: v * factor for k, v in q.items()}
        if factor < 0:
            moved = dict(zip(list(moved), list(moved.values())[::-1], strict=True))
        out["cohort_quantiles"] = moved
    if isinstance(s.get("value"), int | float) and not isinstance(s.get("value"), bool):
        out["value"] = float(s["value"]) * factor
    if s.get("percentile") is not None and factor < 0:
        out["percentile"] = 100 - float(s["percentile"])
    if s.get("cohort_median") is not None:
        out["cohort_median"] = float(s["cohort_median"]) * factor
    return out


def standing_sentence(s: dict[str, Any]) -> str:
    """Where the client stands on one input within the cohort (``s`` already ``scaled``)."""
    label, shown = s.get("label", s["input"]), s.get("shown", s.get("value"))
    if "same_level_share" in s:
        return f"{label}: {shown}. {percent(s['same_level_share'])} of them share it."
    if s.get("percentile") is None:
        return f"{label}: {shown}. No comparison: the value is missing."
    unit = (s.get("display") or {}).get("unit") or ""
    middle = f"{s['cohort_median']:,.3g} {unit}".strip()
    above = f"higher than {s['percentile']:.0f}% of them"
    return f"{label}: {shown}, {above} (their middle value: {middle})."
