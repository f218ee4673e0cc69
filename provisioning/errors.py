"""What a provisioning request can be refused for: refusals of the platform core
(`saas.core.refusals`), answered by the API and the command line where all refusals are."""

from saas.core.refusals import Conflict, Invalid, NotFound


class ProvisioningRefused(Invalid):
    """The request is invalid (unknown region, template, bad slug): a 422. `field` names the
    input at fault (`slug`, `region`, `template`, `domains`), when one is."""


class TenantConflict(Conflict):
    """The request conflicts with an existing tenant or domain, or a tenant's state: a 409."""


class TenantNotFound(NotFound):
    fragment = True
