"""Monitoring: reference profiles, drift and performance of the versions that serve."""
