"""OCM content and the renderer over a real registry and real git."""
