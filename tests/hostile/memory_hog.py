"""Allocates and touches memory without bound. Contained: the memory limit stops it (MemoryError under an
address-space limit, the OOM killer under a cgroup limit); the harness is untouched."""
blocks = []
while True:
    blocks.append(b"\x01" * (16 << 20))  # written bytes: pages really used, not lazily zero-mapped
