#!/usr/bin/env bash
# Testing on a Slurm cluster, MMPose's interface:
#   GPUS=8 tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [options]
exec "$(dirname "$0")/slurm_launch.sh" test.py "$1" "$2" "$3" "$4" \
    --launcher=slurm "${@:5}"
