"""Scheduled work: daily lesson nudges, team digests, report reminders, and the lease
that lets exactly one process run them (see `scheduler.py`)."""
