"""A program with NUL bytes in its source. Contained: the harness (which compiles the source in its own process to
tell a syntax error) classifies it as not compiling and does not raise."""


def build(ctx: dict) -> str:
    return 'FILE: prog.py\n```python\nprint("ANSWER 42")\x00\x00\n```\n'
