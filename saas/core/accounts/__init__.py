"""People and machines that act on the platform: accounts, their roles, API tokens."""
