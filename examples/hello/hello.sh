#!/bin/sh
# Run by examples/hello/.solstice/workflow.kdl inside the VM, from the checked-out repository.
set -e
echo "$GREETING"
echo "I am $(id -un) on $(hostname), in $(pwd)"
echo "This directory holds: $(ls -A | tr '\n' ' ')"
