#!/usr/bin/env bash
# srun launcher behind slurm_train.sh and slurm_test.sh (MMPose's resources;
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS from the environment):
#   tools/slurm_launch.sh SCRIPT PARTITION JOB_NAME [script arguments]
set -x
SCRIPT=$1
PARTITION=$2
JOB_NAME=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
# shellcheck disable=SC2086
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
exec srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    --gres=gpu:"${GPUS_PER_NODE}" \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} \
    python -u "$(dirname "$0")/$SCRIPT" "${@:4}"
