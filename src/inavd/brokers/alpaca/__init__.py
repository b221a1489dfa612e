"""Alpaca trading adapter: REST via alpaca-py's TradingClient, fills via the trade_updates stream.

Modules: `errors` (APIError → our error kinds), `mapping` (REST/stream JSON → domain types),
`broker` (the Broker implementation), `stream` (trade_updates with authorisation callbacks).
Every REST request goes through the shared `inavd.execution.ratelimit.RateLimiter`.
"""
