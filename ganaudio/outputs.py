"""Writing outputs: one place that checks, stages, syncs and renames every file ganaudio writes.

Three pieces, used by every command that writes:

* :func:`check_output` runs before any work: the folder exists or can be made,
  a file can really be created there (a probe file, not ``os.access``, which
  says yes to root on a read-only or immutable folder), and the disk has room
  for an estimated size.
* :func:`atomic_path` writes one file: a temporary file beside the destination,
  fsync, then :func:`os.replace`. Any failure removes the temporary file and
  leaves an older file at the destination as it was.
* :class:`OutputSet` writes several files as one transaction (a picture and
  its ``--tensor``, a mix and its ``--stems``): every file is staged, and they
  are renamed into place only once all of them were written. A failure removes
  every staged file; a failure while renaming puts the older files back.

Every ``OSError`` on the way (EACCES, EROFS, ENOSPC, EPERM from ``chattr +i``,
ENOTDIR, paths under /proc) becomes an :class:`~ganaudio.errors.OutputError`
whose message is ``cannot write PATH (reason)``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ganaudio.errors import GanAudioError, OutputError

__all__ = ["check_output", "check_output_folder", "atomic_folder", "atomic_path", "OutputSet", "output_reason"]

#: Room kept free beyond an output's estimated size (file system metadata, the temporary copy's slack).
SPACE_MARGIN_BYTES = 1 << 20


def output_reason(exc: BaseException) -> str:
    """A short reason for an ``OSError`` (``strerror``, e.g. 'No space left on device'), else its text."""
    if isinstance(exc, OutputError):
        return exc.reason
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _existing_folder(path: Path, folder: Path) -> Path:
    """The nearest folder of ``folder``'s ancestry that exists; OutputError if that is a file."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(path, f"{existing} is a file, not a writable folder")
    return existing


