"""BigCommerce: thin ``store/order/*`` webhooks signed with Standard Webhooks; the order is fetched (claim check)."""
