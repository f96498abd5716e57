"""Batch scoring: whole tables through the feature view and a published version."""
