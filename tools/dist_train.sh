#!/usr/bin/env bash
# Distributed training, MMPose's interface (torchrun; NNODES, NODE_RANK,
# MASTER_ADDR, PORT for several nodes):
#   tools/dist_train.sh CONFIG GPUS [train.py options]
exec "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
