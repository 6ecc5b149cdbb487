"""Public task `grid_path` (search): shortest path length in a grid maze, -1 when unreachable."""
from __future__ import annotations

import json
from pathlib import Path

from .checks import Case, check_cases, cli_contract, invoke_on_cases, write_inputs
from .protocol import load_reference

TASK_ID = "grid_path"
FILENAME = "grid_path.py"


def _maze(grid: list[str], start: list[int], goal: list[int]) -> str:
    return json.dumps({"grid": grid, "start": start, "goal": goal}, indent=1) + "\n"


CASES = [
    Case(
        "case1.maze",
        "maze where a depth-first path is longer than the shortest",
        _maze(
            [
                ".........",
                "..##....#",
                "..#..#...",
                "#.#....##",
                "#...#.#.#",
                ".........",
                "#.#...#..",
            ],
            [0, 0],
            [6, 8],
        ),
        {"steps": 14},
    ),
    Case(
        "case2.maze",
        "goal walled off",
        _maze(
            [
                "......#....",
                ".####.#.##.",
                ".#....#.#..",
                ".#.####.#.#",
                "...#....#..",
            ],
            [4, 0],
            [2, 9],
        ),
        {"steps": -1},
    ),
    Case(
        "case3.maze",
        "start equals goal",
        _maze(["#.#.", "....", ".##."], [1, 2], [1, 2]),
        {"steps": 0},
    ),
]

PROMPT = f"""Task: find the length of the shortest path through a grid maze.

{cli_contract(FILENAME, [case.name for case in CASES])}

Input: each input file holds one JSON object {{"grid": [<row string>, ...], "start": [row, col], "goal": [row, col]}}.
All rows have the same length; `.` is an open cell and `#` is a wall. Rows and columns are numbered from 0, row 0
being the first string. A move goes one cell up, down, left or right (never diagonally), stays inside the grid and
never enters a wall.

Output: one JSON object per input: {{"steps": n}} where n is the smallest number of moves from start to goal:
0 when start equals goal, and -1 when the goal cannot be reached (or when start or goal is a wall).

Example: for {{"grid": ["..#", "#..", "..."], "start": [0, 0], "goal": [2, 2]}} the answer is {{"steps": 4}}.
"""


def prepare(tmp_dir: Path) -> None:
    write_inputs(tmp_dir, CASES)


def invoke(tmp_dir: Path, script_path: Path):
    return invoke_on_cases(tmp_dir, script_path, CASES)


def check(proc, tmp_dir: Path) -> tuple[int, str]:
    return check_cases(proc, tmp_dir, CASES)


TASK = {
    "id": TASK_ID,
    "category": "search",
    "prompt": PROMPT,
    "expected_files": [FILENAME],
    "entry_point": "main",
    "run": " ".join(["python", FILENAME, *(case.name for case in CASES)]),
    "harness": {"prepare": prepare, "invoke": invoke, "check": check},
    "reference": load_reference(TASK_ID, [FILENAME]),
}
