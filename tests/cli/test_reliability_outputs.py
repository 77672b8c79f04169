"""Issue 17: every write failure is one ``Error: cannot write PATH (reason)`` line, exit 2, older files intact.

Failures are made deterministically (tests run as root, so chmod proves nothing): an output whose parent
is a regular file, a path under /proc, and ``os.replace`` / ``os.fsync`` / writers monkeypatched to raise
ENOSPC (a full disk) or EROFS (a read-only file system).
"""

from __future__ import annotations

import errno
import os
import shutil

import pretty_midi
import pytest

from tests.cli.reliability import SAMPLES, assert_one_error, no_temp_files, old_file, run

WAV = SAMPLES / "trumpet_c4.wav"
MID = SAMPLES / "bach_chorale.mid"


def _raise(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return fail


@pytest.fixture
def blocker(tmp_path):
    """A regular file standing where an output folder would be."""
    path = tmp_path / "blocker"
    path.write_text("a file, not a folder")
    return path


@pytest.mark.parametrize("args", [
    ["analyze", WAV, "-o", "{bad}/out.png"],
    ["analyze", WAV, "-o", "{ok}/out.png", "--tensor", "{bad}/t.safetensors"],
    ["resynth", WAV, "-o", "{bad}/out.wav", "--iters", 1],
    ["vocode", WAV, "-o", "{bad}/out.wav"],
    ["midi2roll", MID, "-o", "{bad}/x.npz"],
    ["evaluate", "render", MID, WAV, "-o", "{bad}/x.json"],
    ["transfer", WAV, "-o", "{ok}/o.wav", "--midi", "{bad}/x.mid"],
    ["generate", "--pitch", 60, "-o", "{bad}/note.wav"],
    ["interpolate", "--pitch", 60, "--from", 1, "--to", 2, "-o", "{bad}/sweep.wav"],
    ["timbres", "--count", 2, "-o", "{bad}/bank"],
    ["render", MID, "-o", "{ok}/mix.wav", "--png", "{bad}/mix.png"],
    ["render", MID, "-o", "{ok}/mix.wav", "--stems", "{bad}/stems"],
    ["compose", "--bars", 4, "-o", "{bad}/piece.mid"],
    ["compose", "--bars", 4, "-o", "{ok}/piece.mid", "--render", "{bad}/piece.wav"],
    ["evaluate", "rolls", "--real", MID, "--fake", MID, "-o", "{bad}/rolls.json"],
    ["evaluate", "notes", "--real", "{ok}", "--model", "gansynth_tiny", "-o", "{bad}/report"],
])
@pytest.mark.parametrize("where", ["file_parent", "proc"])
def test_unwritable_output_is_one_error_before_any_work(args, where, tmp_path, blocker):
    bad = blocker if where == "file_parent" else "/proc/ganaudio-test"
    ok = tmp_path / "ok"
    ok.mkdir()
    keep = ok / "keep.txt"
    before = old_file(keep)
    result = run(*[str(a).format(bad=bad, ok=ok) for a in args])
    assert_one_error(result, "cannot write", str(bad))
    assert keep.read_bytes() == before
    assert sorted(p.name for p in ok.iterdir()) == ["keep.txt"]  # nothing written beside it, no temp file
    assert blocker.read_text() == "a file, not a folder"


def test_midi2roll_under_proc():
    result = run("midi2roll", MID, "-o", "/proc/x.npz")
    assert_one_error(result, "cannot write /proc/x.npz (")


@pytest.mark.parametrize("patched,code", [("fsync", errno.ENOSPC), ("replace", errno.EROFS)])
def test_disk_full_or_read_only_keeps_the_older_picture(patched, code, tmp_path, monkeypatch):
    out = tmp_path / "small" / "existing.png"
    before = old_file(out)
    monkeypatch.setattr(os, patched, _raise(code))
    result = run("analyze", WAV, "-o", out)
    assert_one_error(result, f"cannot write {out} ({os.strerror(code)})")
    assert out.read_bytes() == before
    assert no_temp_files(out.parent)


def test_second_output_failing_removes_the_first_and_keeps_older_files(tmp_path, monkeypatch):
    import safetensors.torch

    picture, tensor = tmp_path / "o" / "a.png", tmp_path / "o" / "t.safetensors"
    old_picture, old_tensor = old_file(picture, b"old picture"), old_file(tensor, b"old tensor")
    monkeypatch.setattr(safetensors.torch, "save_file", _raise(errno.ENOSPC))
    result = run("analyze", WAV, "-o", picture, "--tensor", tensor)
    assert_one_error(result, f"cannot write {tensor} (No space left on device)")
    assert picture.read_bytes() == old_picture and tensor.read_bytes() == old_tensor
    assert no_temp_files(picture.parent)


def test_audio_writer_failing_mid_file_keeps_the_older_file(tmp_path, monkeypatch):
    import soundfile as sf

    out = tmp_path / "out.wav"
    before = old_file(out)

    real_write = sf.SoundFile.write

    def half_written(self, data):  # audio is streamed block by block: the disk fills after a first block
        real_write(self, data[:10])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sf.SoundFile, "write", half_written)
    result = run("resynth", WAV, "-o", out, "--repr", "stft", "--iters", 1)
    assert_one_error(result, f"cannot write {out} (No space left on device)")
    assert out.read_bytes() == before
    assert no_temp_files(tmp_path)


