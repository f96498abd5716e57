"""The model registry (MLflow's): versions, aliases, gates, approvals and its vocabulary."""
