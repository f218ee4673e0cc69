"""What a provisioning request can be refused for (mapped to 4xx by the API and the CLI)."""


class ProvisioningRefused(Exception):
    """The request is invalid (unknown region, template, bad slug): a 422. `field` names the
    input at fault (`slug`, `region`, `template`, `domains`), when one is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TenantConflict(Exception):
    """The request conflicts with an existing tenant or domain, or a tenant's state: a 409."""


class TenantNotFound(LookupError):
    pass
