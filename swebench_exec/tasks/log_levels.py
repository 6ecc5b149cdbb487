"""Public task `log_levels` (log-parsing): level counts and error messages from log lines with a stated grammar."""
from __future__ import annotations


from .checks import Case, case_task, cli_contract

TASK_ID = "log_levels"
FILENAME = "log_levels.py"


def _counts(debug: int = 0, info: int = 0, warning: int = 0, error: int = 0, critical: int = 0) -> dict:
    return {"DEBUG": debug, "INFO": info, "WARNING": warning, "ERROR": error, "CRITICAL": critical}


CASES = [
    Case(
        "case1.log",
        "well-formed lines, colons and brackets inside messages",
        "2024-03-01 09:00:00 [INFO] api: server started on port 8080\n"
        "2024-03-01 09:00:01 [DEBUG] db.pool: opened 4 connections\n"
        "2024-03-01 09:00:02 [INFO] api: GET /health -> 200: ok [ERROR] count is 0\n"
        "2024-03-01 09:00:03 [WARNING] cache-1: hit ratio 0.42 below 0.5\n"
        "2024-03-01 09:00:04 [ERROR] db.pool: timeout: waited 30s for connection\n"
        "2024-03-01 09:00:05 [INFO] i18n: loaded café, naïve, 日本語 ✓\n"
        "2024-03-01 09:00:06 [CRITICAL] api: out of memory: killing worker 3\n"
        "2024-03-01 09:00:07 [ERROR] billing_v2: échec du paiement [code=42]\n"
        "2024-03-01 09:00:08 [DEBUG] api: shutdown: done\n",
        {
            "counts": _counts(debug=2, info=3, warning=1, error=2, critical=1),
            "errors": [
                {"line": 5, "component": "db.pool", "message": "timeout: waited 30s for connection"},
                {"line": 7, "component": "api", "message": "out of memory: killing worker 3"},
                {"line": 8, "component": "billing_v2", "message": "échec du paiement [code=42]"},
            ],
            "malformed": 0,
        },
    ),
    Case(
        "case2.log",
        "malformed lines and blank lines",
        "2024-03-02 10:00:00 [error] api: lowercase level\n"
        "2024-03-02 10:00:01 [WARN] api: unknown level WARN\n"
        "\n"
        "2024-03-02 10:00:02 [ERROR] worker-7: disk full\n"
        "Traceback (most recent call last): [ERROR] in handler\n"
        "2024-3-02 10:00:03 [ERROR] api: short month\n"
        "2024-03-02 9:00:04 [INFO] api: short hour\n"
        "2024-03-02 10:00:05 [INFO] db pool: space in component\n"
        "2024-03-02 10:00:06 [ERROR] api no colon after component\n"
        "   \n"
        "2024-03-02 10:00:07 [CRITICAL] kernel: panic: 😱 not syncing\n"
        "[ERROR] api: no timestamp\n"
        "2024-03-02 10:00:08 [INFO] api: recovered\n",
        {
            "counts": _counts(info=1, error=1, critical=1),
            "errors": [
                {"line": 4, "component": "worker-7", "message": "disk full"},
                {"line": 11, "component": "kernel", "message": "panic: 😱 not syncing"},
            ],
            "malformed": 8,
        },
    ),
    Case("case3.log", "empty log", "", {"counts": _counts(), "errors": [], "malformed": 0}),
]

PROMPT = f"""Task: summarize log files: count lines per level and list the error lines.

{cli_contract(FILENAME, [case.name for case in CASES])}

Input: a UTF-8 text file, lines separated by "\\n". Line numbers start at 1 and count every line, blank ones included.
A line is blank when it is empty or holds only spaces: blank lines are ignored. Every other line must match this
grammar exactly, from the first character to the end of the line:

    YYYY-MM-DD HH:MM:SS [LEVEL] COMPONENT: MESSAGE

- the date and time are digits 0-9 in exactly that shape (4-2-2 digits, then 2:2:2 digits; values are not
  checked further), separated from each other and from `[` by one space;
- LEVEL is exactly one of DEBUG, INFO, WARNING, ERROR, CRITICAL (upper case);
- after `]` comes one space, then COMPONENT: one or more ASCII letters, digits, `_`, `.` or `-`;
- then a colon and one space, then MESSAGE: the rest of the line, which may be empty and may contain anything
  (colons, brackets, non-ASCII text).
A non-blank line that does not match is malformed: it is ignored and counted.

Output: one JSON object per input:
{{"counts": {{"DEBUG": n, "INFO": n, "WARNING": n, "ERROR": n, "CRITICAL": n}},
 "errors": [{{"line": <line number>, "component": <COMPONENT>, "message": <MESSAGE>}}, ...],
 "malformed": <number of malformed lines>}}
`counts` always has all five levels (0 when absent); `errors` lists the ERROR and CRITICAL lines in file order.
Key order inside each JSON object does not matter.

Example: for the input
2024-01-01 00:00:00 [ERROR] db: lost connection: retrying
oops
the answer is {{"counts": {{"DEBUG": 0, "INFO": 0, "WARNING": 0, "ERROR": 1, "CRITICAL": 0}},
"errors": [{{"line": 1, "component": "db", "message": "lost connection: retrying"}}], "malformed": 1}}.
"""


TASK = case_task(TASK_ID, "log-parsing", PROMPT, FILENAME, CASES)
