"""Channel adapters: one package per platform, registered by name in ``registry``."""