def test_midi_output_rename_failing_keeps_older_midi(tmp_path, monkeypatch):
    out, roll = tmp_path / "x.mid", _roll(tmp_path)
    before = old_file(out)
    monkeypatch.setattr(os, "replace", _raise(errno.EPERM))  # what `chattr +i` on the folder gives root
    result = run("roll2midi", roll, "-o", out)
    assert_one_error(result, f"cannot write {out} (Operation not permitted)")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npz", "x.mid"]


def _roll(tmp_path):
    roll = tmp_path / "in.npz"
    result = run("midi2roll", MID, "-o", roll)
    assert result.exit_code == 0, result.output
    return roll


@pytest.mark.parametrize("args,needs", [
    (["generate", "--pitch", 60, "--duration", 60], "11.7 MB"),  # 61 s of float32 at up to 48 kHz
    (["resynth", WAV], "128.0 KB"),  # 2 s of float32 at 16 kHz
    (["transfer", WAV], "128.0 KB"),
])
def test_disk_too_small_for_the_estimate_is_refused_up_front(args, needs, tmp_path, monkeypatch):
    out = tmp_path / "note.wav"
    before = old_file(out)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=1000))
    result = run(*args, "-o", out)
    assert_one_error(result, f"cannot write {out} (needs about {needs}, 1.0 KB free on its disk)")
    assert out.read_bytes() == before


def test_stray_os_error_is_one_line_and_debug_shows_it(tmp_path, monkeypatch):
    import ganaudio.audio_stream

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", "locked.wav")

    monkeypatch.setattr(ganaudio.audio_stream, "audio_blocks", denied)  # analyze reads its input block by block
    result = run("analyze", WAV, "-o", tmp_path / "x.png")
    assert_one_error(result, "locked.wav: Permission denied")
    result = run("--debug", "analyze", WAV, "-o", tmp_path / "x.png")
    assert isinstance(result.exception, PermissionError)


def test_render_stems_and_picture_are_one_set(tmp_path, monkeypatch):
    """A failure writing the picture after the mix and stems were staged leaves none of them."""
    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes.append(pretty_midi.Note(velocity=90, pitch=60, start=0.0, end=0.3))
    midi.instruments.append(piano)
    midi.write(str(tmp_path / "one.mid"))
    mix = tmp_path / "mix.wav"
    before = old_file(mix)
    import matplotlib.figure

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _raise(errno.ENOSPC))
    result = run("render", tmp_path / "one.mid", "-o", mix, "--stems", tmp_path / "stems", "--png",
                 tmp_path / "mix.png")
    assert_one_error(result, f"cannot write {tmp_path / 'mix.png'} (No space left on device)")
    assert mix.read_bytes() == before
    assert not (tmp_path / "mix.png").exists()
    assert not (tmp_path / "stems").exists() or list((tmp_path / "stems").iterdir()) == []
    assert no_temp_files(tmp_path)
