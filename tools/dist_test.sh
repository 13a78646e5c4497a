#!/usr/bin/env bash
# Distributed testing, MMPose's interface (torchrun; NNODES, NODE_RANK,
# MASTER_ADDR, PORT for several nodes):
#   tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
exec "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
