"""Reading model replies: FILE blocks (the contract's format), the executor's fallbacks, and safe paths."""
from .fallback import Extraction, extract_program
from .file_blocks import Defect, FileBlock, ParseResult, parse_file_blocks, strip_think
from .paths import PathRefused, normalise_path, safe_join, write_files

__all__ = [
    "Defect",
    "Extraction",
    "FileBlock",
    "ParseResult",
    "PathRefused",
    "extract_program",
    "normalise_path",
    "parse_file_blocks",
    "safe_join",
    "strip_think",
    "write_files",
]
