"""Evaluate one model patch on one instance, in a sandbox, and grade it as the official harness does.

Order (DESIGN §8): the tree is reset to base_commit and only the model's patch is applied (never onto a dirty tree);
the eval script then restores the files test_patch touches, applies test_patch, runs the repository's tests on the
files it touches between markers, and the log is graded with the official parser and rules.
"""
from __future__ import annotations

import dataclasses
import secrets
import subprocess
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

from ..sandbox.base import Limits, SandboxError
from ..scoring.executor import ExecResult
from .dataset import Instance
from .diffs import PatchError, apply_patch, drop_files, patch_paths
from .environment import EnvBuilder, EnvError
from .eval_script import discarded_test_edits, eval_script, extract_test_log
from .grading import grade, log_namer, resolved_keys
from .guard import read_guard
from .infrastructure import is_test_infrastructure
from .repos import RepoCache, mark_tainted, reset_clean
from .spec import EvalSpec, eval_spec

DEFAULT_TIMEOUT_S = 1800.0
SWEBENCH_LIMITS = Limits(timeout_s=DEFAULT_TIMEOUT_S, memory_mb=16384, file_size_mb=1024, open_files=4096,
                         processes=1024, output_cap_bytes=256 * 1024 * 1024, output_keep_bytes=8 * 1024 * 1024)  # fmt: skip
MODEL_PATCH_FAIL = ">>>>> Model patch did not apply"
COMMAND_NOT_RUNNABLE = (126, 127)  # shell: found but not executable / not found


@dataclass
class ScriptRun:
    log: str
    exit_code: int | None
    timed_out: bool
    duration_s: float
    infra_error: str | None = None
    setup_s: float = 0.0  # environment and tree preparation, outside the test run


class SweSandbox(Protocol):
    """Runs the eval script for an instance with the model's patch applied; knows nothing about grading."""

    name: str

    def run_eval(self, instance: Instance, spec: EvalSpec, model_patch: str, worktree: Path) -> ScriptRun: ...


def reset_to_base(worktree: Path, instance: Instance, model_patch: str) -> None:
    """Clean tree at base_commit plus exactly the model's patch: whatever was in the tree before is gone."""
    if not reset_clean(worktree, instance.base_commit):
        raise SandboxError(f"could not reset the worktree {worktree} to {instance.base_commit}")
    if model_patch.strip():
        apply_patch(worktree, model_patch)


