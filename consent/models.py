"""Consent policy versions and the append-only consent ledger (public schema); see issue 5."""
