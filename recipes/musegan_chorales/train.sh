#!/usr/bin/env bash
# The bundled MuseGAN Bach chorale model: data, a CPU training time-boxed in two legs (the second a resume),
# export of the EMA generator into ganaudio/assets/musegan_chorales, and the quality table.
# Usage: recipes/musegan_chorales/train.sh [WORK_DIR]   (default /tmp/musegan_chorales)
set -euo pipefail
WORK=${1:-/tmp/musegan_chorales}
PY=${PY:-.venv/bin/python}
GA=${GA:-.venv/bin/ganaudio}
LEG1=${LEG1:-17m}   # wall-clock time box of each leg (timeout(1) syntax)
LEG2=${LEG2:-18m}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# 1. The 405 SATB chorales of music21's corpus as MIDI, cut into 4-bar 4/4 phrases on a 16th-note grid
#    (4 steps per beat), MIDI 32-87, in 12 transpositions (-5..+6 semitones).
nice -n 10 "$GA" prepare midi --music21-corpus bach -o "$WORK/chorales" --workers 2 --quiet
nice -n 10 "$GA" prepare midi "$WORK/chorales/midi" -o "$WORK/phrases" --tracks Soprano,Alto,Tenor,Bass \
    --resolution 4 --bars 4 --pitch-range 32 88 --transpose=-5..6 --quiet

# 2. Train (preset tiny), stopped by the time box; then resumed from the newest checkpoint.
run() { nice -n 10 timeout "$1" "$GA" train musegan --data "$WORK/phrases" --out "$WORK/run" --preset tiny \
        --steps 100000 --quiet "${@:2}" || [ $? -eq 124 ]; }
run "$LEG1"
run "$LEG2" --resume

# 3. Export the newest checkpoint's EMA generator and measure it beside the data.
nice -n 10 "$PY" - "$WORK" <<'PY'
import json, sys
from pathlib import Path
from ganaudio.train.checkpoint import latest_checkpoint
from ganaudio.train.musegan import export_musegan, monophonic_tracks, quality_table
work = Path(sys.argv[1])
ckpt = latest_checkpoint(work / "run" / "checkpoints")
out = export_musegan(ckpt, "ganaudio/assets/musegan_chorales", monophonic=monophonic_tracks(work / "phrases"),
                     notes={"recipe": "recipes/musegan_chorales/train.sh", "checkpoint_step": int(ckpt.name[5:])})
result = quality_table(out, work / "phrases", n_phrases=1000, seed=0)
(work / "quality.json").write_text(json.dumps({k: v for k, v in result.items()}, indent=1))
print(result["table"]); print(result.get("table_threshold", ""))
PY
