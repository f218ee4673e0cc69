"""Development-only parts: the development identity provider, the fake Stripe server, the
embedded PostgreSQL and Redis, and the demo data. `chamyeo up` and the tests use them; no
production code path imports this package (an import-linter contract and
`tests/foundation/test_production_default.py` check it)."""
