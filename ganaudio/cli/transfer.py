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


def _silent(y) -> bool:
    import numpy as np

    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) <= 10 ** (SILENCE_DB / 20)


def _cyclegan(input_path: Path, *, model: str, direction: str, vocoder: str, device):
    import numpy as np

    try:
        from ganaudio.transfer.cyclegan import load_cyclegan
    except ImportError as exc:
        raise ParameterError(f"--method cyclegan is not available in this installation ({exc})") from None
    from ganaudio.io import load_audio

    transfer = load_cyclegan(model, device=device)
    way = transfer.direction(direction)
    y, sr = load_audio(input_path, sample_rate=transfer.sample_rate)
    source, target = transfer.domains if way == "a2b" else transfer.domains[::-1]
    if _silent(y):
        click.echo(f"Warning: {input_path} is silent (below {SILENCE_DB:.0f} dBFS); writing silence", err=True)
        return np.zeros_like(y), sr, f"silent input, {source} -> {target}"
    out = transfer.convert(y, direction=way, vocoder=_vocoder(vocoder, device), progress=True)
    return out, sr, f"CycleGAN {source} -> {target}"


def _resynth(input_path: Path, *, synth_model: str | None, timbre: str, midi: Path | None, device):
    from ganaudio.api import load
    from ganaudio.cli.synth import _timbre
    from ganaudio.io import load_audio
    from ganaudio.transfer.resynth import notes_to_midi, resynthesize

    synth = load(synth_model, resolve_device(device))
    chosen = _timbre(synth, timbre, option="--timbre")
    y, sr = load_audio(input_path, sample_rate=synth.sample_rate)
    out, sr, notes = resynthesize(y, sample_rate=sr, timbre=chosen, synth=synth, progress=True)
    transcription = notes_to_midi(notes) if midi is not None else None  # written beside the audio, as one set
    where = f", MIDI {midi}" if midi is not None else ""
    if not notes:  # resynthesize has logged why (silent or unpitched input)
        return out, sr, f"no pitched notes in the input: wrote silence{where}", transcription
    return out, sr, f"{len(notes)} notes (monophonic transcription) played by {chosen}{where}", transcription


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
              help="resynth: GANSynth model [default: the bundled gansynth_tiny].")
@click.option("--midi", type=click.Path(path_type=Path), default=None,
              help="resynth: also write the transcribed notes as MIDI.")
@device_option
def transfer_cmd(input_path, output, method, model, direction, vocoder, timbre, synth_model, midi, device) -> None:
    """Play a recording back in another instrument's voice.

    Input may be stereo (mixed down) at any sample rate (resampled to the
    model's). Silent input gives silent output of the same length with a
    warning. The resynth method transcribes one note at a time (monophonic:
    polyphonic input keeps only its leading voice).

    \b
    Examples:
      ganaudio transfer piano.wav -o violin.wav --model runs/piano2violin --direction violin
      ganaudio transfer violin.wav -o piano.wav --model runs/piano2violin --direction b2a --vocoder griffinlim
      ganaudio transfer flute.wav -o gan.wav --method resynth --timbre 7 --midi flute.mid
      ganaudio transfer song.wav -o gan.wav --timbre bank/seed_0011.timbre.json
    """
    from ganaudio.cli.synth import AUDIO, _check_output, _save
    from ganaudio.errors import AudioFileError
    from ganaudio.outputs import OutputSet

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
    transcription = None
    if method == "cyclegan":
        audio, sr, what = _cyclegan(input_path, model=model, direction=direction, vocoder=vocoder,
                                    device=resolve_device(device))
    else:
        audio, sr, what, transcription = _resynth(input_path, synth_model=synth_model, timbre=timbre or "0",
                                                  midi=midi, device=device)
    with OutputSet() as outputs:  # the audio and its --midi are renamed into place together, or neither
        _save(output, audio, sr, outputs=outputs)
        if transcription is not None:
            with outputs.path(midi) as tmp:
                transcription.write(str(tmp))
    click.echo(f"{output}: {len(audio) / sr:.1f} s at {sr} Hz, {what}")
