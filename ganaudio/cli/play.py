"""``ganaudio play``: play a note model live, from a MIDI input to an audio output.

The engine (:class:`ganaudio.synth.live.LiveEngine`) makes the audio; this
module only connects it to the machine: MIDI in through python-rtmidi (a named
input, or a virtual input other programs connect to), audio out through
sounddevice (PortAudio). Both come with the optional extra ``live``. A machine
without a MIDI system or sound card gets one ``Error:`` line, never a
traceback.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.errors import DeviceError, ParameterError

__all__ = ["play_cmd"]

INSTALL = "install them with: pip install 'ganaudio[live]' (and PortAudio, Debian package libportaudio2)"
VIRTUAL_PORT = "ganaudio"
SAMPLE_RATE = 44100  # generated-ahead notes are resampled to it: a sound card's usual rate


@contextlib.contextmanager
def _quiet_native_stderr():
    """Hide what C libraries print on file descriptor 2 (ALSA writes lines there on a machine without sound).

    The exceptions that follow carry the reason; the C library's own lines would only add noise.
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _import_live():
    """The two optional packages, ``(rtmidi, sounddevice)``; a one-line error when either is missing."""
    try:
        import rtmidi
    except ImportError:
        raise ParameterError(f"live play needs the python-rtmidi package; {INSTALL}") from None
    try:
        with _quiet_native_stderr():
            import sounddevice
    except ImportError:
        raise ParameterError(f"live play needs the sounddevice package; {INSTALL}") from None
    except OSError as exc:  # sounddevice is there, the PortAudio library is not
        raise DeviceError(f"sounddevice cannot load PortAudio ({exc}); {INSTALL}") from None
    return rtmidi, sounddevice


def midi_inputs(rtmidi) -> list[str]:
    """Names of the MIDI inputs; DeviceError when the machine has no MIDI system at all."""
    try:
        with _quiet_native_stderr():
            probe = rtmidi.MidiIn()
            names = list(probe.get_ports())
            probe.delete()
    except (rtmidi.RtMidiError, OSError) as exc:
        raise DeviceError(f"no MIDI system on this machine ({exc})") from None
    return names


def audio_outputs(sounddevice) -> list[tuple[int, str]]:
    """``(index, name)`` of every audio device with an output channel."""
    try:
        with _quiet_native_stderr():
            devices = list(sounddevice.query_devices())
    except (sounddevice.PortAudioError, OSError) as exc:
        raise DeviceError(f"PortAudio cannot list audio devices ({exc})") from None
    return [(i, d["name"]) for i, d in enumerate(devices) if d.get("max_output_channels", 0) > 0]


def _pick(name: str, choices: list[str], *, what: str) -> int:
    """The index of ``name`` among ``choices``: an exact name, a unique part of one, or an index."""
    listing = ", ".join(repr(c) for c in choices) if choices else "none"
    exact = [i for i, c in enumerate(choices) if c == name]
    partial = [i for i, c in enumerate(choices) if name.lower() in c.lower()]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    if name.isdigit() and int(name) < len(choices):
        return int(name)
    found = "matches several" if len(partial) > 1 else "not found"
    raise DeviceError(f"{what} {name!r} {found}; {what}s here: {listing}")


def timbre_spec(synth, spec: str | None, *, option: str):
    """A seed (digits) or a timbre file of this model; None when not given."""
    if spec is None:
        return None
    spec = spec.strip()
    if spec.isdigit():
        return synth.random_timbre(int(spec))
    if not Path(spec).is_file():
        raise ParameterError(f"{option} {spec!r} is neither a seed (a whole number) nor a timbre file")
    return synth.load_timbre(spec)


def note_model(model: str | None):
    """The note model ``play`` and the exports play: any folder ``load_model`` reads, the bundled GANSynth by default."""
    from ganaudio.loading import load_model

    synth = load_model(model or "gansynth_tiny")
    if not all(hasattr(synth, a) for a in ("generate_many", "random_timbre", "pitch_range", "sample_rate")):
        raise ParameterError(f"{model} is not a note model ({type(synth).__name__}); give a GANSynth or "
                             "harmonic-plus-noise instrument")
    return synth


