"""Real local HTTP servers standing in for the outside world: channels, the ERP and the WMS.

Each follows the real API's request and response shapes for the subset Crossdock uses, keeps state with an
inspection endpoint, has fault knobs, and (where the platform has webhooks) sends signed deliveries.
"""
