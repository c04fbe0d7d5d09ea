"""Carrier tracking (platform ``carrier``): AfterShip-style tracking webhooks, signed with ``aftership-hmac-sha256``."""