def _list_devices(rtmidi, sounddevice) -> None:
    try:
        inputs = midi_inputs(rtmidi) or ["(none)"]
    except DeviceError as exc:
        inputs = [f"(none: {exc})"]
    try:
        outputs = [f"{i}: {name}" for i, name in audio_outputs(sounddevice)] or ["(none)"]
    except DeviceError as exc:
        outputs = [f"(none: {exc})"]
    click.echo("MIDI inputs:\n" + "\n".join(f"  {n}" for n in inputs))
    click.echo("Audio outputs:\n" + "\n".join(f"  {n}" for n in outputs))


def _open_midi(rtmidi, port: str | None, engine):
    """Open the named input, or a virtual one; its messages go to ``engine.send``."""
    from ganaudio.synth.live import event_from_midi

    names = midi_inputs(rtmidi) if port is not None else []
    index = _pick(port, names, what="MIDI input") if port is not None else None

    def on_message(message, data=None):
        event = event_from_midi(message[0])
        if event is not None:
            engine.send(event)

    try:
        with _quiet_native_stderr():
            midi_in = rtmidi.MidiIn()
            if index is None:
                midi_in.open_virtual_port(VIRTUAL_PORT)
            else:
                midi_in.open_port(index)
            midi_in.ignore_types(sysex=True, timing=True, active_sense=True)
            midi_in.set_callback(on_message)
    except (rtmidi.RtMidiError, OSError, NotImplementedError) as exc:
        what = f"MIDI input {port!r}" if port is not None else f"a virtual MIDI input {VIRTUAL_PORT!r}"
        raise DeviceError(f"cannot open {what} ({exc}); connect a MIDI device and name it with --port "
                          "(see --list-devices)") from None
    return midi_in, (names[index] if index is not None else f"virtual input {VIRTUAL_PORT!r}")


@main.command("play")
@click.option("--model", default=None, metavar="NAME|DIR",
              help="Note model: a harmonic-plus-noise instrument streams; others (GANSynth) play notes generated "
                   "ahead [default: the bundled gansynth_tiny].")
@click.option("--timbre", default="0", show_default=True, metavar="SEED|FILE", help="Timbre: a seed or a timbre file.")
@click.option("--timbre2", default=None, metavar="SEED|FILE", help="Second timbre: the morph controller moves to it.")
@click.option("--morph-cc", type=click.IntRange(0, 127), default=1, show_default=True,
              help="Controller that morphs between the timbres (1 = mod wheel).")
@click.option("--port", default=None, metavar="NAME", help="MIDI input (a name, part of one, or an index) "
              "[default: a virtual input named 'ganaudio' that other programs connect to].")
@click.option("--audio-device", default=None, metavar="NAME", help="Audio output [default: the system's].")
@click.option("--buffer", type=click.IntRange(16, 4096), default=128, show_default=True,
              help="Audio frames per callback (128 at 44.1 kHz is 2.9 ms).")
