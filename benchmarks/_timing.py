# Copyright 2026 The jax_patch Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     https://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Interleaved best-of-N timing shared by the benchmark scripts."""

import time

import numpy as np


def interleaved_best(fns, args, repeats, number, clock=time.perf_counter):
  """Best time per call (seconds) of each of ``fns`` on ``args``.

  The functions are timed in turn within each repeat, in reversed order
  every other repeat, so that drift in the machine's load, and whatever one
  function leaves behind for the next (OpenBLAS threads spinning), hit all
  of them alike.
  """
  best = {name: np.inf for name in fns}
  for repeat in range(repeats):
    for name, fn in list(fns.items())[::-1 if repeat % 2 else 1]:
      fn(*args).block_until_ready()
      t0 = clock()
      for _ in range(number):
        r = fn(*args)
      r.block_until_ready()
      best[name] = min(best[name], (clock() - t0) / number)
  return best


def _compile_grad(loss, a, w):
  """AOT-compiled jit(grad(loss)): (executable, compile s, first call s)."""
  import jax  # pylint: disable=g-import-not-at-top
  # A fresh function object per call, so no trace is shared across install().
  grad = jax.jit(jax.grad(lambda a, w: loss(a, w)))
  t0 = time.perf_counter()
  compiled = grad.lower(a, w).compile()
  t1 = time.perf_counter()
  compiled(a, w).block_until_ready()
  return compiled, t1 - t0, time.perf_counter() - t1


def compare_grad_with_stock(doc, loss, inputs, **defaults):
  """Command-line driver: jit(grad(loss)), stock rules against jax_patch's.

  For each dtype and shape, ``inputs(shape, dtype)`` gives ``(a, w)`` and
  ``jit(grad(loss))(a, w)`` is compiled ahead of time twice in one process:
  with the stock rules (before ``jax_patch.install()``) and with the patched
  ones (after; rules are read at trace time, so both executables stay
  valid). Prints the best time per call of each (interleaved blocks of
  consecutive calls), the ratio patched/stock, the relative difference of
  the gradients, and the compile and first-call times. Keyword arguments
  replace the defaults of the command-line options (``sizes=[64, 256]``).
  """
  import argparse  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  import jax_patch  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(description=doc.splitlines()[0])
  parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
  parser.add_argument("--batch", type=int, default=512)
  parser.add_argument("--batch-n", type=int, default=64)
  parser.add_argument("--repeats", type=int, default=7)
  parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
  parser.add_argument("--quick", action="store_true",
                      help="smoke test: small sizes, 2 repeats")
  parser.add_argument(
      "--clock", choices=["wall", "cpu"], default="wall",
      help="cpu: this process's CPU time, which other jobs' load hardly "
      "changes; meaningful single-threaded only (taskset -c 1, "
      "OPENBLAS_NUM_THREADS=1, XLA_FLAGS='--xla_cpu_multi_thread_eigen=false "
      "intra_op_parallelism_threads=1')")
  parser.set_defaults(**defaults)
  args = parser.parse_args()
  if args.quick:
    args.sizes, args.batch, args.batch_n, args.repeats = [16, 64], 8, 16, 2
  shapes = [(n, n) for n in args.sizes]
  if args.batch:
    shapes.append((args.batch, args.batch_n, args.batch_n))
  load = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg())
  jax_patch.uninstall()
  clock = time.process_time if args.clock == "cpu" else time.perf_counter
  print(f"jax {jax.__version__}, {jax.devices()[0].device_kind}, load average "
        f"{load()}, best of {args.repeats}, {args.clock} clock")
  print(f"{'shape':>12s} {'dtype':>8s} {'stock ms':>9s} {'patched ms':>10s} "
        f"{'ratio':>6s} {'max|diff|':>9s} {'compile s':>13s} "
        f"{'first call ms':>15s}")
  for dtype in args.dtypes:
    for shape in shapes:
      a, w = inputs(shape, np.dtype(dtype))
      stock, stock_compile, stock_first = _compile_grad(loss, a, w)
      jax_patch.install()
      try:
        patched, patched_compile, patched_first = _compile_grad(loss, a, w)
      finally:
        jax_patch.uninstall()
      fns = {"stock": stock, "patched": patched}
      g_stock, g_patched = (np.asarray(f(a, w)) for f in fns.values())
      diff = (np.abs(g_stock - g_patched).max() /
              max(np.abs(g_stock).max(), np.finfo(dtype).tiny))
      # Blocks of at least ~20 ms, so timer overhead is negligible.
      t0 = clock()
      stock(a, w).block_until_ready()
      number = max(1, int(0.02 / max(clock() - t0, 1e-6)))
      t = interleaved_best(fns, (a, w), args.repeats, number, clock)
      print(f"{'x'.join(map(str, shape)):>12s} {dtype:>8s} "
            f"{t['stock'] * 1e3:9.3f} {t['patched'] * 1e3:10.3f} "
            f"{t['patched'] / t['stock']:6.3f} {diff:9.1e} "
            f"{stock_compile:6.2f}/{patched_compile:<6.2f} "
            f"{stock_first * 1e3:7.1f}/{patched_first * 1e3:<7.1f}",
            flush=True)
  print(f"load average at end: {load()}")
