"""ganaudio.outputs: up-front checks, atomic single files and the several-output transaction."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from ganaudio.errors import OutputError
from ganaudio.outputs import OutputSet, atomic_path, check_output, check_output_folder


def _fail_with(code: int, *, after: int = 0):
    """A stand-in that works ``after`` times through the real function, then raises OSError(code)."""
    calls = {"n": 0}

    def wrap(real):
        def fake(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] > after:
                raise OSError(code, os.strerror(code))
            return real(*args, **kwargs)

        return fake

    return wrap


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_output_error_message():
    err = OutputError("out/a.wav", "No space left on device")
    assert str(err) == "cannot write out/a.wav (No space left on device)" and isinstance(err, OSError)


def test_check_output_leaves_nothing(tmp_path):
    check_output(tmp_path / "new" / "deeper" / "x.wav", estimated_bytes=1000)
    check_output(tmp_path / "x.wav")
    assert _names(tmp_path) == []  # the probe is gone and missing folders are made only by the write


@pytest.mark.parametrize("make,needle", [
    (lambda tmp: tmp / "file.txt" / "x.wav", "file.txt is a file, not a writable folder"),
    (lambda tmp: tmp, "it is a folder"),
    (lambda tmp: "/proc/x.wav", "/proc is not a writable folder"),
])
def test_check_output_refuses(make, needle, tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match=needle):
        check_output(make(tmp_path))


def test_check_output_probes_for_real(tmp_path, monkeypatch):
    """Root passes os.access on a read-only mount; the probe file does not."""
    import tempfile

    monkeypatch.setattr(tempfile, "mkstemp", _fail_with(errno.EROFS)(tempfile.mkstemp))
    with pytest.raises(OutputError, match="Read-only file system"):
        check_output(tmp_path / "x.wav")


def test_check_output_space(tmp_path, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=5_000_000))
    check_output(tmp_path / "small.wav", estimated_bytes=1_000_000)
    with pytest.raises(OutputError, match=r"needs about 10.0 MB, 5.0 MB free"):
        check_output(tmp_path / "big.wav", estimated_bytes=10_000_000)


def test_check_output_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="it is a file, expected a folder"):
        check_output_folder(tmp_path / "f")
    assert check_output_folder(tmp_path / "stems") == tmp_path / "stems"


@pytest.mark.parametrize("name,code", [("fsync", errno.ENOSPC), ("replace", errno.EROFS), ("chmod", errno.EPERM)])
def test_atomic_path_failure_keeps_the_older_file(name, code, tmp_path, monkeypatch):
    dest = tmp_path / "out.json"
    dest.write_text("old")
    monkeypatch.setattr(os, name, _fail_with(code)(getattr(os, name)))
    with pytest.raises(OutputError, match=f"cannot write {dest} \\({os.strerror(code)}\\)"):
        with atomic_path(dest) as tmp:
            tmp.write_text("new")
    assert dest.read_text() == "old" and _names(tmp_path) == ["out.json"]


def test_atomic_path_writer_error_becomes_output_error(tmp_path):
    dest = tmp_path / "out.json"
    dest.write_text("old")
    with pytest.raises(OutputError, match="No space left on device"):
        with atomic_path(dest) as tmp:
            tmp.write_text("partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert dest.read_text() == "old" and _names(tmp_path) == ["out.json"]


def test_atomic_path_other_errors_pass_through(tmp_path):
    with pytest.raises(KeyError):
        with atomic_path(tmp_path / "x.txt") as tmp:
            tmp.write_text("partial")
            raise KeyError("bug")
    assert _names(tmp_path) == []


def test_atomic_path_writes_and_syncs(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    with atomic_path(tmp_path / "a" / "x.txt") as tmp:
        assert tmp.suffix == ".txt" and tmp.parent == tmp_path / "a"
        tmp.write_text("new")
    assert (tmp_path / "a" / "x.txt").read_text() == "new" and len(synced) >= 1
    assert oct((tmp_path / "a" / "x.txt").stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_transaction_second_write_fails_first_removed_older_kept(tmp_path):
    first, second = tmp_path / "a.png", tmp_path / "b.safetensors"
    first.write_text("old a")
    second.write_text("old b")
    with pytest.raises(OutputError, match=f"cannot write {second} \\(No space left on device\\)"):
        with OutputSet() as outputs:
            with outputs.path(first) as tmp:
                tmp.write_text("new a")
            with outputs.path(second) as tmp:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert first.read_text() == "old a" and second.read_text() == "old b"
    assert _names(tmp_path) == ["a.png", "b.safetensors"]


def test_transaction_rename_failure_puts_older_files_back(tmp_path, monkeypatch):
    a, b, c = tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "new.wav"
    a.write_text("old a")
    b.write_text("old b")
    real = os.replace

    def replace(src, dst):  # a and b are renamed into place, then c fails
        if Path(dst) == c:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError, match=f"cannot write {c}"):
        with OutputSet() as outputs:
            for path in (a, b, c):
                with outputs.path(path) as tmp:
                    tmp.write_text("new")
    monkeypatch.undo()
    assert a.read_text() == "old a" and b.read_text() == "old b" and not c.exists()
    assert _names(tmp_path) == ["a.wav", "b.wav"]


def test_transaction_commits_all(tmp_path):
    with OutputSet() as outputs:
        for name in ("x.txt", "sub/y.txt"):
            with outputs.path(tmp_path / name) as tmp:
                tmp.write_text(name)
        assert not (tmp_path / "x.txt").exists()  # nothing renamed before the end
    assert (tmp_path / "x.txt").read_text() == "x.txt" and (tmp_path / "sub" / "y.txt").read_text() == "sub/y.txt"
    assert _names(tmp_path) == ["sub", "x.txt"]


def test_transaction_refuses_the_same_file_twice(tmp_path):
    with pytest.raises(OutputError, match="written twice"):
        with OutputSet() as outputs:
            for _ in range(2):
                with outputs.path(tmp_path / "x.txt") as tmp:
                    tmp.write_text("x")
    assert _names(tmp_path) == []
