"""Fills the disk from its working directory: file after file, each up to the file-size limit, until the disk is full
or the run is killed. Contained: bounded by the per-file limit and the time budget; everything goes with the sandbox."""
chunk = b"z" * (1 << 20)
index = 0
while True:
    try:
        with open(f"fill-{index}.bin", "wb") as handle:
            while True:
                handle.write(chunk)
    except OSError:  # EFBIG at the file-size limit (Python ignores SIGXFSZ), ENOSPC when the volume is full
        pass
    index += 1
