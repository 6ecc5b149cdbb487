"""Public task `csv_totals` (csv-aggregation): totals per key from a CSV file with a header."""
from __future__ import annotations


from .checks import Case, case_task, cli_contract

TASK_ID = "csv_totals"
FILENAME = "csv_totals.py"

CASES = [
    Case(
        "case1.csv",
        "quoted fields, ties, unicode keys",
        'id,key,note,amount\n'
        '1,date,"fresh, ripe",4\n'
        '2,banana,plain,7\n'
        '3,"cherry, dark","say ""hi""",4\n'
        '4,date,,3\n'
        '5,apple,"two\nlines",7\n'
        '6,Émile,x,9\n'
        '7,Zoe,y,9\n'
        '8,apple,z,-2\n'
        '9,Émile,"a,b,c",-2\n',
        {
            "totals": [
                {"key": "Zoe", "total": 9},
                {"key": "banana", "total": 7},
                {"key": "date", "total": 7},
                {"key": "Émile", "total": 7},
                {"key": "apple", "total": 5},
                {"key": "cherry, dark", "total": 4},
            ],
            "rows": 9,
            "skipped": 0,
        },
    ),
    Case(
        "case2.csv",
        "malformed rows and a blank line",
        "amount,key\n"
        "10,north\n"
        "x,south\n"
        "5,south\n"
        " 7 ,north\n"
        "12.5,east\n"
        "3\n"
        "4,east,extra\n"
        "\n"
        "-3,south\n"
        ",west\n"
        '2,"we""st, 2"\n'
        "0,zero\n",
        {
            "totals": [
                {"key": "north", "total": 17},
                {"key": "south", "total": 2},
                {"key": 'we"st, 2', "total": 2},
                {"key": "zero", "total": 0},
            ],
            "rows": 6,
            "skipped": 5,
        },
    ),
    Case("case3.csv", "empty file", "", {"totals": [], "rows": 0, "skipped": 0}),
]

PROMPT = f"""Task: sum an amount per key in CSV files.

{cli_contract(FILENAME, [case.name for case in CASES])}

Input: a UTF-8 CSV file in the standard format that Python's `csv` module reads by default (comma separated; a field
may be wrapped in double quotes and then contain commas, newlines and doubled quotes `""`). The first row is the
header; it contains a column named `key` and a column named `amount`, in any position, possibly among other columns.
Every following row is a data row:
- a completely empty line is ignored (it is neither counted nor skipped);
- a row is malformed when its number of fields differs from the header's, or when its amount, with surrounding
  spaces removed, is not an integer (an optional `-` followed by the digits 0-9); malformed rows are skipped and
  counted;
- every other row is valid: add its integer amount to the total of its key (the key exactly as written,
  case-sensitive, not stripped).
An empty file (0 bytes) or a file with only the header has no data rows.

Output: one JSON object per input:
{{"totals": [{{"key": <key>, "total": <integer>}}, ...], "rows": <number of valid rows>, "skipped": <number of malformed rows>}}
`totals` lists every key that appears in a valid row (even when its total is 0), ordered by total descending;
equal totals are ordered by key ascending in plain Unicode code point order (Python's default string ordering).
Key order inside each JSON object does not matter.

Example: for the input
key,amount
b,2
a,"2"
c,oops
the answer is {{"totals": [{{"key": "a", "total": 2}}, {{"key": "b", "total": 2}}], "rows": 2, "skipped": 1}}.
"""


TASK = case_task(TASK_ID, "csv-aggregation", PROMPT, FILENAME, CASES)
