"""ganaudio CLI: info, analyze and resynth (audio front ends and their inverses)."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.cli.common import audio_bytes, check_output_file, device_option, progress_blocks, resolve_device
from ganaudio.errors import ParameterError

REPR_CHOICES = ["stft", "mel", "if", "ifmel", "cqt"]
SOUNDFONT_DIRS = ("/usr/share/sounds/sf2", "/usr/share/soundfonts")


def representation_options(func):
    """Options shared by analyze and resynth to build a representation."""
    options = [
        click.option("--repr", "repr_name", type=click.Choice(REPR_CHOICES), default="ifmel", show_default=True,
                     help="Representation."),
        click.option("--sample-rate", type=int, default=None, help="Resample to this rate (Hz); default: the file's."),
        click.option("--n-fft", type=int, default=1024, show_default=True, help="FFT size (STFT family)."),
        click.option("--hop", "hop_length", type=int, default=None,
                     help="Hop in samples (default 256; cqt: 64, which its inverse needs)."),
        click.option("--n-mels", type=int, default=None,
                     help="Mel bands (mel: 80, ifmel: n_fft/2, GANSynth's setting)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_representation(repr_name: str, sample_rate: int, n_fft: int, hop_length: int | None, n_mels: int | None):
    """The representation the CLI options describe; nonsense sizes are refused naming the option."""
    from ganaudio.limits import MAX_N_FFT
    from ganaudio.representations import make

    if repr_name == "cqt":
        if hop_length is not None and hop_length < 1:
            raise ParameterError(f"--hop must be >= 1, got {hop_length}")
        return make("cqt", sample_rate=sample_rate, hop_length=64 if hop_length is None else hop_length)
    hop_length = 256 if hop_length is None else hop_length
    if not 16 <= n_fft <= MAX_N_FFT:
        raise ParameterError(f"--n-fft must be between 16 and {MAX_N_FFT} samples, got {n_fft}")
    if not 1 <= hop_length <= n_fft:
        raise ParameterError(f"--hop (hop_length) must be between 1 and --n-fft ({n_fft}) so frames overlap and "
                             f"invert, got "
                             f"{hop_length}" + (f" (the default; lower it with --hop {n_fft // 4})"
                                                if hop_length == 256 else ""))
    kwargs = dict(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length)
    if repr_name in ("mel", "ifmel"):
        n_mels = (80 if repr_name == "mel" else n_fft // 2) if n_mels is None else n_mels
        if not 1 <= n_mels <= n_fft // 2 + 1:
            raise ParameterError(f"--n-mels must be between 1 and {n_fft // 2 + 1} (the FFT bins of --n-fft "
                                 f"{n_fft}), got {n_mels}")
        kwargs["n_mels"] = n_mels
    elif n_mels is not None:
        raise ParameterError(f"--n-mels applies to mel and ifmel, not {repr_name}")
    return make(repr_name, **kwargs)


@main.command("info")
def info_cmd() -> None:
    """Show versions, devices, SoundFonts found and representations.

    \b
    Example:
      ganaudio info
    """
    import librosa
    import torch
    import torchaudio

    from ganaudio import __version__
    from ganaudio.representations import AUDIO_REPRESENTATIONS

    click.echo(f"ganaudio {__version__} (Python {platform.python_version()}, {platform.machine()})")
    click.echo(f"torch {torch.__version__}, torchaudio {torchaudio.__version__}, librosa {librosa.__version__}")
    cuda = f"{torch.cuda.device_count()} GPU(s): {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "none"
    click.echo(f"devices: cpu ({torch.get_num_threads()} threads); cuda: {cuda}")
    fonts = sorted(str(p) for d in SOUNDFONT_DIRS if Path(d).is_dir() for p in Path(d).glob("*.sf2"))
    click.echo("soundfonts: " + (", ".join(fonts) if fonts else "none found (apt-get install fluid-soundfont-gm)"))
    click.echo("representations: " + ", ".join(sorted(AUDIO_REPRESENTATIONS)) + ", pianoroll")
    from ganaudio.vocoders import bundled_vocoders

    click.echo("vocoders: phase, griffinlim, phase-griffinlim, gan (" + (", ".join(bundled_vocoders()) or "none bundled")
               + ")")


MAX_PICTURE_FRAMES = 2000  # columns of an analysis picture; longer recordings are pooled down to this
CQT_WORK = 8  # librosa's CQT works in complex128 with several copies: about this many times its float32 output

max_memory_option = click.option(
    "--max-memory", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True, metavar="GB",
    help="Largest in-memory result allowed for work that cannot stream (--tensor, cqt); larger is refused.")


def check_memory(needed: int, max_memory_gb: float, *, what: str, fix: str) -> None:
    """Refuse, before any work, an in-memory result of ``needed`` bytes above ``--max-memory``."""
    if needed > max_memory_gb * 1e9:
        size = f"{needed / 1e9:.1f} GB" if needed >= 1e9 else f"{needed / 1e6:.0f} MB"
        raise ParameterError(f"{what} needs about {size} in memory, above --max-memory {max_memory_gb:g} GB; {fix}")


@main.command("analyze")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Picture to write (.png, .pdf or .svg).")
@representation_options
@click.option("--tensor", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also save the tensor (.pt, loadable with torch.load(weights_only=True), or .safetensors).")
@max_memory_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@device_option
def analyze_cmd(input_path, output, repr_name, sample_rate, n_fft, hop_length, n_mels, tensor, max_memory, quiet,
                device) -> None:
    """Draw a labelled spectrogram of an audio file (time and frequency axes, colour bar).

    The file is analysed block by block, so memory does not grow with its
    length; a picture of a long recording averages neighbouring frames so it
    keeps at most 2,000 columns. --tensor keeps every frame in memory and is
    refused above --max-memory (as is the CQT, which does not stream).

    \b
    Examples:
      ganaudio analyze samples/trumpet_c4.wav -o out/trumpet_ifmel.png --repr ifmel
      ganaudio analyze samples/speech.wav -o out/speech_cqt.png --repr cqt --tensor out/speech_cqt.pt
    """
    import torch

    from ganaudio.audio_stream import DEFAULT_BLOCK, audio_blocks, stream_length
    from ganaudio.io import audio_info, load_audio
    from ganaudio.outputs import OutputSet
    from ganaudio.plotting import plot_representation
    from ganaudio.representations.streaming import FramePooler, encode_blocks, estimate_bytes, streams

    if output.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ParameterError(f"{output}: picture must end in .png, .pdf or .svg")
    if tensor is not None and tensor.suffix not in (".pt", ".safetensors"):
        raise ParameterError(f"{tensor}: tensor file must end in .pt or .safetensors")
    dev = resolve_device(device)
    # the options are checked on the file's own rate before the audio is read
    info = audio_info(input_path)
    rep = build_representation(repr_name, sample_rate or info.samplerate, n_fft, hop_length, n_mels)
    check_output_file(output)
    if tensor is not None:
        check_output_file(tensor, option="--tensor", estimated_bytes=estimate_bytes(rep, stream_length(
            input_path, sample_rate=sample_rate)[0]))
    n, sr = stream_length(input_path, sample_rate=sample_rate)
    rep = build_representation(repr_name, sr, n_fft, hop_length, n_mels)
    minutes = f"{repr_name} of {n / sr / 60:.1f} min"
    if tensor is not None:
        check_memory(estimate_bytes(rep, n), max_memory, what=f"--tensor ({minutes})",
                     fix="analyze a shorter excerpt, raise --max-memory, or drop --tensor")
    if not streams(rep):
        check_memory(CQT_WORK * estimate_bytes(rep, n), max_memory, what=f"the CQT ({minutes}, not computed in "
                     "blocks)", fix="use an STFT representation (stft, mel, if, ifmel), which streams, or a shorter "
                     "excerpt")
        y, sr = load_audio(input_path, sample_rate=sample_rate)
        spec = rep.encode(torch.from_numpy(y).to(dev)).cpu()
        picture, pool = spec, 1
    else:
        total = rep.frames_for(n)
        pool = max(1, -(-total // MAX_PICTURE_FRAMES))
        pooler = FramePooler(pool, frames=total)
        spec = torch.empty(rep.channels, rep.n_bins, total) if tensor is not None else None  # one allocation
        blocks = progress_blocks(audio_blocks(input_path, sample_rate=sample_rate), total=n, scale=1 / sr,
                                 desc="analysing", quiet=quiet, min_total=2 * DEFAULT_BLOCK)
        done = 0
        for frames in encode_blocks(rep, blocks):
            pooler.push(frames)
            if spec is not None:
                spec[..., done:done + frames.shape[-1]] = frames
            done += frames.shape[-1]
        picture = pooler.finish()
    figure = plot_representation(picture, rep, title=f"{input_path.name} ({repr_name})", frame_step=pool)
    with OutputSet() as outputs:  # the picture and the tensor are renamed into place together, or neither
        with outputs.path(output) as tmp:
            figure.savefig(tmp, dpi=120, bbox_inches="tight")
        if tensor is not None:
            _save_tensor(tensor, spec, rep.config(), outputs=outputs)
    shape = "x".join(str(s) for s in (rep.channels, rep.n_bins, rep.frames_for(n)))
    click.echo(f"{input_path.name}: {n / sr:.2f} s at {sr} Hz -> {repr_name} {shape}; wrote {output}"
               + (f" and {tensor}" if tensor else ""))


def _save_tensor(path: Path, spec, config: dict, *, outputs) -> None:
    """Stage ``spec`` as a .safetensors or .pt file in the :class:`~ganaudio.outputs.OutputSet` ``outputs``."""
    import torch
    from safetensors.torch import save_file

    meta = {"representation": json.dumps(config)}
    with outputs.path(path) as tmp:
        if path.suffix == ".safetensors":
            save_file({"spec": spec.contiguous()}, str(tmp), metadata=meta)
        elif path.suffix == ".pt":
            torch.save({"spec": spec, **meta}, tmp)
        else:
            raise ParameterError(f"{path}: tensor file must end in .pt or .safetensors")


@main.command("resynth")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Audio file to write (.wav, .flac or .ogg).")
@representation_options
@click.option("--vocoder", default=None,
              help="Inversion: phase (one shot), griffinlim (random start), phase-griffinlim, or a GAN vocoder "
                   "(gan = the bundled vocoder_16k, a bundled name or a vocoder folder; it sets the mel analysis). "
                   "Default: phase-griffinlim where the representation has phase, else griffinlim.")
@click.option("--iters", type=int, default=None, help="Griffin-Lim iterations (default 32; 8 from phase).")
@max_memory_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@device_option
def resynth_cmd(input_path, output, repr_name, sample_rate, n_fft, hop_length, n_mels, vocoder, iters, max_memory,
                quiet, device):
    """Encode audio to a representation and decode it back, printing SNR and spectral convergence.

    Work runs in blocks of frames, each with the context its inversion needs,
    and streams to the output file, so memory does not grow with the
    recording's length and the result equals a whole-file run (except
    griffinlim's random start, drawn per block). The CQT does not stream and is
    refused above --max-memory.

    \b
    Examples:
      ganaudio resynth samples/trumpet_c4.wav -o out/trumpet.wav --repr ifmel --vocoder phase-griffinlim --iters 8
      ganaudio resynth samples/speech.wav -o out/speech.wav --repr mel --vocoder griffinlim --iters 64
      ganaudio resynth samples/violin_a4.wav -o out/violin.wav --vocoder gan
    """
    from ganaudio.audio_stream import stream_length
    from ganaudio.io import audio_format, audio_info
    from ganaudio.representations.streaming import estimate_bytes, streams
    from ganaudio.vocoders import make_vocoder

    dev = resolve_device(device)
    audio_format(output)
    check_output_file(output, estimated_bytes=audio_bytes(input_path, sample_rate=sample_rate))
    voc = None if vocoder is None else make_vocoder(vocoder, n_iter=iters, device=dev)
    if getattr(voc, "name", None) == "gan":
        # a GAN vocoder inverts its own mel analysis: sample rate and mel settings come from it
        source = click.get_current_context().get_parameter_source
        given = [f"--{p.replace('_', '-')}" for p in ("sample_rate", "n_fft", "hop_length", "n_mels")
                 if source(p) is not click.core.ParameterSource.DEFAULT]
        if source("repr_name") is not click.core.ParameterSource.DEFAULT and repr_name != "mel":
            given.append(f"--repr {repr_name}")
        if given:
            raise ParameterError(f"--vocoder {vocoder} sets the analysis itself (mel at {voc.sample_rate} Hz); "
                                 f"drop {', '.join(given)}")
        repr_name, rep = "mel", voc.representation
        n, sr = stream_length(input_path, sample_rate=rep.sample_rate)
    else:
        build_representation(repr_name, sample_rate or audio_info(input_path).samplerate, n_fft, hop_length, n_mels)
        n, sr = stream_length(input_path, sample_rate=sample_rate)
        rep = build_representation(repr_name, sr, n_fft, hop_length, n_mels)
    has_phase = getattr(rep, "has_phase", False) or getattr(rep, "with_phase", False)
    if vocoder is None:
        vocoder = ("phase" if repr_name == "cqt" else "phase-griffinlim") if has_phase else "griffinlim"
        voc = make_vocoder(vocoder, n_iter=iters)
    if streams(rep):
        snr, sc = _resynth_streamed(input_path, output, rep, voc, n=n, sr=sr, quiet=quiet)
    else:
        check_memory(CQT_WORK * estimate_bytes(rep, n), max_memory, what=f"the CQT of {n / sr / 60:.1f} min (not "
                     "computed in blocks)", fix="use an STFT representation (stft, mel, if, ifmel), which streams, "
                     "or a shorter excerpt")
        snr, sc = _resynth_whole(input_path, output, rep, voc, sr=sr, device=dev)
    click.echo(f"{input_path.name} -> {repr_name} -> {vocoder}: SNR {snr:.1f} dB, spectral convergence "
               f"{sc:.3f}; wrote {output}")


def _resynth_whole(input_path: Path, output: Path, rep, voc, *, sr: int, device) -> tuple[float, float]:
    import torch

    from ganaudio.functional.spectral import snr_db, spectral_convergence
    from ganaudio.io import load_audio, save_audio

    y, sr = load_audio(input_path, sample_rate=sr)
    y_hat = voc(rep.encode(torch.from_numpy(y).to(device)), rep, length=len(y)).cpu()
    save_audio(output, y_hat.clamp(-1, 1).numpy(), sr)
    ref = torch.from_numpy(y)
    return snr_db(y_hat, ref), spectral_convergence(y_hat, ref)


def _resynth_streamed(input_path: Path, output: Path, rep, voc, *, n: int, sr: int, quiet: bool
                      ) -> tuple[float, float]:
    """Encode, invert and write ``input_path`` block by block; ``(SNR dB, spectral convergence)``."""
    from ganaudio.audio_stream import DEFAULT_BLOCK, audio_blocks, open_audio_writer
    from ganaudio.representations.streaming import (
        StreamingDistance,
        context_frames,
        encode_blocks,
        rechunk,
        synthesize_blocks,
    )

    blocks = progress_blocks(audio_blocks(input_path, sample_rate=sr), total=n, scale=1 / sr, desc="resynthesising",
                             quiet=quiet, min_total=2 * DEFAULT_BLOCK)
    phase_channel = 1 if rep.name in ("if", "ifmel") else None
    pieces = synthesize_blocks(encode_blocks(rep, blocks), lambda spec, length: voc(spec, rep, length=length),
                               hop_length=rep.hop_length, length=n, context=context_frames(rep, voc),
                               block_frames=max(1024, DEFAULT_BLOCK // rep.hop_length), phase_channel=phase_channel)
    reference = rechunk(audio_blocks(input_path, sample_rate=sr))
    distance = StreamingDistance(sample_rate=sr)
    with open_audio_writer(output, sr, clip=True) as out:
        for piece in pieces:
            distance.push(piece, reference(len(piece)))
            out.write(piece)
    return distance.result()
