"""MQTT side channel: event stream, retained iNAV and status, optional signed control."""
