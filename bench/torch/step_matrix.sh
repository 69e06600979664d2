#!/bin/sh
# Step-time matrix of the PyTorch mirror (issue 8): both models x 1k/4k/16k patches x 1 and 2 threads, feature dim
# 1024, preset layer sizes and batch sizes. One JSON line per run on stdout, with the 1-minute load average before
# it (timings on a shared machine are only as good as its quiet). Usage: sh bench/torch/step_matrix.sh [repeats]
cd "$(dirname "$0")/../.." || exit 1
R=${1:-15}
for model in abmil chimera-bilinear; do
  for n in 1024 4096 16384; do
    for t in 1 2; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      out=$(/usr/bin/python3 bench/torch/train_bench.py --model "$model" --mode step --patches "$n" --feature-dim 1024 \
        --threads "$t" --repeats "$R") || exit 1
      echo "{\"load1\": $load, \"result\": $out}"
    done
  done
done
