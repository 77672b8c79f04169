"""The data rule: unreadable, NaN, silent and truncated files are skipped and counted; only all-bad is an error."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from ganaudio.data.cache import NoteCache, build_note_cache
from ganaudio.data.nsynth import load_note_examples
from ganaudio.data.phrases import PhraseDataset
from ganaudio.data.screen import SkipReport, read_checked_audio, skip_lines
from ganaudio.errors import DataError, UnusableFileError
from ganaudio.representations import IFMel
from ganaudio.train.vocoder import load_audio_segments
from tests.data.bad_files import BAD_WRITERS, tone, write_nan, write_text, write_truncated
from tests.gan_fixtures import note_folder  # noqa: F401  (fixture)
from tests.musegan_fixtures import prepare_tiny


@pytest.mark.parametrize("reason", sorted(BAD_WRITERS))
def test_each_bad_kind_is_refused_with_its_reason(tmp_path, reason):
    path = BAD_WRITERS[reason](tmp_path / "bad.wav")
    with pytest.raises(UnusableFileError) as info:
        read_checked_audio(path, sample_rate=16000)
    assert info.value.reason == reason and str(path) in str(info.value)


def test_good_files_pass_and_a_whole_wav_is_not_truncated(tmp_path):
    sf.write(tmp_path / "good.wav", tone(), 16000, subtype="PCM_16")
    y = read_checked_audio(tmp_path / "good.wav", sample_rate=8000)
    assert y.dtype == np.float32 and len(y) == 4800 and np.abs(y).max() > 0.4
    cut = write_truncated(tmp_path / "cut.wav")
    with pytest.raises(UnusableFileError, match=r"% missing"):
        read_checked_audio(cut)


def test_report_counts_summarises_and_round_trips(tmp_path):
    files = [write_nan(tmp_path / "a.wav"), write_text(tmp_path / "b.wav"), tmp_path / "c.wav", tmp_path / "d.wav"]
    for f in files[2:]:
        sf.write(f, tone(), 16000)
    report = SkipReport()
    good = [p for p, _ in report.each(files, read=read_checked_audio)]
    assert good == files[2:] and report.total == 4 and report.used == 2
    assert report.summary() == "skipped 2 of 4 files: 1 unreadable, 1 NaN"
    data = json.loads(json.dumps(report.to_dict()))
    assert data["reasons"] == {"unreadable": 1, "NaN": 1} and set(data["files"]) == {str(files[0]), str(files[1])}
    assert SkipReport.from_dict(data).summary() == report.summary()
    assert skip_lines({"--fake": data, "--real": SkipReport(total=3).to_dict()}) == [f"--fake: {report.summary()}"]


def test_only_an_empty_or_all_bad_set_is_an_error(tmp_path):
    with pytest.raises(DataError, match="holds no files"):
        SkipReport().require_some(tmp_path)
    report = SkipReport()
    list(report.each([write_nan(tmp_path / "a.wav"), write_text(tmp_path / "b.wav")], read=read_checked_audio))
    with pytest.raises(DataError) as info:
        report.require_some(tmp_path)
    message = str(info.value)
    assert "none of its 2 files is usable (1 unreadable, 1 NaN" in message and "\n" not in message


def _corrupt_copy(note_folder, dest):  # noqa: F811
    shutil.copytree(note_folder, dest, ignore=shutil.ignore_patterns(".ganaudio-cache"))
    wavs = sorted((dest / "audio").glob("*.wav"))
    write_nan(wavs[0])
    write_text(wavs[1])
    write_truncated(wavs[2])
    BAD_WRITERS["silent"](wavs[3])
    return dest, [w.stem for w in wavs[:4]]


def test_note_cache_leaves_bad_notes_out_and_lists_them(note_folder, tmp_path):  # noqa: F811
    data, bad = _corrupt_copy(note_folder, tmp_path / "notes")
    notes = load_note_examples(data, split=None, pitch_range=None, sources=None)
    # the header check at listing time already catches text-as-WAV and a cut data chunk
    assert {k: v.split()[0] for k, v in notes.skipped.items()} == {bad[1]: "unreadable", bad[2]: "truncated"}
    rep = IFMel(sample_rate=16000, n_fft=256, hop_length=64, n_mels=32)
    kw = dict(representation=rep, n_frames=16, split=None, pitch_range=None, sources=None, shard_size=5)
    cache = build_note_cache(data, tmp_path / "cache", **kw)
    assert len(cache) == 12 and not {e["note_str"] for e in cache.index} & set(bad)
    assert all(np.isfinite(np.asarray(s)).all() for s in cache.shards())
    report = cache.skip_report()
    assert report.summary() == "skipped 4 of 16 notes: 1 unreadable, 1 NaN, 1 silent, 1 truncated"
    again = NoteCache.open(cache.path)                           # the list survives a reopen
    assert again.skip_report().counts() == report.counts()
    # mending a file changes the cache key: the note is read again and used
    sf.write(data / "audio" / f"{bad[0]}.wav", tone(), 16000)
    mended = build_note_cache(data, tmp_path / "cache", **kw)
    assert mended.path != cache.path and len(mended) == 13 and bad[0] in {e["note_str"] for e in mended.index}


def test_all_bad_notes_is_one_clear_error(note_folder, tmp_path):  # noqa: F811
    data = tmp_path / "notes"
    shutil.copytree(note_folder, data, ignore=shutil.ignore_patterns(".ganaudio-cache"))
    for wav in (data / "audio").glob("*.wav"):
        write_nan(wav)
    rep = IFMel(sample_rate=16000, n_fft=256, hop_length=64, n_mels=32)
    with pytest.raises(DataError, match=r"none of its 16 notes is usable \(16 NaN"):
        build_note_cache(data, tmp_path / "cache", representation=rep, n_frames=16, split=None, pitch_range=None,
                         sources=None)


def test_vocoder_segments_skip_bad_files(tmp_path):
    for i in range(3):
        sf.write(tmp_path / f"good{i}.wav", tone(1.0), 16000)
    write_nan(tmp_path / "nan.wav")
    write_text(tmp_path / "text.wav")
    segments, summary = load_audio_segments(tmp_path, sample_rate=16000, segment_length=4000, progress=False)
    assert len(segments) == 12 and summary["files"] == 3
    assert summary["skipped"]["reasons"] == {"unreadable": 1, "NaN": 1}


def test_phrase_shards_that_are_unreadable_are_skipped(tmp_path):
    from ganaudio.data.midi import prepare_midi
    from tests.musegan_fixtures import SATB, write_chorales

    prepare_tiny(tmp_path)  # (the fixture's layout) then the same pieces in small shards
    folder = tmp_path / "small"
    prepare_midi(write_chorales(tmp_path / "midi"), folder, resolution=4, bars_per_phrase=2, pitch_range=(44, 80),
                 tracks=list(SATB), shard_size=2, progress=False)
    whole = PhraseDataset(folder)
    n_whole, last = len(whole), whole[len(whole) - 1]
    index = json.loads((folder / "index.json").read_text())
    assert len(index["shards"]) >= 2
    first = folder / index["shards"][0]["file"]
    first.write_bytes(first.read_bytes()[:60])                   # cut inside the array
    dataset = PhraseDataset(folder)
    assert len(dataset) == n_whole - index["shards"][0]["count"]
    assert dataset.skipped["reasons"] == {"unreadable": 1} and bool((dataset[len(dataset) - 1] == last).all())
    for shard in index["shards"]:
        (folder / shard["file"]).unlink()
    with pytest.raises(DataError, match="none of its"):
        PhraseDataset(folder)
