"""A non-daemon thread spins forever while the main thread returns: the interpreter waits on it at exit.
Contained: killed at the timeout."""
import threading


def spin():
    while True:
        pass


threading.Thread(target=spin).start()
