"""``make chaos``: the journeys on the local stack with faults injected everywhere, then a Jepsen-style check."""
