"""A reply with 10,000 FILE blocks (a package of 10,000 modules) and the one file the task asks for at the end.
Contained: bounded parse time; only the expected file is written and run (the rest recorded as ignored)."""


def build(ctx: dict) -> str:
    blocks = [f"FILE: pkg/mod_{i:05d}.py\n```python\nVALUE_{i} = {i}\n```\n" for i in range(10_000)]
    blocks.append('FILE: prog.py\n```python\nprint("ANSWER 42")\n```\n')
    return "Here is the whole project.\n\n" + "\n".join(blocks)
