"""A reply whose FILE blocks aim outside the work dir: `..`, absolute paths (the watched dirs, /tmp), `~`, `.git`, a
Windows drive, NUL and newline in a name; the expected file comes last. Contained: every such block is refused and
recorded; nothing is written outside; the program runs."""


def build(ctx: dict) -> str:
    marker = ctx["marker"]
    watched = ctx["watch"][0]
    paths = [
        f"../{marker}-reply.py", f"../../{marker}-reply.py", f"{watched}/{marker}-reply.py", f"/tmp/{marker}-reply.py",
        f"~/{marker}-reply.py", ".git/config", f"sub/../../{marker}-reply.py", f"C:\\{marker}-reply.py",
        f"ok/..\\..\\{marker}-reply.py",
    ]
    blocks = [f"FILE: {p}\n```python\nprint('written by {marker}')\n```\n" for p in paths]
    blocks.append('FILE: prog.py\n```python\nprint("ANSWER 42")\n```\n')
    return "\n".join(blocks)
