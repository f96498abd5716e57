"""The officers' dashboard, a Streamlit script (``tabship dashboard`` runs it): pick a
client, read the decision and its reasons in words, compare the client with people like
them. Everything comes from the API; no client table ever reaches the browser."""

from __future__ import annotations

from typing import Any

import streamlit as st

from tabship.dashboard import charts, words
from tabship.dashboard.api import Api, Unavailable
from tabship.settings import Settings

NEAREST = "Clients scored for similar reasons"


def _note(text: str) -> None:
    """A side note, in italics: Streamlit's captions are too faint to read (WCAG AA)."""
    st.markdown(f"*{text}*")


def _signed_in(settings: Settings) -> bool:
    """Whether the officer may see clients: always, unless sign-in is required
    (``TABSHIP_DASHBOARD_LOGIN``); then only once the OIDC provider has said who they are."""
    if not settings.dashboard_login or st.user.get("is_logged_in", False):
        return True
    st.markdown("Client records are personal data: sign in to see them.")
    if _provider_configured():
        st.button("Sign in", on_click=st.login, type="primary")
    else:
        st.error(
            "Sign-in is required (TABSHIP_DASHBOARD_LOGIN) but no provider is configured: "
            "add an [auth] section to .streamlit/secrets.toml.",
            icon=":material/error:",
        )
    return False


def _provider_configured() -> bool:
    """Whether Streamlit's secrets hold an ``[auth]`` section (its OIDC provider)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def _api(settings: Settings) -> Api:
    """The API the settings name (``TABSHIP_DASHBOARD_API_URL`` and ``..._KEY``)."""
    key = settings.dashboard_api_key
    return Api(
        settings.dashboard_api_url,
        None if key is None else key.get_secret_value(),
        settings.dashboard_timeout,
    )


@st.cache_data(ttl=60, show_spinner=False)
def _models(url: str, key: str | None) -> list[dict[str, Any]]:
    """The served models (cached a minute: switching client needs no new list)."""
    return Api(url, key).models()


@st.cache_data(ttl=10, show_spinner=False)
def _model(url: str, key: str | None, name: str) -> dict[str, Any]:
    """One model's versions (cached ten seconds; a swap shows within that)."""
    return Api(url, key).model(name)


@st.cache_data(ttl=60, show_spinner=False)
def _sample(url: str, key: str | None, name: str) -> list[str]:
    """Known clients' ids (cached a minute: the list changes with the version only)."""
    return Api(url, key).sample(name, 100)


def _version(info: dict[str, Any], number: str) -> dict[str, Any]:
    """The record of the version that answered (its threshold, comparisons, lineage)."""
    found = [v for v in info.get("versions") or [] if str(v.get("version")) == str(number)]
    return dict(found[0]) if found else {}


def _pick_model(api: Api) -> str | None:
    """The model to read, from the sidebar (classification models only)."""
    names = [m["name"] for m in _models(api.url, api.key)]
    if not names:
        st.warning("No model is served yet: once one is approved, its clients appear here.")
        return None
    return str(st.sidebar.selectbox("Model", names, key="model"))


def _pick_client(api: Api, name: str) -> str | None:
    """A client id: typed, or picked from known clients."""
    try:
        known = _sample(api.url, api.key, name)
    except Unavailable as exc:
        st.sidebar.info(f"No list of clients to pick from: {exc}")
        known = []
    # whichever the officer used last decides: typing clears the pick, picking the typing
    typed = st.sidebar.text_input(
        "Client id",
        key="typed",
        help="Type an id, then Enter.",
        on_change=_forget,
        args=("client",),
    )
    picked = st.sidebar.selectbox(
        "Or pick a known client",
        known,
        index=None,
        key="client",
        placeholder="Choose an id",
        on_change=_forget,
        args=("typed",),
    )
    chosen = typed.strip() or picked
    return None if not chosen else str(chosen)


def _forget(widget: str) -> None:
    """Clear the other way of choosing a client."""
    st.session_state[widget] = "" if widget == "typed" else None


def _decision(why: dict[str, Any], entity: str) -> None:
    """The decision in words first, then the score on the gauge, then who decided."""
    said = words.headline(why, entity)
    if why.get("decision") == 1:
        st.error(f"**{said}**", icon=":material/block:")
    else:
        st.success(f"**{said}**", icon=":material/check_circle:")
    sentence = words.score_sentence(why)
    st.markdown(sentence)
    if why.get("threshold") is not None:
        st.vega_lite_chart(spec=charts.gauge(why), width="stretch", alt=sentence)
    _note(words.version_sentence(why))


