"""Meetings: the signaling hub (hub.py), the records a call leaves (records.py), ICE config (ice.py)."""
