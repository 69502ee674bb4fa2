# Copyright 2026 The JAX Authors.
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

"""Shape bucketing for solve_sylvester, measured: why it was not adopted.

Eager calls could share compiled solves across nearby shapes by padding A
and B with zero blocks, and C with zeros, to a size class N >= n:
blockdiag(A, 0) X' + X' blockdiag(B, 0) = [[C, 0], [0, 0]] has the solution
X' = [[X, 0], [0, 0]] (the padding's pivots are 0 + lambda_j(B),
lambda_i(A) + 0 and 0, whose right-hand sides are zero, and the zero pivots
are dropped with tol=None), and LAPACK's Schur decomposition keeps the zero
block decoupled (its balancing isolates the zero rows). Padding in NumPy
costs no compilation, so a new shape whose class is compiled costs
microseconds instead of a compile. This script measures, float64, CPU, in
one process:

  steady:  ms per call of the exact solve and of the padded one (best of
           --repeats blocks), and their ratio: what every later call at a
           padded shape loses;
  error:   max |X'[:n, :n] - X| / max |X| and max |X' outside| (exact
           decoupling gives 0 outside);
  new:     seconds of the first call at a new shape, exact (a compile) and
           padded (NumPy padding of the inputs and slicing of the result,
           with the class already compiled).

  python benchmarks/sylvester_buckets.py [--pairs 17:24 33:40 ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sylvester import _inputs, _time  # noqa: E402  pylint: disable=g-import-not-at-top

_PAIRS = ["5:8", "9:12", "17:20", "17:24", "33:36", "33:40", "33:48",
          "65:72", "65:80", "81:88", "81:100"]


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--pairs", nargs="+", default=_PAIRS,
                      help="n:N, a size and the class it is padded to")
  parser.add_argument("--repeats", type=int, default=5)
  args = parser.parse_args()

  import jax  # pylint: disable=g-import-not-at-top
  jax.config.update("jax_enable_x64", True)
  import jax_patch.scipy.linalg as jl  # pylint: disable=g-import-not-at-top

  solve = lambda a, b, c: jl.solve_sylvester(a, b, c, tol=None)

  def pad(x, size):
    return np.pad(np.asarray(x), [(0, size - x.shape[-1])] * 2)

  def padded(a, b, c, size):
    n = c.shape[-1]
    x = solve(pad(a, size), pad(b, size), pad(c, size))
    return jax.device_put(np.ascontiguousarray(np.asarray(x)[:n, :n]))

  print(f"jax {jax.__version__}, float64, CPU, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
        f"best of {args.repeats}")
  print(f"{'n':>4} {'N':>4} {'exact ms':>9} {'padded ms':>9} {'ratio':>6} "
        f"{'rel err':>8} {'outside':>8} {'new exact s':>11} "
        f"{'new padded s':>12}")
  seen, seen_n = set(), set()
  for pair in args.pairs:
    n, size = map(int, pair.split(":"))
    a, b, c = _inputs(n, seed=n)
    if size not in seen:
      # Compile the class once, as an earlier shape of the class would.
      seen.add(size)
      padded(*_inputs(size - 1, seed=1), size)
    t0 = time.perf_counter()
    jax.block_until_ready(padded(a, b, c, size))
    new_padded = time.perf_counter() - t0
    t0 = time.perf_counter()
    x = np.asarray(solve(a, b, c))
    # Only the first pair with this n compiles the exact solve.
    new_exact = (f"{time.perf_counter() - t0:11.3f}" if n not in seen_n else
                 f"{'compiled':>11}")
    seen_n.add(n)
    xp = np.asarray(solve(pad(a, size), pad(b, size), pad(c, size)))
    err = np.abs(xp[:n, :n] - x).max() / np.abs(x).max()
    outside = max(np.abs(xp[n:]).max(initial=0),
                  np.abs(xp[:, n:]).max(initial=0))
    t = _time({"exact": lambda: solve(a, b, c),
               "padded": lambda: padded(a, b, c, size)}, args.repeats)
    print(f"{n:4d} {size:4d} {t['exact'] * 1e3:9.3f} "
          f"{t['padded'] * 1e3:9.3f} {t['padded'] / t['exact']:6.2f} "
          f"{err:8.1e} {outside:8.1e} {new_exact} {new_padded:12.4f}")


if __name__ == "__main__":
  main()
