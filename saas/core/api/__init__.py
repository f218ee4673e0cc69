"""API conventions shared by the control plane and the tenant API."""