def _decision_only(api: Api, name: str, entity: str, client: str, why_not: str) -> None:
    """A version without explanations: its decision, and why no reasons are shown."""
    try:
        scored = api.predict(name, entity, client)
    except Unavailable as exc:
        st.error(str(exc), icon=":material/error:")
        return
    _decision(scored, entity)
    st.info(why_not, icon=":material/info:")


def _reasons(why: dict[str, Any]) -> None:
    """The top reasons as sentences, then the contributions chart and its text."""
    st.subheader("Main reasons")
    st.markdown("\n".join(f"{i}. {r}" for i, r in enumerate(why.get("reasons", []), 1)))
    st.subheader("What moved the score")
    lines = [words.contribution_line(c) for c in why["contributions"][:10]]
    said = "Chart, in words: " + "; ".join(lines) + "."
    st.vega_lite_chart(spec=charts.contributions(why), width="stretch", alt=said)
    _note(said)


def _similar(api: Api, name: str, client: str, why: dict[str, Any], ways: dict[str, str]) -> None:
    """The cohort: nearest clients or a declared comparison; aggregates only."""
    labels = {NEAREST: None, **{label: key for key, label in ways.items()}}
    way = st.radio("Compare with", list(labels), key="compare", horizontal=True)
    try:
        alike = api.similar(name, client, 100 if labels[way] is None else 500, labels[way])
    except Unavailable as exc:
        st.info(str(exc))
        return
    st.markdown(words.cohort_sentence(alike, str(why.get("outcome_label", "were positive"))))
    scores = alike.get("scores", {})
    if scores:
        st.markdown(
            f"Their scores: half of them between {words.percent(scores['p25'])} and "
            f"{words.percent(scores['p75'])}; this client: {words.percent(why['prediction'])}."
        )
    for standing in alike.get("inputs", []):
        s = words.scaled(standing)
        said = words.standing_sentence(s)
        st.markdown(said)
        chart = charts.standing(s, str(s.get("label", s["input"])))
        if chart is not None:
            st.vega_lite_chart(spec=chart, width="stretch", alt=said)


def _importance(api: Api, name: str, why: dict[str, Any]) -> None:
    """What moves the scores over all clients (held out at training)."""
    try:
        found = api.importance(name)
    except Unavailable as exc:
        st.info(str(exc))
        return
    labels = {c["input"]: str(c.get("label", c["input"])) for c in why["contributions"]}
    ranked = found.get("importance", [])
    st.markdown(
        "How much each input moves the scores, on average over clients the model never "
        "trained on (larger: more weight in decisions)."
    )
    said = "In order: " + ", ".join(labels.get(r["input"], r["input"]) for r in ranked[:15])
    st.vega_lite_chart(spec=charts.importance(ranked, labels), width="stretch", alt=said)
    _note(said)


def _technical(why: dict[str, Any], version: dict[str, Any]) -> None:
    """The raw answer, the version's record and lineage, folded away."""
    with st.expander("Technical details"):
        st.markdown(f"Explainer: {why.get('explainer')}; runtime: {why.get('runtime')}.")
        st.json({"explanation": why, "version": version}, expanded=False)


def main() -> None:
    """One page: pick a client, the decision, the reasons, people like them."""
    st.set_page_config(
        page_title="Decisions and their reasons", page_icon=":material/balance:", layout="wide"
    )
    st.title("Decisions and their reasons")
    settings = Settings()
    if not _signed_in(settings):
        return
    api = _api(settings)
    try:
        name = _pick_model(api)
        if name is None:
            return
        info = _model(api.url, api.key, name)
    except Unavailable as exc:
        st.error(str(exc), icon=":material/error:")
        return
    entity = str(info.get("entity", "id"))
    client = _pick_client(api, name)
    if client is None:
        st.info("Pick a client in the sidebar, or type an id.")
        return
    try:
        why = api.explain(name, entity, client)
    except Unavailable as exc:
        if exc.code == "no_explainer":
            _decision_only(api, name, entity, client, str(exc))
        else:
            st.error(str(exc), icon=":material/error:")
        return
    _decision(why, entity)
    version = _version(info, str(why.get("version")))
    reasons, alike, overall = st.tabs(
        ["Why this decision", "People like this client", "What matters overall"]
    )
    with reasons:
        _reasons(why)
    with alike:
        _similar(api, name, client, why, dict(version.get("comparisons") or {}))
    with overall:
        _importance(api, name, why)
    _technical(why, version)


main()
