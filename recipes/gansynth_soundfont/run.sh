#!/bin/sh
# Render FluidR3_GM's acoustic programs as 1 s notes (MIDI 36-84), train the tiny GANSynth preset, evaluate.
# Usage: recipes/gansynth_soundfont/run.sh [WORK_DIR] [STEPS]     (resumes if WORK_DIR/run exists)
set -eu
WORK=${1:-data/gansynth_soundfont}
STEPS=${2:-20000}
HERE=$(dirname "$0")
python "$HERE/render.py" "$WORK/notes" --workers 1
RESUME=""
[ -d "$WORK/run/checkpoints" ] && RESUME="--resume"
ganaudio train gansynth --data "$WORK/notes" --out "$WORK/run" --preset tiny --steps "$STEPS" $RESUME
LAST=$(ls -d "$WORK"/run/checkpoints/step_* | tail -n 1)
python "$HERE/evaluate.py" "$LAST" --data "$WORK/notes" --seeds 4 --out "$WORK/report.json"
