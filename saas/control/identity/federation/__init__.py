"""Administration of the federation: which identity providers the hub trusts.

The ministry registers the national IdP and approves municipalities' IdPs; a municipality's
admin registers its own (pending until approved), maps its role claims and tests it. Named
"federation" because it manages the set of IdPs, not any one sign-in: `services` (the
actions), `api` and `schemas` (the JSON API), `probe_limit` (how often an IdP may be tested).
"""
