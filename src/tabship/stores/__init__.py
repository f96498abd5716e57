"""Feature stores: versioned offline tables (Delta Lake) and the online store (SQLite or Redis)."""
