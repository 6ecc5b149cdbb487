"""Totals per key from CSV files: python csv_totals.py case1.csv case2.csv case3.csv"""
import csv
import json
import re
import sys

AMOUNT = re.compile(r"-?[0-9]+")


def summarize(path):
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows, None)
        totals, valid, skipped = {}, 0, 0
        if header is not None:
            key_col, amount_col = header.index("key"), header.index("amount")
            for row in rows:
                if not row:
                    continue
                amount = row[amount_col].strip() if len(row) == len(header) else ""
                if not AMOUNT.fullmatch(amount):
                    skipped += 1
                    continue
                totals[row[key_col]] = totals.get(row[key_col], 0) + int(amount)
                valid += 1
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return {"totals": [{"key": k, "total": t} for k, t in ordered], "rows": valid, "skipped": skipped}


def main():
    for path in sys.argv[1:]:
        result = summarize(path)
        with open(path + ".json", "w", encoding="utf-8") as out:
            json.dump(result, out, ensure_ascii=False)


if __name__ == "__main__":
    main()
