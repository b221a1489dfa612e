"""Execution: the journal, order handling and algorithms."""
