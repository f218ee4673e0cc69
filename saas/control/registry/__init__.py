"""The tenant registry: which municipalities have a portal, in what state, under what names
(the rows and their lookups; the API and the actions that change them are in provisioning)."""
