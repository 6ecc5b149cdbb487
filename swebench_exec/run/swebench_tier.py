"""`swebench` and `validate`: the SWE-bench Verified tier from arguments to results, predictions and validation records."""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Iterable

from ..scoring.executor import ExecResult
from ..scoring.format import swebench_format_score
from ..swebench.dataset import Instance, load_instances, read_id_list
from ..swebench.diffs import post_patch_contents
from ..swebench.edits import apply_response
from ..swebench.environment import EnvBuilder
from ..swebench.evaluate import DockerSweSandbox, LocalSweSandbox, SweSandbox, evaluate_patch, official_image
from ..swebench.prompt import ORACLE, oracle_paths, swebench_prompt
from ..swebench.repos import RepoCache, WorktreePool


def instance_ids(args: argparse.Namespace) -> list[str] | None:
    if args.instances:
        return read_id_list(args.instances)
    if args.instance_ids:
        return [i.strip() for i in args.instance_ids.split(",") if i.strip()]
    return None


def repo_cache(args: argparse.Namespace) -> RepoCache:
    """--repo-cache DIR: mirrors already there are used as they are and nothing is fetched."""
    if args.repo_cache:
        return RepoCache(Path(args.repo_cache), fetch=False)
    return RepoCache()


def choose_sandbox(args: argparse.Namespace, instances: list[Instance], repos: RepoCache) -> SweSandbox:
    """`auto`: docker when a daemon answers and every instance's image exists here, else local, and say which.
    `docker` asked for by name must have both before anything runs."""
    choice = args.sandbox
    if choice != "local":
        missing = _missing_images(instances, args.namespace)
        more = f" and {len(missing) - 3} more" if missing and len(missing) > 3 else ""
        why = "no Docker daemon answers" if missing is None else f"no image for {', '.join(missing[:3])}{more}" if missing else ""
        if choice == "docker" and why:
            from ..cli import UserError

            raise UserError(f"--sandbox docker: {why} (pull the images, check --namespace, or use --sandbox local)")
        if choice == "auto":
            choice = "local" if why else "docker"
            print(f"sandbox: {choice}" + (f" ({why})" if why else ""), file=sys.stderr)
    if choice == "docker":
        return DockerSweSandbox(namespace=args.namespace, timeout_s=args.timeout)
    return LocalSweSandbox(repos, EnvBuilder(Path(args.env_cache)) if args.env_cache else None, timeout_s=args.timeout)


def _missing_images(instances: list[Instance], namespace: str) -> list[str] | None:
    """Instances whose official image is not here, or None when no Docker daemon answers."""
    from ..sandbox.docker import docker_available, image_exists

    if not docker_available():
        return None
    return [i.instance_id for i in instances if not image_exists(official_image(i, namespace))]


def build_tasks(instances: list[Instance], pool: WorktreePool) -> list[dict]:
    """One task per instance: the oracle prompt, the files it touches, and gold's whole post-patch files."""
    tasks = []
    for instance in instances:
        with pool.checkout(instance) as worktree:
            tasks.append({
                "id": instance.instance_id,
                "prompt": swebench_prompt(instance, worktree),
                "expected_files": oracle_paths(instance),
                "reference": post_patch_contents(worktree, instance.patch),
                "run": None,
                "instance": instance,
            })  # fmt: skip
    return tasks


def make_scorer(pool: WorktreePool, sandbox: SweSandbox):
    def score(task: dict, text: str, outcome: str) -> dict:
        instance: Instance = task["instance"]
        with pool.checkout(instance) as worktree:
            shape = swebench_format_score(text, task["expected_files"], worktree)
            edits = apply_response(text, worktree, instance)
            if edits.patch.strip():
                result = evaluate_patch(instance, edits.patch, sandbox, worktree)
            else:
                result = ExecResult(0, f"no usable edit: {edits.detail}", "no_patch", max_score=1)
        result.extraction = edits.record()
        return {"format": shape.record(), "executor": result.record(), "parse": shape.parse.record(),
                "model_patch": edits.patch}  # fmt: skip

    return score


def run_swebench(args: argparse.Namespace) -> int:
    from ..cli import UserError
    from .public import claimed_output

    if args.executor != "local":
        raise UserError("--executor ray runs the public tier; SWE-bench evaluations need the worktrees on this machine")
    with claimed_output(args) as out:
        return _run_swebench(args, out)


