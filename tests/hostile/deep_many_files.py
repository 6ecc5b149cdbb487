"""A chain of 1,000 nested folders with 2,000 files at the bottom, in a tenth of a second. A copy-back that checks
every file's whole path again would take minutes of the harness's time per run. Contained: the run is scored in
bounded time (folders beyond the copy-back's depth limit stay in the container)."""
import os

for _ in range(1000):
    os.mkdir("a")
    os.chdir("a")
for index in range(2000):
    open(str(index), "w").close()
print("ANSWER 42")
