"""A program whose single expression nests 150,000 levels deep: compiling it exhausts the compiler's recursion (the
harness compiles the source in its own process to tell a syntax error). Contained: classified as not compiling,
quickly, and the harness process is unharmed."""


def build(ctx: dict) -> str:
    return "FILE: prog.py\n```python\nx = " + "1+" * 150_000 + "1\nprint('ANSWER 42')\n```\n"