def _run_swebench(args: argparse.Namespace, out: Path) -> int:
    from .public import build_models, finish_run, resolve_models, start_run
    from .runner import RunSpec
    from .store import check_writable

    names, prices = resolve_models(args)  # every mistake in the command before the dataset is loaded
    if args.export_predictions:
        check_writable(Path(args.export_predictions), "--export-predictions")
    instances = load_instances(args.dataset, instance_ids(args))
    repos = repo_cache(args)
    sandbox = choose_sandbox(args, instances, repos)
    pool = WorktreePool(repos)
    try:
        tasks = build_tasks(instances, pool)
        models = build_models(args, tasks, names, prices)
        spec = RunSpec(models=models, tasks=tasks, samples=args.samples, concurrency=args.concurrency,
                       workers=args.workers, tier="swebench", scorer=make_scorer(pool, sandbox),
                       max_cost=args.max_cost)  # fmt: skip
        config_extra = {"tier": "swebench", "dataset": args.dataset,
                        "repo_cache": str(Path(args.repo_cache).resolve()) if args.repo_cache else None,
                        "instances": [i.instance_id for i in instances],
                        "context": ORACLE, "sandbox": {"provider": sandbox.name}, "tasks": None,
                        "prices": {m: p.record() for m, p in prices.items()}}  # fmt: skip
        run = start_run(args, out, names, tasks, spec, config_extra)
    finally:
        pool.close()
    code = finish_run(run)
    if args.export_predictions:
        for path in export_predictions(run.rows(), Path(args.export_predictions)):
            print(f"predictions: {path}")
    return code


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def export_predictions(rows: Iterable[dict], path: Path) -> list[Path]:
    """The official predictions format, one file per model x arm (the harness takes one prediction per instance)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        if row.get("sample", 0) == 0 and row.get("executor") is not None:
            groups.setdefault((row["model"], row["arm"]), []).append(
                {"task_id": row["task_id"], "model_patch": row.get("model_patch") or ""})
    written = []
    for (model, arm), group in sorted(groups.items()):
        target = path if len(groups) == 1 else path.with_name(f"{path.stem}.{_slug(model)}.{arm}{path.suffix or '.jsonl'}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8") as out:
            for row in group:
                out.write(json.dumps({"instance_id": row["task_id"], "model_name_or_path": f"{model}@{arm}",
                                      "model_patch": row.get("model_patch") or ""}) + "\n")  # fmt: skip
        written.append(target)
    return written


NETWORK_SIGNS = ("Temporary failure in name resolution", "Network is unreachable", "Name or service not known",
                 "Could not resolve host", "Max retries exceeded with url")  # fmt: skip


def classify(gold: list[bool | None], empty: list[bool | None], logs: list[str]) -> str:
    """`ok` when gold always resolves and empty never does; else why the instance cannot be trusted here."""
    if gold and all(g is True for g in gold) and all(e is False for e in empty):
        return "ok"
    if any(sign in log for log in logs for sign in NETWORK_SIGNS):
        return "needs_network"
    if any(e is True for e in empty):
        return "empty_resolves"
    if any(g is True for g in gold):
        return "flaky"
    return "env_broken"


def validate_instance(instance: Instance, pool: WorktreePool, sandbox: SweSandbox, repeat: int) -> dict:
    runs = {"gold": [], "empty": []}
    reasons, logs, timings = [], [], []
    for _ in range(repeat):
        for kind, patch in (("gold", instance.patch), ("empty", "")):
            started = time.monotonic()
            with pool.checkout(instance) as worktree:
                checkout_s = time.monotonic() - started
                result = evaluate_patch(instance, patch, sandbox, worktree)
            runs[kind].append(None if result.score is None else bool(result.score))
            reasons.append(f"{kind}: {result.reason}")
            logs.append((result.process or {}).get("log_tail", ""))
            timings.append({"kind": kind, "checkout_s": round(checkout_s, 2), "total_s": round(time.monotonic() - started, 2),
                            **{k: (result.process or {}).get(k) for k in ("setup_s", "test_s")}})  # fmt: skip
    return {"status": classify(runs["gold"], runs["empty"], logs), "gold": runs["gold"], "empty": runs["empty"],
            "sandbox": sandbox.name, "reasons": reasons, "timings": timings}  # fmt: skip


def validation_path(args: argparse.Namespace) -> Path:
    if args.validation_out:
        return Path(args.validation_out)
    if args.instances:
        return Path(args.instances).with_suffix(".validation.json")
    return Path("bench-results") / "validation.json"


def run_validate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .store import check_writable

    out = validation_path(args)
    check_writable(out, "--validation-out")
    instances = load_instances(args.dataset, instance_ids(args))
    repos = repo_cache(args)
    sandbox = choose_sandbox(args, instances, repos)
    record = json.loads(out.read_text()) if out.exists() else {}
    pool = WorktreePool(repos)
    try:
        for instance in tqdm(instances, desc="validate", unit="instance", disable=args.quiet or None, file=sys.stderr):
            record[instance.instance_id] = validate_instance(instance, pool, sandbox, args.repeat)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(record, indent=1, sort_keys=True))  # after each instance: nothing lost on a crash
    finally:
        pool.close()
    width = max(len(i.instance_id) for i in instances)
    for instance in instances:
        entry = record[instance.instance_id]
        runs = lambda results: " ".join({True: "resolved", False: "unresolved", None: "infra-error"}[r] for r in results)  # noqa: E731
        print(f"{instance.instance_id:<{width}}  {entry['status']:<14}  gold: {runs(entry['gold'])}  empty: {runs(entry['empty'])}")
        if entry["status"] != "ok":
            print(f"{'':<{width}}  why: {entry['reasons'][0]}")
    print(f"\nvalidation: {out}")
    return 0 if all(record[i.instance_id]["status"] == "ok" for i in instances) else 1