class LocalSweSandbox:
    """The repo's tests in the local sandbox, with a cached venv per (repo, version) (see environment.py)."""

    name = "local"

    def __init__(self, repos: RepoCache, envs: EnvBuilder | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.repos = repos
        self.envs = envs or EnvBuilder()
        self.limits = dataclasses.replace(SWEBENCH_LIMITS, timeout_s=timeout_s)

    def run_eval(self, instance: Instance, spec: EvalSpec, model_patch: str, worktree: Path) -> ScriptRun:
        from ..sandbox.local import LocalSandbox

        started = time.monotonic()
        git_dir = self.repos.mirror(instance.repo).resolve()
        env = self.envs.ensure(instance, git_dir)
        reset_to_base(worktree, instance, model_patch)
        if env.recipe.test_command:
            spec = dataclasses.replace(spec, test_command=env.recipe.test_command)
        script = eval_script(instance, spec, repo_dir=str(worktree), activate=str(env.venv))
        sandbox = LocalSandbox(
            self.limits,
            env={
                "PATH": f"{env.bin}:/usr/local/bin:/usr/bin:/bin",
                "PYTHONPATH": ":".join(str(worktree / p) for p in env.recipe.pythonpath),
                "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*",
            },  # fmt: skip
            read_only=[git_dir, env.venv, env.base_prefix],
            writable=[_worktree_admin_dir(worktree)],
        )
        setup_s = time.monotonic() - started
        mark_tainted(worktree)  # from here on the tree holds whatever the code under test made of it
        proc = sandbox.run(["bash", "-c", "exec 2>&1; exec bash -s"], worktree, stdin=script)
        return ScriptRun(proc.stdout, proc.returncode, proc.timed_out, proc.duration_s, setup_s=setup_s)


def _worktree_admin_dir(worktree: Path) -> Path:
    """A git worktree keeps its index and HEAD in the mirror; the eval script's `git checkout` must write there."""
    dot_git = worktree / ".git"
    if dot_git.is_dir():
        return dot_git
    return Path(dot_git.read_text().split("gitdir:", 1)[1].strip())


def official_image(instance: Instance, namespace: str = "swebench") -> str:
    """The official prebuilt per-instance image name (a row's own `image` wins)."""
    if instance.image:
        return instance.image
    return f"{namespace}/sweb.eval.x86_64.{instance.instance_id.replace('__', '_1776_')}:latest".lower()


class DockerSweSandbox:
    """The official per-instance image: repo at /testbed, conda env `testbed`; networking off, always removed."""

    name = "docker"

    def __init__(self, namespace: str = "swebench", timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.namespace = namespace
        self.limits = dataclasses.replace(SWEBENCH_LIMITS, timeout_s=timeout_s)

    def run_eval(self, instance: Instance, spec: EvalSpec, model_patch: str, worktree: Path) -> ScriptRun:
        from ..sandbox.docker import run_script

        inner = eval_script(instance, spec, repo_dir="/testbed", activate="conda")
        # The tree is the image's, as the official harness uses it: no reset or clean (a clean would delete in-place
        # builds, git-ignored compiled extensions among them, and a reset the image's own edits to tracked files).
        wrapper = "\n".join([
            "cd /testbed",
            "if [ -s /tmp/model.patch ]; then",
            "  git apply -v /tmp/model.patch || patch --batch --fuzz=5 -p1 -i /tmp/model.patch"
            f" || {{ echo '{MODEL_PATCH_FAIL}'; exit 96; }}",
            "fi",
            "exec bash /tmp/eval.sh 2>&1",
        ])  # fmt: skip
        files = {"/tmp/model.patch": model_patch, "/tmp/eval.sh": inner}
        run = run_script(official_image(instance, self.namespace), files, wrapper, workdir="/testbed",
                         timeout=self.limits.timeout_s, limits=self.limits)  # fmt: skip
        return ScriptRun(run.log, run.exit_code, run.timed_out, run.duration_s, run.infra_error)


def evaluate_patch(instance: Instance, model_patch: str, sandbox: SweSandbox, worktree: Path) -> ExecResult:
    """Run and grade one patch. Environment and sandbox failures are infrastructure (score None), never the model's."""
    spec = dataclasses.replace(eval_spec(instance), guard_nonce=secrets.token_hex(8))
    started = time.monotonic()
    discarded = discarded_test_edits(model_patch, spec)
    model_patch, infrastructure = drop_files(model_patch, partial(is_test_infrastructure, worktree=worktree))
    not_evaluated = discarded + infrastructure
    try:
        run = sandbox.run_eval(instance, spec, model_patch, worktree)
    except EnvError as exc:
        return ExecResult(None, f"environment: {exc}", "env_error", max_score=1)
    except (SandboxError, OSError, subprocess.CalledProcessError) as exc:
        return ExecResult(None, f"sandbox failed: {exc}", "sandbox_error", max_score=1)
    except PatchError as exc:
        if infrastructure:  # e.g. a deleted conftest.py whose path a kept new file reuses: the reply's own conflict
            return ExecResult(0, f"the patch does not apply once its test-infrastructure edits are dropped: {exc}",
                              "patch_failed", max_score=1, process={"discarded_test_edits": not_evaluated})  # fmt: skip
        # the recorded patch, whole, always applies to a clean base: failing here is ours
        return ExecResult(None, f"recorded patch did not re-apply: {exc}", "harness_error", max_score=1)
    process = {"exit_code": run.exit_code, "timed_out": run.timed_out, "test_s": round(run.duration_s, 2),
               "setup_s": round(run.setup_s, 2), "sandbox": sandbox.name, "discarded_test_edits": not_evaluated}  # fmt: skip
    if run.infra_error:
        return ExecResult(None, f"sandbox failed: {run.infra_error}", "sandbox_error", max_score=1, process=process)
    if MODEL_PATCH_FAIL in run.log:
        return ExecResult(0, "the model's patch does not apply in the image", "patch_failed", max_score=1,
                          process=process)  # fmt: skip
    test_exit = _test_exit_code(run.log)
    if test_exit in COMMAND_NOT_RUNNABLE:  # the environment lacks the test runner: nothing the model did
        return ExecResult(None, f"environment: the test command could not run (exit {test_exit}); see log_tail",
                          "env_error", max_score=1, process={**process, "log_tail": extract_test_log(run.log, 4000)})  # fmt: skip
    result = grade(instance, spec, run.log)
    guard = read_guard(run.log, spec.guard_nonce, name=log_namer(instance, spec))
    required = resolved_keys([*instance.fail_to_pass, *instance.pass_to_pass], result.statuses)
    ran_with = set(patch_paths(model_patch)) - set(discarded)  # discarded test edits were restored before the run
    veto = guard.veto(result.statuses, required, ran_with) if result.resolved else None
    process["log_tail"] = extract_test_log(run.log, keep=4000)
    status = "resolved" if result.resolved and not veto else "timeout" if run.timed_out else "unresolved"
    reason = veto or _reason(result, run)
    record = {**result.record(), "guard": {**guard.record(), "veto": veto}}
    return ExecResult(int(status == "resolved"), reason, status, max_score=1, process=process, grade=record,
                      duration_s=time.monotonic() - started)  # fmt: skip


def _test_exit_code(log: str) -> int | None:
    from swebench.harness.grading import parse_test_exit_code

    return parse_test_exit_code(log)


def _reason(result, run: ScriptRun) -> str:
    if result.resolved:
        return "resolved: all FAIL_TO_PASS and PASS_TO_PASS tests pass"
    if run.timed_out:
        return f"timeout after {run.duration_s:.0f}s; {result.reason or result.status}"
    failed = result.fail_to_pass.get("failure", []) + result.pass_to_pass.get("failure", [])
    if failed:
        return f"{result.status}: {len(failed)} required test(s) fail, first: {failed[0]}"
    return f"{result.status}: {result.reason or 'tests did not run'}"
