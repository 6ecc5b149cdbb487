"""The two scores: format (shape only) and executor (ground truth)."""
from .executor import ExecResult, executor_score
from .format import FormatResult, format_score

__all__ = ["ExecResult", "FormatResult", "executor_score", "format_score"]
