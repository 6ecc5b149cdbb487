"""Makes its directory hard to clean: unreadable files and dirs, a dir without any permission holding files, a FIFO,
a socket file, a symlink loop, then takes every permission away from its own working directory.
Contained: the harness still scores the run and removes the sandbox completely."""
import os
import socket

os.makedirs("locked/inner", exist_ok=True)
for index in range(20):
    with open(f"locked/inner/f{index}", "w") as handle:
        handle.write("x")
    os.chmod(f"locked/inner/f{index}", 0)
os.chmod("locked/inner", 0)
os.chmod("locked", 0)
os.mkfifo("answer.fifo")
os.symlink("loop-b", "loop-a")
os.symlink("loop-a", "loop-b")
try:
    socket.socket(socket.AF_UNIX).bind("sock")
except OSError:
    pass
with open("readonly.txt", "w") as handle:
    handle.write("x")
os.chmod("readonly.txt", 0)
print("ANSWER 42", flush=True)
os.chmod(".", 0)
