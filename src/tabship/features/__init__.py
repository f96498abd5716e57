"""Feature computation: portable definitions (Ibis) run by an engine (DuckDB or Spark), point in
time."""
