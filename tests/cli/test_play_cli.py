"""``ganaudio play`` through CliRunner: device listing, one-line errors without hardware, a run on fake devices.

The MIDI and audio packages are replaced by small fakes (this machine has no
MIDI system or sound card); the fakes behave as python-rtmidi and sounddevice
do on a machine with, or without, devices.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganaudio.cli.play as play_module
from ganaudio.cli import main
from ganaudio.loading import write_model_folder
from ganaudio.models.ddspgan import HarmonicInstrument

SMALL = dict(decoder=dict(hidden=16, z_dim=4, n_harmonics=32, n_envelope=8, n_detail=2, n_noise_bands=5,
                          table_size=128), encoder=dict(channels=8, n_mels=16))


@pytest.fixture(scope="module")
def ddsp_folder(tmp_path_factory):
    torch.manual_seed(0)
    instrument = HarmonicInstrument(**SMALL)
    tensors = {f"generator.{k}": v for k, v in instrument.state_dict().items()}
    return write_model_folder(tmp_path_factory.mktemp("live") / "tiny_ddsp", tensors=tensors,
                              config={"format": 1, "family": "ddspgan", "generator": instrument.config(), "step": 0})


def fake_rtmidi(ports: list[str] | None, sent: list | None = None):
    """python-rtmidi with these input ``ports`` (None: no MIDI system); an opened port sends ``sent`` messages."""
    module = types.SimpleNamespace()

    class RtMidiError(Exception):
        pass

    class MidiIn:
        def __init__(self):
            if ports is None:
                raise RtMidiError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")
            self.opened = None

        def get_ports(self):
            return list(ports)

        def delete(self):
            pass

        def open_port(self, index):
            self.opened = ports[index]

        def open_virtual_port(self, name):
            self.opened = name

        def ignore_types(self, **kwargs):
            pass

        def set_callback(self, callback):
            for message in sent or []:
                callback((message, 0.0), None)

        def close_port(self):
            module.closed = True

    module.RtMidiError, module.MidiIn, module.closed = RtMidiError, MidiIn, False
    return module


def fake_sounddevice(outputs: list[str], played: list | None = None):
    """sounddevice with these output devices; a stream runs its callback 20 times when started."""
    module = types.SimpleNamespace()

    class PortAudioError(Exception):
        pass

    class CallbackAbort(Exception):
        pass

    class Stream:
        def __init__(self, *, samplerate, blocksize, channels, dtype, device, latency, callback):
            self.args = dict(samplerate=samplerate, blocksize=blocksize, device=device)
            self.callback, self.active = callback, True
            module.stream = self

        def __enter__(self):
            status = types.SimpleNamespace(output_underflow=False)
            for _ in range(20):
                out = np.zeros((self.args["blocksize"], 1), np.float32)
                self.callback(out, self.args["blocksize"], None, status)
                if played is not None:
                    played.append(out[:, 0].copy())
            return self

        def __exit__(self, *exc):
            self.active = False

    devices = [{"name": "Mic", "max_output_channels": 0}] + [{"name": n, "max_output_channels": 2} for n in outputs]
    module.PortAudioError, module.CallbackAbort, module.OutputStream = PortAudioError, CallbackAbort, Stream
    module.query_devices = lambda: devices
    return module


def run(monkeypatch, rtmidi, sounddevice, *args):
    monkeypatch.setattr(play_module, "_import_live", lambda: (rtmidi, sounddevice))
    return CliRunner().invoke(main, ["play", *[str(a) for a in args]])


def one_error_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_list_devices(monkeypatch):
    result = run(monkeypatch, fake_rtmidi(["Keystation 49", "Through"]), fake_sounddevice(["Speakers"]),
                 "--list-devices")
    assert result.exit_code == 0, result.output
    assert "MIDI inputs:\n  Keystation 49\n  Through" in result.output and "1: Speakers" in result.output
    assert "Mic" not in result.output


def test_list_devices_without_hardware(monkeypatch):
    result = run(monkeypatch, fake_rtmidi(None), fake_sounddevice([]), "--list-devices")
    assert result.exit_code == 0, result.output
    assert "(none: no MIDI system on this machine" in result.output and "Audio outputs:\n  (none)" in result.output


def test_no_sound_card_and_no_midi_system_are_one_line_each(monkeypatch, ddsp_folder):
    line = one_error_line(run(monkeypatch, fake_rtmidi(["Keys"]), fake_sounddevice([]), "--model", ddsp_folder))
    assert "no audio output device" in line
    line = one_error_line(run(monkeypatch, fake_rtmidi(None), fake_sounddevice(["Speakers"]), "--model",
                              ddsp_folder))
    assert "cannot open a virtual MIDI input 'ganaudio'" in line and "--port" in line


def test_unknown_port_or_device_lists_what_exists(monkeypatch, ddsp_folder):
    line = one_error_line(run(monkeypatch, fake_rtmidi(["Keystation 49", "Through"]), fake_sounddevice(["Speakers"]),
                              "--port", "Launchkey", "--model", ddsp_folder))
    assert "'Launchkey' not found" in line and "'Keystation 49', 'Through'" in line
    line = one_error_line(run(monkeypatch, fake_rtmidi(["Keys"]), fake_sounddevice(["Speakers", "HDMI"]),
                              "--audio-device", "USB", "--model", ddsp_folder))
    assert "audio output 'USB' not found" in line and "'Speakers', 'HDMI'" in line
    line = one_error_line(run(monkeypatch, fake_rtmidi(None), fake_sounddevice(["Speakers"]), "--port", "Keys"))
    assert "no MIDI system on this machine" in line


def test_missing_packages_are_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "rtmidi", None)  # import rtmidi now raises ImportError
    result = CliRunner().invoke(main, ["play", "--list-devices"])
    assert "pip install 'ganaudio[live]'" in one_error_line(result)


def test_plays_a_note_from_midi_to_audio(monkeypatch, ddsp_folder):
    played: list = []
    sd = fake_sounddevice(["Speakers", "HDMI"], played)
    midi = fake_rtmidi(["Keystation 49"], sent=[[0x90, 60, 100], [0xB0, 1, 64], [0xE0, 0, 0x50]])
    result = run(monkeypatch, midi, sd, "--model", ddsp_folder, "--timbre", 3, "--timbre2", 4, "--port", "keystation",
                 "--audio-device", "HDMI", "--buffer", 256, "--voices", 4, "--seconds", 0.01)
    assert result.exit_code == 0, result.output
    assert "MIDI from Keystation 49, audio to HDMI, 256 frames (5.8 ms) at 44100 Hz, 4 voices" in result.output
    assert "Played 1 notes" in result.output and midi.closed
    assert sd.stream.args == {"samplerate": 44100, "blocksize": 256, "device": 2}
    assert np.abs(np.concatenate(played)).max() > 0


def test_bad_model_or_timbre_is_one_line(monkeypatch, ddsp_folder, tmp_path):
    devices = (fake_rtmidi(["Keys"]), fake_sounddevice(["Speakers"]))
    line = one_error_line(run(monkeypatch, *devices, "--model", "musegan_chorales"))
    assert "not a note model" in line
    foreign = tmp_path / "foreign.timbre.json"
    import ganaudio.api

    gansynth = ganaudio.api.load()
    gansynth.save_timbre(gansynth.random_timbre(1), foreign)
    line = one_error_line(run(monkeypatch, *devices, "--model", ddsp_folder, "--timbre", foreign))
    assert "belongs to another model" in line
    line = one_error_line(run(monkeypatch, *devices, "--model", ddsp_folder, "--timbre", "violin"))
    assert "neither a seed" in line


def test_this_machine_with_the_real_packages():
    """Whatever this machine has, listing works and an unknown input is one line (no fakes)."""
    pytest.importorskip("rtmidi")
    try:
        import sounddevice  # noqa: F401
    except (ImportError, OSError):
        pytest.skip("sounddevice or PortAudio is not installed")
    result = CliRunner().invoke(main, ["play", "--list-devices"])
    assert result.exit_code == 0 and "MIDI inputs:" in result.output and "Audio outputs:" in result.output
    result = CliRunner().invoke(main, ["play", "--port", "no such port 7f3a", "--audio-device", "no such card 7f3a"])
    assert "not found" in one_error_line(result) or "no " in one_error_line(result)
