"""``ganaudio vocode`` (mel spectrogram or audio -> waveform) and ``ganaudio train vocoder``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.cli.common import (
    audio_bytes,
    check_training_run,
    device_option,
    echo_training_result,
    progress_blocks,
    resolve_device,
    training_options,
)
from ganaudio.cli.train import train
from ganaudio.errors import AudioFileError, ParameterError

TENSOR_SUFFIXES = (".npy", ".safetensors")


def load_mel_tensor(path: Path):
    """A saved log-mel spectrogram ``(n_mels, frames)`` and its representation config (or None).

    ``.npy`` is read with ``allow_pickle=False``; ``.safetensors`` takes the tensor ``spec`` (or the only
    one) and the ``representation`` metadata that ``ganaudio analyze --tensor`` writes. Pickle-based
    files (.pt, .pkl) are refused.
    """
    import numpy as np
    import torch

    suffix = path.suffix.lower()
    if suffix not in TENSOR_SUFFIXES:
        raise ParameterError(f"{path}: a mel tensor must be .npy or .safetensors (pickle-based files such as "
                             f".pt are not read), got {suffix or 'no suffix'!r}")
    config = None
    try:
        if suffix == ".npy":
            spec = torch.from_numpy(np.load(path, allow_pickle=False).astype(np.float32))
        else:
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as fh:
                keys = list(fh.keys())
                key = "spec" if "spec" in keys else (keys[0] if len(keys) == 1 else None)
                if key is None:
                    raise ParameterError(f"{path} holds tensors {keys}; expected one named 'spec'")
                spec = fh.get_tensor(key).float()
                meta = fh.metadata() or {}
            if "representation" in meta:
                config = json.loads(meta["representation"])
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{path}: not a readable {suffix} tensor ({str(exc).splitlines()[0]})") from None
    except Exception as exc:  # safetensors raises its own error type
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(f"{path}: not a readable {suffix} tensor ({str(exc).splitlines()[0]})") from None
    if spec.ndim == 3 and spec.shape[0] == 1:
        spec = spec[0]
    if spec.ndim != 2 or not torch.isfinite(spec).all():
        raise ParameterError(f"{path}: expected one finite log-mel spectrogram (n_mels, frames) or "
                             f"(1, n_mels, frames), got shape {tuple(spec.shape)}")
    return spec, config


@main.command("vocode")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Audio file to write (.wav, .flac or .ogg).")
@click.option("--vocoder", default="vocoder_16k", show_default=True,
              help="A bundled GAN vocoder name, a vocoder/run folder, or griffinlim.")
@click.option("--iters", type=int, default=64, show_default=True, help="Griffin-Lim iterations.")
@device_option
def vocode_cmd(input_path, output, vocoder, iters, device) -> None:
    """Turn a log-mel spectrogram (or audio, analysed first) into a waveform.

    IN is audio (resampled to the vocoder's rate, analysed into its mel
    settings, then vocoded: a resynthesis test) or a saved log-mel tensor
    (.npy or .safetensors, e.g. from `ganaudio analyze --repr mel --tensor`).
    Audio is read, analysed, vocoded and written block by block (each block
    with the vocoder's receptive field of context, so the sound equals a
    whole-file run); the distances are averaged over blocks of about 16 s.

    \b
    Examples:
      ganaudio vocode samples/violin_a4.wav -o out/violin_gan.wav
      ganaudio vocode out/mel.safetensors -o out/mel.wav --vocoder runs/vocos16k
      ganaudio vocode samples/flute_phrase.wav -o out/flute_gl.wav --vocoder griffinlim --iters 64
    """
    import torch

    from ganaudio.audio_stream import DEFAULT_BLOCK, audio_blocks, open_audio_writer, stream_length
    from ganaudio.io import audio_format
    from ganaudio.losses import log_mel_l1, multi_resolution_stft_loss
    from ganaudio.outputs import check_output
    from ganaudio.representations import from_config
    from ganaudio.representations.streaming import context_frames, encode_blocks, rechunk, synthesize_blocks
    from ganaudio.vocoders import GriffinLimVocoder, load_vocoder

    dev = resolve_device(device)
    if iters < 0:
        raise ParameterError(f"--iters must be >= 0, got {iters}")
    audio_format(output)
    check_output(output, estimated_bytes=audio_bytes(input_path)
                 if input_path.suffix.lower() not in TENSOR_SUFFIXES else 0)
    gan = None if vocoder == "griffinlim" else load_vocoder(vocoder, device=dev)
    from_audio = not (input_path.suffix.lower() in TENSOR_SUFFIXES or input_path.suffix.lower() in (".pt", ".pkl",
                                                                                                       ".pth"))
    if not from_audio:
        mel, config = load_mel_tensor(input_path)
        rep = from_config(config) if config else (gan or load_vocoder()).representation
        if gan is not None:
            gan.check_representation(rep)
        if getattr(rep, "name", None) != "mel" or mel.shape[0] != rep.n_mels:
            raise ParameterError(f"{input_path}: expected {getattr(rep, 'n_mels', '?')} mel bands of a mel "
                                 f"representation, got {tuple(mel.shape)} ({getattr(rep, 'name', rep)})")
        length = rep.samples_for(mel.shape[-1])
        frames = (mel[None, :, i:i + 4096] for i in range(0, mel.shape[-1], 4096))
    else:
        if not input_path.is_file():
            raise AudioFileError(f"{input_path}: no such file")
        rep = (gan or load_vocoder()).representation
        length, _ = stream_length(input_path, sample_rate=rep.sample_rate)
        blocks = progress_blocks(audio_blocks(input_path, sample_rate=rep.sample_rate), total=length,
                                 scale=1 / rep.sample_rate, desc="vocoding", min_total=2 * DEFAULT_BLOCK)
        frames = encode_blocks(rep, blocks)
    voc = gan if gan is not None else GriffinLimVocoder(n_iter=iters)
    pieces = synthesize_blocks(frames, lambda spec, length: voc(spec.to(dev), rep, length=length).cpu(),
                               hop_length=rep.hop_length, length=length, context=context_frames(rep, voc),
                               block_frames=max(1024, DEFAULT_BLOCK // rep.hop_length))
    reference = rechunk(audio_blocks(input_path, sample_rate=rep.sample_rate)) if from_audio else None
    stft_d = mel_d = 0.0
    with open_audio_writer(output, rep.sample_rate, clip=True) as out:
        for piece in pieces:
            out.write(piece)
            if reference is not None:  # distances averaged over blocks, weighted by their length
                wave, ref = torch.from_numpy(piece), torch.from_numpy(reference(len(piece)))
                mel_d += len(piece) * float(log_mel_l1(wave, ref, sample_rate=rep.sample_rate, n_fft=rep.n_fft,
                                                       hop_length=rep.hop_length, n_mels=rep.n_mels, fmin=rep.fmin,
                                                       fmax=rep.fmax))
                stft_d += len(piece) * float(multi_resolution_stft_loss(wave, ref))
    line = f"{input_path.name} -> {vocoder}: {out.frames / rep.sample_rate:.2f} s at {rep.sample_rate} Hz"
    if reference is not None:
        line += (f"; multi-resolution STFT distance {stft_d / max(out.frames, 1):.3f}, "
                 f"mel L1 {mel_d / max(out.frames, 1):.3f}")
    click.echo(f"{line}; wrote {output}")


@train.command("vocoder")
@click.option("--data", "data", required=True, type=click.Path(exists=True),
              help="Folder of audio files (searched recursively), e.g. SoundFont renders from `ganaudio prepare`.")
@training_options(("small", "v1", "v2", "v3", "vocos", "vocos-small", "vocos-base"),
                  default="vocos",
                  preset_help="Generator: HiFi-GAN small/v1/v2/v3, or Vocos-style (STFT head, the fast one).",
                  set_example="--set sample_rate=22050 --set n_mels=100")
def vocoder_cmd(data, out, preset, config_file, assignments, steps, resume, device, seed, show_config,
                quiet) -> None:
    """Train a mel vocoder (HiFi-GAN or Vocos generator; MPD + multi-resolution STFT discriminators).

    \b
    Examples:
      ganaudio train vocoder --data data/vocoder/train --out runs/vocos16k --preset vocos --steps 2000
      ganaudio train vocoder --data data/vocoder/train --out runs/vocos16k --resume --steps 4000
      ganaudio train vocoder --data wavs --out runs/v1 --preset v1 --set sample_rate=22050 --device cuda
    """
    from ganaudio.presets import load_preset, parse_assignments
    from ganaudio.train.run import run_training

    settings = load_preset(preset, family="vocoder", config_file=config_file, overrides=parse_assignments(assignments))
    if not check_training_run(settings, show_config=show_config, steps=steps, device=device):
        return
    settings.build_generator()  # a hop / upsampling mismatch fails here, before the data is read
    metrics = run_training(settings, data, out, steps=steps, resume=resume, seed=seed, device=device,
                            progress=not quiet)

    echo_training_result(metrics, keys=("mel_l1", "stft", "d_loss", "g_adv"), out=out)
