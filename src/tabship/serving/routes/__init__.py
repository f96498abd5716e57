"""The FastAPI routes: thin adapters over serving.http.handlers, and the documented API."""
