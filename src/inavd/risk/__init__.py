"""Risk gates and the trading state (the kill switch)."""
