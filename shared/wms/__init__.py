"""The warehouse / 3PL. Ports here, adapters beside."""
