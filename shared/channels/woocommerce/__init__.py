"""WooCommerce: ``order.*`` webhooks signed with ``X-WC-Webhook-Signature``, carrying the REST v3 order."""
