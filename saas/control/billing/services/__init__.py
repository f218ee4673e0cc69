"""Billing services: each write is a named action that owns its transaction."""
