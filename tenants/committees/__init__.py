"""Committees of a PB cycle: seats, applicants, the stratified lottery, meetings and scores."""
