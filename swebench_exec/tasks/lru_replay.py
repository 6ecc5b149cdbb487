"""Public task `lru_replay` (data-structure): replay put/get operations on an LRU cache of a given capacity."""
from __future__ import annotations

import json

from .checks import Case, case_task, cli_contract

TASK_ID = "lru_replay"
FILENAME = "lru_replay.py"


def _ops(capacity: int, ops: list[list]) -> str:
    return json.dumps({"capacity": capacity, "ops": ops}, ensure_ascii=False) + "\n"


CASES = [
    Case(
        "case1.ops",
        "eviction, get refreshes recency, unicode keys",
        _ops(
            2,
            [
                ["put", "ä", 1], ["put", "b", 2], ["get", "ä"], ["put", "ç", 3], ["get", "b"],
                ["get", "ç"], ["put", "d", "四"], ["get", "ä"], ["get", "d"],
            ],
        ),  # fmt: skip
        {"gets": [1, None, 3, None, "四"], "order": ["ç", "d"]},
    ),
    Case(
        "case2.ops",
        "updating an existing key refreshes it and evicts nothing",
        _ops(
            3,
            [
                ["put", "a", 1], ["put", "b", 2], ["put", "c", 3], ["put", "a", 10], ["put", "d", 4],
                ["get", "b"], ["put", "a", 11], ["get", "c"], ["get", "a"], ["put", "e", 5], ["get", "d"],
                ["get", "a"],
            ],
        ),  # fmt: skip
        {"gets": [None, 3, 11, None, 11], "order": ["c", "e", "a"]},
    ),
    Case(
        "case3.ops",
        "capacity 0",
        _ops(0, [["put", "x", 1], ["get", "x"], ["put", "ключ", "значение"], ["get", "ключ"], ["get", "y"]]),
        {"gets": [None, None, None], "order": []},
    ),
]

PROMPT = f"""Task: replay operations on a least-recently-used (LRU) cache.

{cli_contract(FILENAME, [case.name for case in CASES])}

Input: each input file holds one JSON object {{"capacity": n, "ops": [...]}}: n is an integer >= 0, and each op is
either ["put", key, value] or ["get", key]. Keys are strings (any Unicode); values are JSON strings or numbers.

Cache rules:
- the cache holds at most `capacity` keys; a capacity of 0 stores nothing (every put is ignored);
- ["get", key]: if the key is cached, its value is the result and the key becomes the most recently used;
  otherwise the result is null;
- ["put", key, value]: if the key is already cached, its value is replaced and it becomes the most recently used
  (nothing is evicted); otherwise, if the cache is full, the least recently used key is evicted first, then the
  key is stored as the most recently used.

Output: one JSON object per input: {{"gets": [the result of every get, in order], "order": [the cached keys after
the last op, from least to most recently used]}}. Key order inside the JSON object does not matter.

Example: for {{"capacity": 1, "ops": [["put", "a", 1], ["put", "b", 2], ["get", "a"], ["get", "b"]]}} the answer
is {{"gets": [null, 2], "order": ["b"]}}.
"""


TASK = case_task(TASK_ID, "data-structure", PROMPT, FILENAME, CASES)
