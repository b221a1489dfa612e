"""Position sizing: fractional Kelly and volatility targeting."""
