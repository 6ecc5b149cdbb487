"""Spins on one CPU forever. Contained: killed at the wall-clock timeout, nothing left running."""
while True:
    pass
