"""Builds a directory tree too deep for any absolute path (over 8,000 characters: PATH_MAX is 4,096) with files at the
bottom, plus 1,000 small files, then answers. Contained: the harness copies back and cleans up without failing, and
the run is scored as the model's (a pass), never turned into an infrastructure error."""
import os

name = "d" * 60
for _ in range(140):
    os.mkdir(name)
    os.chdir(name)
with open("bottom.txt", "w") as handle:
    handle.write("deep\n")
for _ in range(140):
    os.chdir("..")
os.makedirs("many", exist_ok=True)
for index in range(1000):
    with open(f"many/{index}.txt", "w") as handle:
        handle.write("x")
print("ANSWER 42")
