"""Public task `grid_path` (search): shortest path length in a grid maze, -1 when unreachable."""
from __future__ import annotations

import json

from .checks import Case, case_task, cli_contract

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


TASK = case_task(TASK_ID, "search", PROMPT, FILENAME, CASES)
