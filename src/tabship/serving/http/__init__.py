"""Serving's HTTP layer: reading requests (``request``), access (``access``), errors and
their one body shape (``errors``), the request handlers shared by every adapter
(``handlers``), the adapters themselves (the ASGI ``fastpath``; the FastAPI routes live in
``serving.routes``), request ids and the last word on failures (``context``), and the
OpenAPI document and docs pages."""
