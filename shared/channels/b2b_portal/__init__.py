"""A B2B portal or inside-sales tool: our documented order payload, signed with Standard Webhooks."""
