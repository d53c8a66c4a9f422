"""Partner organizations, agreements and billing (public schema)."""
