"""Level counts and error messages from log files: python log_levels.py case1.log case2.log case3.log"""
import json
import re
import sys

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LINE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} "
    r"\[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] ([A-Za-z0-9_.-]+): (.*)"
)


def summarize(path):
    counts = dict.fromkeys(LEVELS, 0)
    errors, malformed = [], 0
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        match = LINE.fullmatch(line)
        if not match:
            malformed += 1
            continue
        level, component, message = match.groups()
        counts[level] += 1
        if level in ("ERROR", "CRITICAL"):
            errors.append({"line": number, "component": component, "message": message})
    return {"counts": counts, "errors": errors, "malformed": malformed}


def main():
    for path in sys.argv[1:]:
        result = summarize(path)
        with open(path + ".json", "w", encoding="utf-8") as out:
            json.dump(result, out, ensure_ascii=False)


if __name__ == "__main__":
    main()
