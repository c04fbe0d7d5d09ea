"""Crossdock's domain and adapters, shared by every function. Never imports ``functions``."""
