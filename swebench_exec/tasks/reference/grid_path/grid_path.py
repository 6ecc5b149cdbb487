"""Shortest path length in a grid by breadth-first search: python grid_path.py case1.maze case2.maze case3.maze"""
import json
import sys
from collections import deque


def shortest(grid, start, goal):
    rows = len(grid)

    def open_cell(r, c):
        return 0 <= r < rows and 0 <= c < len(grid[r]) and grid[r][c] == "."

    start, goal = tuple(start), tuple(goal)
    if not open_cell(*start) or not open_cell(*goal):
        return -1
    distance = {start: 0}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            return distance[cell]
        r, c = cell
        for nxt in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if nxt not in distance and open_cell(*nxt):
                distance[nxt] = distance[cell] + 1
                queue.append(nxt)
    return -1


def main():
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as handle:
            maze = json.load(handle)
        result = {"steps": shortest(maze["grid"], maze["start"], maze["goal"])}
        with open(path + ".json", "w", encoding="utf-8") as out:
            json.dump(result, out)


if __name__ == "__main__":
    main()
