"""The dashboard's charts, as Vega-Lite specifications (Streamlit draws them). Plain
dictionaries: building them costs microseconds, where Altair's objects and their schema
validation cost about 0.1 s per chart and rerun (measured). Every chart labels what it
shows in text on the chart itself: nothing is told by colour alone."""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]
RAISES, LOWERS = "raises the score", "lowers the score"
# Colour-blind-safe pair (Okabe-Ito vermillion and blue); the words say the same.
COLOURS = {"domain": [RAISES, LOWERS], "range": ["#D55E00", "#0072B2"]}
GREY = "#EEEEEE"


def _layer(values: list[dict[str, Any]], mark: Any, encoding: Spec) -> Spec:
    return {"data": {"values": values}, "mark": mark, "encoding": encoding}


def gauge(why: dict[str, Any]) -> Spec:
    """The score on a bar, the threshold as a line, the 'close to the boundary' band."""
    score, threshold = float(why["prediction"]), float(why["threshold"])
    band = float(why.get("boundary", 0.0))
    top = min(1.0, max(3 * threshold, 1.25 * score, threshold + 2 * band, 0.05))
    x = {"field": "x", "type": "quantitative", "scale": {"domain": [0, top]},
         "axis": {"format": "%", "title": None}}  # fmt: skip
    x2 = {"field": "x2"}
    close = [{"x": max(0.0, threshold - band), "x2": min(top, threshold + band)}]
    return {
        "height": 110,
        "padding": {"top": 24, "bottom": 8, "left": 40, "right": 40},
        "layer": [
            _layer([{"x": 0.0, "x2": top}], {"type": "bar", "color": GREY, "height": 28},
                   {"x": x, "x2": x2}),
            _layer(close, {"type": "bar", "color": "#BBBBBB", "height": 28}, {"x": x, "x2": x2}),
            _layer([{"x": threshold}], {"type": "rule", "color": "black", "strokeWidth": 3},
                   {"x": x}),
            _layer([{"x": score}], {"type": "point", "shape": "triangle-down", "size": 260,
                                    "filled": True, "color": "black"}, {"x": x}),
            _layer([{"x": threshold, "t": f"threshold {threshold:.1%}"}],
                   {"type": "text", "dy": -26, "fontSize": 13},
                   {"x": x, "text": {"field": "t"}}),
            _layer([{"x": score, "t": f"this client {score:.1%}"}],
                   {"type": "text", "dy": 26, "fontSize": 13},
                   {"x": x, "text": {"field": "t"}}),
        ],
    }  # fmt: skip


def contributions(why: dict[str, Any], top: int = 10) -> Spec:
    """The inputs that moved the score most: signed bars, the way in words beside each."""
    rows = [
        {
            "input": f"{c.get('label', c['input'])} ({c.get('shown', c.get('value'))})",
            "contribution": float(c["contribution"]),
            "way": RAISES if c["contribution"] > 0 else LOWERS,
            "text": f"{c['contribution']:+.3f}",
        }
        for c in why["contributions"][:top]
    ]
    y = {"field": "input", "type": "nominal", "sort": [r["input"] for r in rows],
         "title": None, "axis": {"labelLimit": 320}}  # fmt: skip
    x = {"field": "contribution", "type": "quantitative",
         "title": f"contribution ({why.get('scale', '')})"}  # fmt: skip
    colour = {"field": "way", "type": "nominal", "scale": COLOURS,
              "legend": {"title": None, "orient": "top"}}  # fmt: skip
    return {
        "data": {"values": rows},
        "height": {"step": 30},
        "layer": [
            {"mark": "bar", "encoding": {"y": y, "x": x, "color": colour,
                                         "tooltip": [{"field": "way"}, {"field": "text"}]}},
            {"mark": {"type": "text", "align": "left", "dx": 4},
             "encoding": {"y": y, "x": x, "text": {"field": "text"}}},
        ],
    }  # fmt: skip


def standing(s: dict[str, Any], label: str) -> Spec | None:
    """The cohort's spread of one number (5th to 95th, the middle half, the median) with
    the client marked; None for text inputs or a missing value."""
    q = s.get("cohort_quantiles")
    if not q or s.get("value") is None or isinstance(s["value"], str):
        return None
    x = {"field": "p5", "type": "quantitative", "title": None, "scale": {"zero": False}}
    me = [{"x": float(s["value"]), "t": "this client"}]
    mx = {"field": "x", "type": "quantitative"}
    return {
        "description": f"{label}: the spread among similar clients, this client marked",
        "height": 90,  # plot, labels and axis together (autosize contains the padding)
        "autosize": {"type": "fit-x", "contains": "padding"},
        "padding": {"top": 18, "bottom": 4, "left": 5, "right": 5},
        "data": {"values": [q]},
        "layer": [
            {"mark": "rule", "encoding": {"x": x, "x2": {"field": "p95"}}},
            {"mark": {"type": "bar", "color": "#BBBBBB", "height": 18},
             "encoding": {"x": {"field": "p25", "type": "quantitative"}, "x2": {"field": "p75"}}},
            {"mark": {"type": "tick", "color": "black", "thickness": 2, "size": 18},
             "encoding": {"x": {"field": "p50", "type": "quantitative"}}},
            _layer(me, {"type": "point", "shape": "diamond", "size": 160, "filled": True,
                        "color": "black"}, {"x": mx}),
            _layer(me, {"type": "text", "dy": -16}, {"x": mx, "text": {"field": "t"}}),
        ],
    }  # fmt: skip


def importance(ranked: list[dict[str, Any]], labels: dict[str, str], top: int = 15) -> Spec:
    """Mean absolute contribution per input over held-out clients, largest first."""
    rows = [
        {"input": labels.get(r["input"], r["input"]), "importance": r["importance"]}
        for r in ranked[:top]
    ]
    return {
        "data": {"values": rows},
        "height": {"step": 26},
        "mark": {"type": "bar", "color": "#0072B2"},
        "encoding": {
            "y": {"field": "input", "type": "nominal", "sort": [r["input"] for r in rows],
                  "title": None, "axis": {"labelLimit": 320}},
            "x": {"field": "importance", "type": "quantitative",
                  "title": "mean size of its contribution"},
            "tooltip": [{"field": "input"}, {"field": "importance"}],
        },
    }  # fmt: skip
