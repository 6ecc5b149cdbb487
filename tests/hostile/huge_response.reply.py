"""A 10 MB reply: 5 MB of rambling before the FILE block, and a program that is itself 5 MB (a comment block ahead
of the answer). Contained: parsing, the format score and the run finish in bounded time; the program passes."""

PROSE = "Let me think about this step by step, considering every possible edge case of the input once more. "


def build(ctx: dict) -> str:
    prose = (PROSE * 52_000)[: 5 * 1024 * 1024]
    comment = ("# " + "padding " * 15 + "\n") * 44_000
    program = comment + 'print("ANSWER 42")\n'
    text = f"{prose}\n\nFILE: prog.py\n```python\n{program}```\n"
    assert len(text) >= 10 * 1024 * 1024, len(text)
    return text
