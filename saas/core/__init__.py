"""The platform core: settings, the clock, the database and tenant binding, request resolution,
principals and roles, the audit trail, and the conventions of the API. It imports nothing of the
layers above (see ARCHITECTURE.md)."""
