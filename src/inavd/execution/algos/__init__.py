"""Execution algorithms: client-side iceberg, market/limit-on-close."""