def _make_folder(path: Path, folder: Path) -> None:
    """Create ``folder`` (and parents) for output ``path``, naming a blocking file when there is one."""
    _existing_folder(path, folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(path, f"cannot make folder {folder}: {output_reason(exc)}") from None


def _probe(path: Path, folder: Path) -> None:
    """Create and remove a small file in ``folder``: the only check that is right for root too."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".ganaudio-probe.", dir=folder)
    except OSError as exc:
        raise OutputError(path, f"{folder} is not a writable folder: {output_reason(exc)}") from None
    try:
        os.write(fd, b"\0")
    except OSError as exc:
        raise OutputError(path, output_reason(exc)) from None
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)


def _check_space(path: Path, folder: Path, estimated_bytes: int) -> None:
    if estimated_bytes <= 0:
        return
    try:
        free = shutil.disk_usage(folder).free
    except OSError:  # no figure (some virtual file systems): the write itself will tell
        return
    if free < estimated_bytes + SPACE_MARGIN_BYTES:
        raise OutputError(path, f"needs about {_size(estimated_bytes)}, {_size(free)} free on its disk")


def check_output(path: str | os.PathLike, *, estimated_bytes: int = 0) -> Path:
    """Check, before any work, that the file ``path`` can be written (its folder may be missing).

    Nothing is left behind: a missing folder is probed through its nearest
    existing parent and made only when the file is written.

    Parameters
    ----------
    path : path-like
        The output file.
    estimated_bytes : int
        Expected size; refused when the disk has less free space than this (plus 1 MiB).

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        ``cannot write PATH (reason)``: the path is a folder, a parent is a file,
        the folder cannot be made or written (read-only, immutable, /proc), or
        the disk is too full.

    Examples
    --------
    >>> check_output("out/mix.wav", estimated_bytes=4 * 16000 * 60)
    PosixPath('out/mix.wav')
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(path, "it is a folder, expected a file name")
    folder = _existing_folder(path, path.parent)  # missing folders are made by the write, not by the check
    _probe(path, folder)
    _check_space(path, folder, int(estimated_bytes))
    return path


def check_output_folder(folder: str | os.PathLike, *, estimated_bytes: int = 0, replace: bool | None = None) -> Path:
    """:func:`check_output` for an output folder (``--stems``, ``timbres -o``), existing or to be made.

    ``replace=False`` also refuses a folder that exists and holds anything (an
    OutputError whose ``remedy`` is ``"replace-folder"``): the check for
    outputs that :func:`atomic_folder` writes as a whole.

    Examples
    --------
    >>> check_output_folder("out/stems")
    PosixPath('out/stems')
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(folder, "it is a file, expected a folder")
    if replace is False:
        _refuse_full(folder)
    existing = _existing_folder(folder, folder)
    _probe(folder, existing)
    _check_space(folder, existing, int(estimated_bytes))
    return folder


def _refuse_full(folder: Path) -> None:
    try:
        full = folder.is_dir() and any(folder.iterdir())
    except OSError as exc:
        raise OutputError(folder, output_reason(exc)) from None
    if full:
        err = OutputError(folder, "the folder exists and is not empty")
        err.remedy = "replace-folder"
        raise err


@contextmanager
def atomic_folder(folder: str | os.PathLike, *, replace: bool = False) -> Iterator[Path]:
    """Yield a new temporary folder beside ``folder``; rename it onto ``folder`` when the block succeeds.

    The folder appears complete or not at all: an error inside the block (or
    in the rename) removes the temporary folder and leaves an older
    ``folder`` as it was. An older ``folder`` that holds files is refused
    (OutputError with ``remedy="replace-folder"``) unless ``replace``, and
    then replaced as a whole (its old files do not linger beside the new ones).

    Examples
    --------
    >>> with atomic_folder("out/piano") as tmp:
    ...     (tmp / "piano.sfz").write_text(text)
    ...     save_audio(tmp / "samples" / "c4.wav", y, 44100)
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(folder, "it is a file, expected a folder")
    if not replace:
        _refuse_full(folder)
    _make_folder(folder, folder.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        raise OutputError(folder, output_reason(exc)) from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        _swap_folder(tmp, folder)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        err = _as_output_error(exc, folder)
        if err is exc:
            raise
        raise err from exc
    _sync_folder(folder.parent)


def _swap_folder(tmp: Path, folder: Path) -> None:
    """Rename ``tmp`` onto ``folder``, moving an older ``folder`` aside first and removing it after."""
    backup = None
    if folder.exists():
        backup = folder.with_name(f".{folder.name}.{os.getpid()}.old")
        shutil.rmtree(backup, ignore_errors=True)
        os.replace(folder, backup)
    try:
        os.replace(tmp, folder)
    except BaseException:
        if backup is not None:
            os.replace(backup, folder)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def _stage(path: Path) -> Path:
    """A new empty temporary file beside ``path`` that keeps its suffix (writers pick formats by suffix)."""
    _make_folder(path, path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise OutputError(path, output_reason(exc)) from None
    os.close(fd)
    return Path(tmp)


def _finish(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the usual file mode and flush it to disk (fsync) before it may be renamed."""
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise OutputError(path, output_reason(exc)) from None


def _sync_folder(folder: Path) -> None:
    """fsync a folder so a rename survives a power cut; best effort (some file systems refuse it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _as_output_error(exc: BaseException, path: Path) -> BaseException:
    """``exc`` itself when it is a ganaudio error or not an OS-level failure, else an OutputError for ``path``."""
    if isinstance(exc, GanAudioError) or not isinstance(exc, OSError | MemoryError):
        return exc
    if isinstance(exc, MemoryError):
        return OutputError(path, "out of memory while writing")
    return OutputError(path, output_reason(exc))


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; fsync and rename it onto ``path`` on success.

    The temporary file keeps the destination's suffix so writers that choose a
    format by extension still work. On any exception it is removed and the
    destination is left as it was; an ``OSError`` (from making the folder, the
    temporary file, the writer, fsync or the rename) is raised as
    :class:`~ganaudio.errors.OutputError`.

    Examples
    --------
    >>> with atomic_path("out/picture.png") as tmp:
    ...     figure.savefig(tmp)
    """
    with OutputSet() as outputs, outputs.path(path) as tmp:
        yield tmp


class OutputSet:
    """Several outputs written as one transaction: all renamed into place, or none.

    Use it as a context manager; :meth:`path` stages one output. When the
    ``with`` block ends without an error every staged file is fsynced and
    renamed onto its destination. An error anywhere removes every staged file
    and leaves older files at the destinations untouched.

    Examples
    --------
    >>> with OutputSet() as outputs:
    ...     with outputs.path("out/picture.png") as tmp:
    ...         figure.savefig(tmp)
    ...     with outputs.path("out/tensor.safetensors") as tmp:
    ...         save_file(tensors, tmp)
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temporary file, destination)

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()
            return
        self.commit()

    @contextmanager
    def path(self, path: str | os.PathLike) -> Iterator[Path]:
        """Stage ``path``: yield a temporary file to write it into; a write error names ``path``."""
        path = Path(path)
        if any(dest == path for _, dest in self._staged):
            raise OutputError(path, "the same file is written twice in one command")
        tmp = _stage(path)
        self._staged.append((tmp, path))
        try:
            yield tmp
        except BaseException as exc:
            err = _as_output_error(exc, path)
            if err is exc:
                raise
            raise err from exc
        _finish(tmp, path)

    def discard(self) -> None:
        """Remove every staged temporary file (destinations are untouched)."""
        for tmp, _ in self._staged:
            _unlink(tmp)
        self._staged.clear()

    def commit(self) -> None:
        """Rename every staged file onto its destination; on a failure put the older files back."""
        staged, self._staged = self._staged, []
        many = len(staged) > 1  # one file needs no backup: a failed rename leaves the older file in place
        done: list[tuple[Path, Path | None]] = []  # (destination, hard link to its older file or None)
        try:
            for tmp, dest in staged:
                backup = _backup(dest) if many else None
                try:
                    os.replace(tmp, dest)
                except OSError as exc:
                    if backup is not None:
                        _unlink(backup)
                    raise OutputError(dest, output_reason(exc)) from None
                done.append((dest, backup))
        except BaseException:
            for tmp, _ in staged:
                _unlink(tmp)
            _restore(done)
            raise
        for _, backup in done:
            if backup is not None:
                _unlink(backup)
        for folder in {dest.parent for _, dest in staged}:
            _sync_folder(folder)


def _backup(dest: Path) -> Path | None:
    """A hard link to the file at ``dest`` (None if there is none or links are unsupported)."""
    if not dest.is_file():
        return None
    backup = dest.with_name(f".{dest.name}.{os.getpid()}.old")
    _unlink(backup)
    try:
        os.link(dest, backup)
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.EXDEV, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            return None
        raise OutputError(dest, output_reason(exc)) from None
    return backup


def _restore(replaced: list[tuple[Path, Path | None]]) -> None:
    """Undo renames already done: the older file back, or no file where there was none."""
    for dest, backup in reversed(replaced):
        with contextlib.suppress(OSError):
            if backup is not None:
                os.replace(backup, dest)
            else:
                dest.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _size(n: float) -> str:
    """``n`` bytes in decimal units: '512 bytes', '3.2 MB'."""
    units = ("bytes", "KB", "MB", "GB", "TB")
    k = 0
    while n >= 1000 and k < len(units) - 1:
        n, k = n / 1000, k + 1
    return f"{n:.0f} bytes" if k == 0 else f"{n:.1f} {units[k]}"