@click.option("--voices", type=click.IntRange(1, 64), default=16, show_default=True, help="Notes sounding at once.")
@click.option("--seconds", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after this many seconds [default: at Ctrl-C].")
@click.option("--list-devices", is_flag=True, help="List MIDI inputs and audio outputs, then exit.")
def play_cmd(model, timbre, timbre2, morph_cc, port, audio_device, buffer, voices, seconds, list_devices) -> None:
    """Play a GAN instrument live: MIDI in, audio out.

    Polyphonic with voice stealing, sustain pedal and pitch bend; the mod wheel
    (or --morph-cc) morphs between --timbre and --timbre2. Needs the optional
    extra: pip install 'ganaudio[live]'.

    \b
    Examples:
      ganaudio play --list-devices
      ganaudio play --model runs/ddspgan --timbre 3 --timbre2 cello.timbre.json --port "Keystation" --buffer 128
      ganaudio play --timbre 7                 # bundled GANSynth, virtual MIDI input 'ganaudio'
    """
    rtmidi, sounddevice = _import_live()
    if list_devices:
        _list_devices(rtmidi, sounddevice)
        return
    outputs = audio_outputs(sounddevice)
    if not outputs:
        raise DeviceError("no audio output device on this machine (PortAudio finds none; see --list-devices)")
    device = outputs[_pick(audio_device, [n for _, n in outputs], what="audio output")] if audio_device else None
    if port is not None:
        _pick(port, midi_inputs(rtmidi), what="MIDI input")  # an unknown input fails before the model loads
    engine = _engine(model, timbre, timbre2, morph_cc=morph_cc, voices=voices)
    midi_in, midi_name = _open_midi(rtmidi, port, engine)
    try:
        _play(sounddevice, engine, device=device, buffer=buffer, seconds=seconds, midi_name=midi_name)
    finally:
        midi_in.close_port()


def _engine(model, timbre, timbre2, *, morph_cc: int, voices: int):
    import torch

    from ganaudio.synth.live import LiveEngine

    torch.set_num_threads(1)  # a block's work is small: one thread keeps the audio callback's timing steady
    synth = note_model(model)
    first = timbre_spec(synth, timbre, option="--timbre")
    second = timbre_spec(synth, timbre2, option="--timbre2")
    streams = getattr(getattr(synth, "instrument", None), "decoder", None) is not None
    if not streams:
        low, high = synth.pitch_range
        click.echo(f"{synth.name} cannot stream: generating MIDI {low}-{high} ahead "
                   f"({(high - low + 1) * (2 if second else 1)} notes)...", err=True)
    return LiveEngine.for_synth(synth, first, second, sample_rate=None if streams else SAMPLE_RATE,
                                max_voices=voices, morph_cc=morph_cc)


def _play(sounddevice, engine, *, device, buffer: int, seconds: float | None, midi_name: str) -> None:
    """Run the audio stream until Ctrl-C (or ``seconds``); then report notes, underruns and callback load."""
    budget = buffer / engine.sample_rate
    counts = {"underruns": 0, "blocks": 0, "overtime": 0, "peak_load": 0.0}
    failure: list[BaseException] = []

    def callback(outdata, frames, time_info, status):
        start = time.perf_counter()
        if status.output_underflow:
            counts["underruns"] += 1
        try:
            outdata[:, 0] = engine.render(frames)
        except Exception as exc:  # noqa: BLE001 - reported on the main thread as one line
            failure.append(exc)
            raise sounddevice.CallbackAbort from None
        load = (time.perf_counter() - start) / (frames / engine.sample_rate)
        counts["blocks"] += 1
        counts["overtime"] += load > 1.0
        counts["peak_load"] = max(counts["peak_load"], load)

    try:
        with _quiet_native_stderr():
            stream = sounddevice.OutputStream(samplerate=engine.sample_rate, blocksize=buffer, channels=1,
                                              dtype="float32", device=None if device is None else device[0],
                                              latency="low", callback=callback)
    except (sounddevice.PortAudioError, OSError, ValueError) as exc:
        name = "the default audio output" if device is None else f"audio output {device[1]!r}"
        raise DeviceError(f"cannot open {name} at {engine.sample_rate} Hz, {buffer} frames ({exc})") from None
    click.echo(f"Playing: MIDI from {midi_name}, audio to {'the default output' if device is None else device[1]}, "
               f"{buffer} frames ({budget * 1000:.1f} ms) at {engine.sample_rate} Hz, {engine.max_voices} voices. "
               + ("Ctrl-C stops." if seconds is None else f"Stopping after {seconds:g} s."))
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        with stream:
            while stream.active and not failure and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    if failure:
        raise failure[0]
    stats = engine.stats
    click.echo(f"Played {stats['notes']} notes ({stats['stolen']} stolen, {stats['ignored']} outside the model's "
               f"range); {counts['underruns']} audio underruns, {counts['overtime']} of {counts['blocks']} callbacks "
               f"over time, peak callback load {counts['peak_load']:.0%}.")
