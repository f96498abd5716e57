"""The APIs: features by id, predictions by id or payload from several versions at once, swapped
without downtime."""
