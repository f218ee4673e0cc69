"""The tenant registry: which municipalities have a portal, in what state, under what names."""
