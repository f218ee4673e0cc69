"""Database schema management: both migration tracks, the tenant head, drift checks."""
