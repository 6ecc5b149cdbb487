"""Path rules: normalisation, refusals, and writes that cannot leave the root."""
import pytest

from swebench_exec.parse import PathRefused, normalise_path, safe_join, write_files


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("./a//b.py", "a/b.py"),
        ("src\\pkg\\m.py", "src/pkg/m.py"),
        ("`report.py`:", "report.py"),
        ("  'data/in.txt'  ", "data/in.txt"),
        ('"x.py"', "x.py"),
        ("**main.py**", "main.py"),
        ("a/../b.py", "b.py"),
        ("pkg/", "pkg"),
        (".gitignore", ".gitignore"),
        ("my file.py", "my file.py"),
    ],
)
def test_normalise_path_accepts(raw, expected):
    assert normalise_path(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("C:\\x.py", "absolute"),
        ("c:x.py", "absolute"),
        ("\\\\server\\share\\x.py", "absolute"),
        ("~/x.py", "absolute"),
        ("../x.py", "escapes_root"),
        ("a/../../x.py", "escapes_root"),
        (".git/config", "git_dir"),
        ("sub/.git/HEAD", "git_dir"),
        (".GIT/config", "git_dir"),
        ("", "empty"),
        ("  ``  ", "empty"),
        ("./", "empty"),
        ("a/..", "empty"),
        ("a\x00b.py", "invalid"),
    ],
)
def test_normalise_path_refuses(raw, reason):
    with pytest.raises(PathRefused) as caught:
        normalise_path(raw)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)


def test_safe_join_returns_absolute_path_inside_root(tmp_path):
    assert safe_join(tmp_path, "./pkg//m.py") == tmp_path.resolve() / "pkg" / "m.py"


def test_safe_join_refuses_symlinked_directory(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathRefused) as caught:
        safe_join(root, "link/evil.py")
    assert caught.value.reason == "through_symlink"


def test_safe_join_refuses_symlinked_file(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text("keep")
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.py").symlink_to(target)
    with pytest.raises(PathRefused, match="through_symlink"):
        safe_join(root, "a.py")


def test_safe_join_refuses_bad_relative_path(tmp_path):
    with pytest.raises(PathRefused) as caught:
        safe_join(tmp_path, "../x.py")
    assert caught.value.reason == "escapes_root"


def test_write_files_writes_exact_bytes_and_reports_refusals(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    refused = write_files(
        root,
        {
            "pkg/deep/m.py": "x = 1\n",
            "crlf.txt": "a\r\nb\n",
            "../escape.py": "evil",
            ".git/hooks/pre-commit": "evil",
            "link/evil.py": "evil",
        },
    )
    assert refused == [
        ("../escape.py", "escapes_root"),
        (".git/hooks/pre-commit", "git_dir"),
        ("link/evil.py", "through_symlink"),
    ]
    assert (root / "pkg/deep/m.py").read_text() == "x = 1\n"
    assert (root / "crlf.txt").read_bytes() == b"a\r\nb\n"
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escape.py").exists()


def test_write_files_records_a_file_where_a_directory_must_go(tmp_path):
    refused = write_files(tmp_path, {"a": "file", "a/b.py": "x"})
    assert [path for path, _ in refused] == ["a/b.py"]
    assert refused[0][1].startswith("write_error")
    assert (tmp_path / "a").read_text() == "file"
