"""A generic kit for a long-running async service: `logs` (structured logging with bound
context) and `jobs` (the supervised per-key job queue).

Layer rule: imports only the standard library and prometheus_client; nothing of bot. Nothing here
knows about GitHub, landscapes or OCM, so it can be tested and reasoned about on its own.
"""
