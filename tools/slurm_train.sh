#!/usr/bin/env bash
# Training on a Slurm cluster, MMPose's interface:
#   GPUS=16 tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [options]
exec "$(dirname "$0")/slurm_launch.sh" train.py "$1" "$2" "$3" \
    --work-dir="$4" --launcher=slurm "${@:5}"
