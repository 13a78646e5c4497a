#!/usr/bin/env bash
# torchrun launcher behind dist_train.sh and dist_test.sh:
#   tools/dist_launch.sh SCRIPT NPROC [script arguments]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT (as in MMPose).
SCRIPT=$1
NPROC=$2
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
exec python -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" \
    "$(dirname "$0")/$SCRIPT" "${@:3}" --launcher pytorch
