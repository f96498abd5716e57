"""The officers' dashboard: one client at a time, the decision, its reasons in words, and
how the client compares with similar clients. A Streamlit app that reads the API over
HTTP only (``tabship dashboard``; the ``[dashboard]`` extra)."""
