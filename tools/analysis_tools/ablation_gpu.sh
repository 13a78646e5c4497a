#!/usr/bin/env bash
# PoseFormer against CrossFormer at 27 and 81 frames on the generated
# Human3.6M, on one GPU: 2 seeds each, the same optimizer steps within a
# window length, the configs' recipe at batch 512 with the CPU study's short
# schedule (lr 1e-3, cosine decay over the steps; docs/ablation.md), fast
# data pipeline.
# Sized to end within 8 minutes on one H100 (an estimate: it has not run on
# a GPU yet); every study stops at the time limit and keeps its complete
# runs, and running the script again continues where it stopped.
#
#   tools/analysis_tools/ablation_gpu.sh [WORK_DIR]
#
# Environment: PYTHON (default python), STEPS (default 200), SEEDS
# (default "0 1"), BUDGET_S (default 470, seconds for everything).
# Results: WORK_DIR/{27f,81f}/ablation.md and ablation.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
WORK=${1:-work_dirs/ablation_gpu}
DATA=data/synthetic_h36m
STEPS=${STEPS:-200}
SEEDS=${SEEDS:-0 1}
end=$((SECONDS + ${BUDGET_S:-470}))

nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
$PY tools/dataset_converters/generate_synthetic_h36m.py "$DATA"
status=0
for F in 27 81; do
    left=$((end - SECONDS))
    if [ "$left" -le 30 ]; then
        echo "no time left for ${F} frames"; status=1; break
    fi
    # SIGTERM at the limit: the study ends its current run and keeps the
    # table of the complete ones
    # shellcheck disable=SC2086
    timeout "$left" "$PY" tools/analysis_tools/ablation.py \
        "configs/poseformer_h36m_${F}f.py" \
        "configs/crossformer_h36m_${F}f.py" \
        --seeds $SEEDS --steps "$STEPS" --work-dir "$WORK/${F}f" \
        --data-root "$DATA" --dataset-type FastHuman36mDataset \
        --lr-schedule cosine \
        --cfg-options train_dataloader.batch_size=512 \
        optim_wrapper.optimizer.lr=1e-3 \
        train_dataloader.num_workers=8 val_dataloader.num_workers=8 \
        test_dataloader.num_workers=8 \
        || { echo "${F} frames: stopped early (exit $?), partial"; status=1; }
done
exit $status
