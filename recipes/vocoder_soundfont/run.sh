#!/usr/bin/env bash
# The bundled 16 kHz vocoder (ganaudio/assets/vocoder_16k): data, time-boxed CPU training, export, benchmark.
# Rerun the training line with --resume to continue a run (same step, optimiser and RNG state).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
DATA=${DATA:-data/vocoder}
RUN=${RUN:-runs/vocoder_16k}

$PY recipes/vocoder_soundfont/make_data.py --out "$DATA" --extra-programs 6 25 32 48 52 60 70   # ~5 min
# the vocos preset: reconstruction to step 7000 (0.1 s/step), then adversarial to 9000 (0.8 s/step)
nice -n 10 $PY recipes/vocoder_soundfont/train.py --data "$DATA/train" --out "$RUN" --minutes 60 --threads 1
# nice -n 10 $PY recipes/vocoder_soundfont/train.py --data "$DATA/train" --out "$RUN" --minutes 30 --threads 1 --resume
$PY recipes/vocoder_soundfont/export.py --run "$RUN" --out ganaudio/assets/vocoder_16k
GANAUDIO_VOCODER_TEST="$DATA/test" nice -n 10 $PY benchmarks/run_all.py --only vocoder
