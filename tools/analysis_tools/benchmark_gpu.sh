#!/usr/bin/env bash
# GPU throughput of the 81-frame CrossFormer beside the authors' released
# implementation, in one run that fits 8 minutes on one H100:
#   * forward samples/s at batch 1, 64 and 1024: fp32, bf16, torch.compile;
#   * training samples/s at batch 256: fp32, bf16 autocast (AMP),
#     torch.compile, released; with the device-to-host syncs of one step
#     (torch.cuda.set_sync_debug_mode('warn'): only MMPose's loss logging,
#     the head's MPJPE, should show);
#   * the data pipeline: samples/s of one process and of the config's
#     dataloader (its workers)
#     against what the GPU consumes, and the projected time of 100 release
#     epochs (2 x 1.56 M windows each).
#
#   tools/analysis_tools/benchmark_gpu.sh PATH/TO/common/model_crossformer.py \
#       [OUT.md]
#
# The released file (github.com/mfawzy/CrossFormer, needs timm and einops)
# is not part of this repository. Extra arguments after OUT.md go to
# benchmark.py. Set PYTHON to choose the interpreter.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python}
REFERENCE=${1:?usage: $0 PATH/TO/model_crossformer.py [OUT.md] [benchmark.py args]}
OUT=${2:-benchmark_gpu.md}
shift $(( $# < 2 ? $# : 2 ))
if ! "$PYTHON" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
    echo "no CUDA device visible: nothing measured (this script times the GPU;" \
        "for the CPU run tools/analysis_tools/benchmark.py --devices cpu)" >&2
    exit 2
fi
# Three runs, each printing its tables as they are measured and each with
# its own time limit, so that a slow torch.compile cannot cost the others
# (STAGES picks some of them; the eager rows are measured beside the
# compiled ones each time, so every ratio comes from one run):
#   eager:              matmul peaks; training fp32, bf16 AMP, released;
#                       inference at batch 1, 64, 1024; the GPU time per
#                       module; the attention kernels at the model's shapes
#                       (fused against explicit products); data pipeline,
#                       the config's dataloader and the projection of 100
#                       epochs;
#   train-compiled:     the training rows with torch.compile (fp32, bf16);
#   inference-compiled: the inference rows with torch.compile (fp32, bf16).
ARGS=(configs/crossformer_h36m_81f_official.py --reference "$REFERENCE"
      --devices cuda --batch-sizes 1 64 1024 --train-batch-size 256 --amp
      --rounds 3 --no-onnx --generate-frames 200 --data-samples 2000)
STAGES=${STAGES:-eager train-compiled inference-compiled}
: >"$OUT"
status=0
for stage in $STAGES; do
    case $stage in
        eager) limit=180 opts=(--no-compile --skip accuracy) ;;
        train-compiled) limit=150 opts=(--compile-train
            --skip inference profile attention data accuracy) ;;
        inference-compiled) limit=150
            opts=(--skip train profile attention data accuracy) ;;
        *) echo "unknown stage $stage (eager, train-compiled," \
               "inference-compiled)" >&2; exit 2 ;;
    esac
    timeout $limit "$PYTHON" tools/analysis_tools/benchmark.py "${ARGS[@]}" \
        "${opts[@]}" "$@" | tee -a "$OUT" || status=$?
done
exit $status
