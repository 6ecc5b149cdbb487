"""A program containing a lone UTF-16 surrogate (a JSON reply may carry "\\ud800"; Python decodes it to a str no UTF-8
encoder accepts). Contained: the harness records the file as unwritable and scores the row as the model's failure
(no code), without raising."""


def build(ctx: dict) -> str:
    return 'FILE: prog.py\n```python\nprint("ANSWER 42")\nx = "\ud800"\n```\n'
