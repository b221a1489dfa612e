"""Signals: turn iNAV and quote state into intents."""
