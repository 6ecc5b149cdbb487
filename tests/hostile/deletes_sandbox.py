"""Deletes its own sandbox directory (everything in it, then the directory itself), moves to /, and answers.
Contained: the harness scores the run and cleans up without an error."""
import os
import shutil

here = os.getcwd()
shutil.rmtree(here, ignore_errors=True)
for target in (here,):
    try:
        os.rmdir(target)
        print("removed", target)
    except OSError as exc:
        print("could not remove", target, exc.strerror)
os.chdir("/")
print("ANSWER 42")
