"""Replay put/get operations on an LRU cache: python lru_replay.py case1.ops case2.ops case3.ops"""
import json
import sys
from collections import OrderedDict


def replay(capacity, ops):
    cache = OrderedDict()
    gets = []
    for op in ops:
        if op[0] == "get":
            key = op[1]
            if key in cache:
                cache.move_to_end(key)
                gets.append(cache[key])
            else:
                gets.append(None)
        elif op[0] == "put":
            key, value = op[1], op[2]
            if capacity <= 0:
                continue
            if key in cache:
                cache.move_to_end(key)
            cache[key] = value
            if len(cache) > capacity:
                cache.popitem(last=False)
    return {"gets": gets, "order": list(cache)}


def main():
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as handle:
            spec = json.load(handle)
        result = replay(spec["capacity"], spec["ops"])
        with open(path + ".json", "w", encoding="utf-8") as out:
            json.dump(result, out, ensure_ascii=False)


if __name__ == "__main__":
    main()
