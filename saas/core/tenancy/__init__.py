"""Tenancy: binding a unit of work to one tenant schema (`binding`, the only module that does),
resolving a request to its tenant at the edge (`web`, `context`), and slugs (`slugs`)."""
