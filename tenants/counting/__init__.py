"""Counting participatory-budgeting votes: pabulib files in, outcomes with reasons out.

Pure Python and standard library only (no Flask, no database), so that anyone can recount a
result and so that the rules can be tested and benchmarked alone.
"""
