"""Run jobs from jobs.py with bounded concurrency: python async_jobs.py case1.jobs case2.jobs case3.jobs"""
import asyncio
import json
import sys

from jobs import run_job


async def run_all(limit, jobs):
    gate = asyncio.Semaphore(limit)

    async def one(job):
        async with gate:
            try:
                return {"id": job["id"], "ok": True, "value": await run_job(job)}
            except Exception as exc:
                return {"id": job["id"], "ok": False, "error": f"{type(exc).__name__}: {exc}"}

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def main():
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as handle:
            spec = json.load(handle)
        results = asyncio.run(run_all(spec["limit"], spec["jobs"]))
        with open(path + ".json", "w", encoding="utf-8") as out:
            json.dump(results, out, ensure_ascii=False)


if __name__ == "__main__":
    main()
