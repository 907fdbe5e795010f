#!/usr/bin/env bash
# `asl-course bench augmentation` on a lent GPU machine (issue 26, item 3), one run: Keras 3 on
# JAX, then on PyTorch (the machine has both, and no TensorFlow: the generator and the tf.data
# ways say so and are not timed). Prints, per backend, plain (no augmentation), layers in the
# model, the fused layer, the jit layer and the whole data set on the device, as ratios to plain.
#
# Prepare once, on the developer's machine, in the repository's root (about 33 MB travels):
#   echo /.whl/ >> .git/info/exclude; echo /.device_data/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
#     --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0
#   mkdir -p .device_data && cp ../shared/asl_data/sign_mnist_*.csv.gz .device_data/
# (Keras' other needs, JAX with CUDA and PyTorch with CUDA are on the machine's image: no CUDA
# wheels travel.) Then one call of the device tool:
#   run(command="bash deploy/device/bench_augmentation.sh", carry=[".whl", ".device_data"], timeout_s=570)
# What comes back in $OUT: env.txt (GPU, versions), jax.log/.json, torch.log/.json.
# STEPS (default 200 steps of batch 32 per way and round), ROUNDS (2) and SECONDS_PER_BACKEND
# (250) change the run's size; WHEELS="" skips the install (a machine that already has Keras).
set -uo pipefail
STEPS=${STEPS:-200} ROUNDS=${ROUNDS:-2} SECONDS_PER_BACKEND=${SECONDS_PER_BACKEND:-250}
WHEELS=${WHEELS-.whl} DATA=${DATA:-.device_data}
OUT=${OUT:-/tmp/bench-augmentation-out}
mkdir -p "$OUT"
if [ -n "$WHEELS" ]; then
    ls "$WHEELS"/*.whl >/dev/null 2>&1 || { echo "no wheels in $WHEELS: see this script's header (pip download ...)"; exit 2; }
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl || exit 2
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
export ASL_DATA_DIR=${ASL_DATA_DIR:-/tmp/asl_data}
{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
    python3 -c 'import importlib.metadata as m; print({p: m.version(p) for p in ("keras", "jax", "jaxlib", "torch", "numpy")})' 2>&1
} | tee "$OUT/env.txt"
if [ ! -f "$ASL_DATA_DIR/SOURCE.json" ]; then
    ls "$DATA"/sign_mnist_* >/dev/null 2>&1 || { echo "no data in $DATA: see this script's header (cp ...csv.gz)"; exit 2; }
    python3 -m asl_course data import "$DATA" --dest "$ASL_DATA_DIR" || exit 2
fi
status=0
for backend in jax torch; do
    echo "=== Keras on $backend: $STEPS steps per way and round, $ROUNDS rounds ==="
    KERAS_BACKEND=$backend timeout "$SECONDS_PER_BACKEND" python3 -m asl_course bench augmentation \
        --steps "$STEPS" --rounds "$ROUNDS" --json "$OUT/$backend.json" 2>&1 | tee "$OUT/$backend.log"
    code=${PIPESTATUS[0]}
    [ "$code" = 0 ] || { echo "Keras on $backend: exit $code (124: over $SECONDS_PER_BACKEND s)"; status=1; }
done
exit $status
