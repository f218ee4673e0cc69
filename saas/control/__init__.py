"""The control plane: what the ministry runs for every portal, in schema `control` — the tenant
registry, the identity federation, billing and subsidies. Above the PB domain (`tenants/`),
below migrations, provisioning and the entry points (see ARCHITECTURE.md)."""
