"""Broker adapters behind one protocol: the in-process paper venue and Alpaca."""
