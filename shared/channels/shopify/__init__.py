"""Shopify: HMAC-signed webhooks (``X-Shopify-Hmac-Sha256``) carrying the REST order resource."""
