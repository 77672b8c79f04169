"""ganaudio CLI: transfer (play a recording back in another instrument's voice)."""

from __future__ import annotations

from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.cli.common import audio_bytes, device_option, resolve_device
from ganaudio.errors import ParameterError

METHODS = ("cyclegan", "resynth")
SILENCE_DB = -60.0


def _vocoder(spec: str, device):
    if spec in ("auto", "griffinlim"):
        return spec
    from ganaudio.vocoders.gan import load_vocoder

    return load_vocoder(spec, device=device)


def _cyclegan(input_path: Path, output: Path, *, model: str, direction: str, vocoder: str, device):
    """Convert ``input_path`` block by block into ``output``; ``(seconds, sample rate, what was done)``."""
    import numpy as np

    try:
        from ganaudio.transfer.cyclegan import SILENT_PEAK, load_cyclegan
    except ImportError as exc:
        raise ParameterError(f"--method cyclegan is not available in this installation ({exc})") from None
    from ganaudio.audio_stream import audio_blocks, open_audio_writer, stream_length

    transfer = load_cyclegan(model, device=device)
    way = transfer.direction(direction)
    sr = transfer.sample_rate
    n, _ = stream_length(input_path, sample_rate=sr)
    source, target = transfer.domains if way == "a2b" else transfer.domains[::-1]
    energy = peak = 0.0
    for block in audio_blocks(input_path, sample_rate=sr):  # a cheap first read: is the input silent?
        energy += float(np.square(block, dtype=np.float64).sum())
        peak = max(peak, float(np.abs(block).max()))
    silent = float(np.sqrt(energy / max(n, 1))) <= 10 ** (SILENCE_DB / 20) or peak < SILENT_PEAK
    with open_audio_writer(output, sr, clip=True) as out:
        if silent:
            click.echo(f"Warning: {input_path} is silent (below {SILENCE_DB:.0f} dBFS); writing silence", err=True)
            for start in range(0, n, 1 << 16):
                out.write(np.zeros(min(1 << 16, n - start), np.float32))
            return n / sr, sr, f"silent input, {source} -> {target}"
        for piece in transfer.convert_blocks(audio_blocks(input_path, sample_rate=sr), length=n, direction=way,
                                             vocoder=_vocoder(vocoder, device), progress=True):
            out.write(piece)
    return n / sr, sr, f"CycleGAN {source} -> {target}"


def _resynth(input_path: Path, output: Path, *, synth_model: str | None, timbre: str, midi: Path | None, device):
    from ganaudio.api import load
    from ganaudio.audio_stream import stream_length
    from ganaudio.cli.synth import _timbre
    from ganaudio.transfer.resynth import resynthesize_file

    synth = load(synth_model, resolve_device(device))
    chosen = _timbre(synth, timbre, option="--timbre")
    n, sr = stream_length(input_path, sample_rate=synth.sample_rate)
    notes = resynthesize_file(input_path, output, timbre=chosen, synth=synth, midi_out=midi, progress=True)
    where = f", MIDI {midi}" if midi is not None else ""
    if not notes:  # resynthesize_file has logged why (silent or unpitched input)
        return n / sr, sr, f"no pitched notes in the input: wrote silence{where}"
    return n / sr, sr, f"{len(notes)} notes (monophonic transcription) played by {chosen}{where}"


@main.command("transfer")
@click.argument("input_path", metavar="IN.wav", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Audio file to write.")
@click.option("--method", type=click.Choice(METHODS), default=None,
              help="cyclegan: a trained CycleGAN maps the spectrogram; resynth: transcribe to notes and play them "
                   "with a GANSynth timbre [default: cyclegan when --model is given, else resynth].")
@click.option("--model", default=None, metavar="RUN|NAME", help="CycleGAN run, checkpoint or bundled model name.")
@click.option("--direction", default="a2b", show_default=True, metavar="a2b|b2a|DOMAIN",
              help="CycleGAN: which way to convert, or the name of the target domain.")
@click.option("--vocoder", default="auto", show_default=True, metavar="auto|griffinlim|PATH",
              help="CycleGAN: how the converted mel spectrogram becomes sound (auto: the GAN vocoder that fits).")
@click.option("--timbre", default=None, metavar="SEED|FILE", help="resynth: timbre seed or timbre file [default 0].")
@click.option("--synth", "synth_model", default=None, metavar="NAME|DIR",
              help="resynth: note model, GANSynth or harmonic-plus-noise [default: the bundled gansynth_tiny].")
@click.option("--midi", type=click.Path(path_type=Path), default=None,
              help="resynth: also write the transcribed notes as MIDI.")
@device_option
def transfer_cmd(input_path, output, method, model, direction, vocoder, timbre, synth_model, midi, device) -> None:
    """Play a recording back in another instrument's voice.

    Input may be stereo (mixed down) at any sample rate (resampled to the
    model's). It is read, converted and written block by block, so memory does
    not grow with its length; progress shows on stderr. Silent input gives
    silent output of the same length with a warning. The resynth method transcribes one note at a time (monophonic:
    polyphonic input keeps only its leading voice).

    \b
    Examples:
      ganaudio transfer piano.wav -o violin.wav --model runs/piano2violin --direction violin
      ganaudio transfer violin.wav -o piano.wav --model runs/piano2violin --direction b2a --vocoder griffinlim
      ganaudio transfer flute.wav -o gan.wav --method resynth --timbre 7 --midi flute.mid
      ganaudio transfer song.wav -o gan.wav --timbre bank/seed_0011.timbre.json
    """
    from ganaudio.cli.synth import AUDIO, _check_output
    from ganaudio.errors import AudioFileError

    method = method or ("cyclegan" if model is not None else "resynth")
    if method == "cyclegan":
        unused = [name for name, value in (("--timbre", timbre), ("--synth", synth_model), ("--midi", midi))
                  if value is not None]
        if unused:
            raise ParameterError(f"{', '.join(unused)} belong to --method resynth, not cyclegan")
        if model is None:
            raise ParameterError("--method cyclegan needs --model RUN|NAME (a CycleGAN from `ganaudio train cyclegan`)")
    elif model is not None or direction != "a2b" or vocoder != "auto":
        raise ParameterError("--model, --direction and --vocoder belong to --method cyclegan, not resynth "
                             "(the GANSynth model is --synth)")
    if not input_path.is_file():
        raise AudioFileError(f"{input_path}: no such audio file")
    _check_output(output, suffixes=AUDIO, estimated_bytes=audio_bytes(input_path))
    if midi is not None:
        _check_output(midi, suffixes=(".mid", ".midi"), what="--midi")
    if method == "cyclegan":
        seconds, sr, what = _cyclegan(input_path, output, model=model, direction=direction, vocoder=vocoder,
                                      device=resolve_device(device))
    else:
        seconds, sr, what = _resynth(input_path, output, synth_model=synth_model, timbre=timbre or "0", midi=midi,
                                     device=device)
    click.echo(f"{output}: {seconds:.1f} s at {sr} Hz, {what}")
