"""Fills the shared scratch places (/tmp, /var/tmp, /dev/shm) rather than its own directory, file after file (each
below the file-size limit), until refused. Memory-backed (tmpfs) scratch space is memory the sandbox's memory limit
does not count, so it needs a bound of its own (the docker sandbox's /tmp: 64 MiB). A safety cap of 256 MiB a place
keeps a broken sandbox from hurting this machine; progress is printed as it goes ("FILLED <place> <MiB> MiB").
Contained: every place refuses (not writable) or stops at a small bound, and all of it is gone after the run."""
import os
import sys
import time

marker = sys.argv[1]
chunk = b"t" * (1 << 20)
for place in ("/tmp", "/var/tmp", "/dev/shm"):
    written, started, error = 0, time.monotonic(), "the safety cap"
    try:
        index = 0
        while written < (256 << 20):
            with open(os.path.join(place, f"{marker}-{index}.bin"), "wb") as handle:
                for _ in range(4):
                    handle.write(chunk)
                    written += len(chunk)
            index += 1
            if index % 16 == 0:
                print(f"FILLED {place} {written >> 20} MiB", flush=True)
    except OSError as exc:
        error = exc.strerror
    print(f"FILLED {place} {written >> 20} MiB in {time.monotonic() - started:.2f}s, stopped by: {error}", flush=True)
print("ANSWER 42")
