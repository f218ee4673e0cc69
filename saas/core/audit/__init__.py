"""The audit trail: an append-only, hash-chained record of every action that matters."""
