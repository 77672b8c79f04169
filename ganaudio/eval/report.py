"""Write a notes report (:func:`ganaudio.eval.notes.notes_report`) as JSON, markdown and PNG plots."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

__all__ = ["notes_markdown", "plot_pitch_accuracy", "plot_metric_bars", "save_notes_report"]

LABELS = {
    "frechet_distance": "Frechet distance (evaluator embedding)",
    "ndb_fraction": "NDB: fraction of bins that differ",
    "ndb_different": "NDB: bins that differ",
    "pitch_accuracy": "pitch accuracy (pYIN, within tolerance)",
    "pitch_entropy": "pitch entropy (pYIN, bits)",
    "unvoiced": "unvoiced (pYIN)",
    "octave_errors": "octave errors (pYIN)",
    "evaluator_pitch_accuracy": "pitch accuracy (evaluator)",
    "evaluator_pitch_entropy": "pitch entropy (evaluator, bits)",
    "inception_score": "Inception Score (evaluator pitch)",
    "family_accuracy": "instrument-family accuracy (evaluator)",
}
BETTER = {"lower": "lower", "higher": "higher", "real": "close to real"}


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"


def notes_markdown(report: dict) -> str:
    """The report's metrics as a markdown table: metric, generated, real floor, which way is better.

    Examples
    --------
    >>> print(notes_markdown(report))
    | metric | generated | real (floor) | better |
    ...
    """
    sizes = report["sizes"]
    lines = [f"Generated: {sizes['generated']} notes. Real floor: {sizes['real']} real notes scored the same "
             f"way; distances from a disjoint reference half of {sizes['reference']} real notes "
             f"(NDB with k={report['ndb_k']}).", "",
             "| metric | generated | real (floor) | better |", "|---|---|---|---|"]
    for key, value in report["metrics"].items():
        lines.append(f"| {LABELS.get(key, key)} | {_fmt(value['generated'])} | {_fmt(value['real'])} | "
                     f"{BETTER[value['better']]} |")
    if "discriminator" in report:
        d = report["discriminator"]
        lines += ["", "Pitch classifiers on the real floor notes:", "",
                  "| classifier | pitch accuracy |", "|---|---|",
                  f"| GANSynth discriminator (auxiliary head) | {_fmt(d['accuracy'])} |",
                  f"| evaluator network | {_fmt(d['evaluator_accuracy'])} |"]
    return "\n".join(lines) + "\n"


def plot_pitch_accuracy(report: dict) -> Figure:
    """Pitch accuracy per target pitch, generated beside real, for each judge (pYIN, evaluator)."""
    per_pitch = report["per_pitch"]
    methods = sorted({m for side in per_pitch.values() for m in side})
    fig = Figure(figsize=(9, 2.6 * len(methods)), constrained_layout=True)
    axes = fig.subplots(len(methods), 1, squeeze=False)[:, 0]
    for ax, method in zip(axes, methods):
        for name, style in (("real", "o-"), ("generated", "s-")):
            data = per_pitch.get(name, {}).get(method)
            if data:
                pitches = sorted(int(p) for p in data)
                ax.plot(pitches, [data[p] if p in data else data[str(p)] for p in pitches], style,
                        label=name, markersize=3)
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel("accuracy")
        ax.set_title(f"pitch accuracy per pitch ({'pYIN' if method == 'pyin' else method})")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left")
    axes[-1].set_xlabel("target MIDI pitch")
    return fig


def plot_metric_bars(report: dict) -> Figure:
    """One small bar chart per metric: generated beside the real-data floor."""
    items = [(k, v) for k, v in report["metrics"].items() if k != "ndb_different"]
    cols = 4
    rows = -(-len(items) // cols)
    fig = Figure(figsize=(3.0 * cols, 2.4 * rows), constrained_layout=True)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (key, value) in zip(axes, items):
        names = [n for n in ("real", "generated") if value[n] is not None]
        ax.bar(["real (floor)" if n == "real" else n for n in names], [value[n] for n in names],
               color=["tab:blue" if n == "real" else "tab:orange" for n in names])
        ax.set_title(f"{LABELS.get(key, key)}\n({BETTER[value['better']]} is better)", fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in axes[len(items):]:
        ax.set_visible(False)
    return fig


def save_notes_report(report: dict, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``report.json``, ``report.md``, ``pitch_accuracy.png`` and ``metrics.png`` into ``out_dir``.

    The four files are one transaction (:class:`~ganaudio.outputs.OutputSet`): all are renamed into
    place once all were written, so a failure leaves no partial file and any older report intact.

    Returns
    -------
    list of the paths written
    """
    from ganaudio.outputs import OutputSet

    out = Path(out_dir)
    written = [out / "report.json", out / "report.md", out / "pitch_accuracy.png", out / "metrics.png"]
    with OutputSet() as outputs:
        with outputs.path(written[0]) as tmp:
            tmp.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
        with outputs.path(written[1]) as tmp:
            tmp.write_text("# Notes report\n\n" + notes_markdown(report))
        for path, fig in zip(written[2:], (plot_pitch_accuracy(report), plot_metric_bars(report)), strict=True):
            with outputs.path(path) as tmp:
                fig.savefig(tmp, dpi=100, format="png")
    return written


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-able: {type(value).__name__}")
