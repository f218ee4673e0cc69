"""The tenant registry: which municipalities have a portal, in what state, under which names
and domains. Part of the core because resolving a request needs it (saas.core.tenancy); the
API and the actions that change it are provisioning's."""
