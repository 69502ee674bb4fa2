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

"""Cost of the Sylvester solver against SciPy/LAPACK and stock JAX (f64).

The full solve A X + X B = C, A and B random with eigenvalue sums away from
zero (randn/sqrt(n) + 3 I), m = n, float64, CPU:

  ours:   jax_patch.scipy.linalg.solve_sylvester (real Schur forms; a
          column-by-column solve in the complex Schur bases for n <= 100,
          the blocked real quasi-triangular wavefront above),
  scipy:  scipy.linalg.solve_sylvester (real Schur + dtrsyl),
  stock:  stock jax.scipy.linalg.solve_sylvester (an m*n-step scan).

For each n, under OpenBLAS's default threading and with
OPENBLAS_NUM_THREADS=1 (the script re-runs itself for each):

  first call: seconds from the first call to its result in a fresh process
      (after imports and input creation; the median over --first-calls
      processes, whose spread is printed under the table), ours and stock:
      tracing, lowering, compilation and one run; "1st warm" is ours again
      in a process that has already run one small LAPACK-backed op (jaxlib's
      lazy setup, about 0.3 s, which any first LAPACK call pays), and
      "1st cach" ours in a process whose JAX persistent compilation cache
      (jax_compilation_cache_dir) holds the solve from an earlier process;
  compile:    seconds of jax.jit(f).lower(a, b, c).compile() in a process
      whose JAX is already initialized, ours and stock;
  new shapes: with default threading, seconds of one call at each size
      n = 2..40 in turn in one fresh process (--new-shapes), ours and
      stock: what a user who solves each shape once pays;
  steady:     milliseconds per call, best of --repeats rounds in which each
      function runs consecutive calls for 0.3 s (see _time), and the ratios
      ours/scipy, schur/scipy (the two real Schur decompositions alone,
      jax.lax.linalg.schur of a and of b in one jit: a floor for any solve
      that computes them) and ours/stock.

With --stacked-sizes N..., also the full solve at those n with the Schur
forms of a and b computed as one batch of two (what solve_sylvester does for
equal shapes up to n = 80: jaxlib's LAPACK kernels run a batch's matrices
on separate threads) and one after the other, and the two Schur forms alone
both ways, each against SciPy's solve.

With --factored, also one solve with reused factors: the triangular kernel
alone on real triangular factors (vs dtrsyl), on the real Schur forms (quasi,
vs dtrsyl), on the complex Schur forms (vs ztrsyl), and
sylvester_solve(factors, c) with its GEMMs (vs dtrsyl plus the same GEMMs in
NumPy).

  python benchmarks/sylvester.py [--sizes 10 30 100 300 600] [--repeats 5]
      [--threads both|default|1] [--max-stock-n 600] [--first-calls 3]
      [--new-shapes 2 40] [--stacked-sizes 48 64 80 96] [--factored]
      [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

_SIZES = [10, 30, 100, 300, 600]

# Run in a fresh process by _first_call: imports, inputs, then one call.
_FIRST_CALL = """
import sys, time
import jax
jax.config.update("jax_enable_x64", True)
if sys.argv[3].startswith("cache="):
  # JAX's persistent compilation cache, on for every compilation.
  jax.config.update("jax_compilation_cache_dir", sys.argv[3][6:])
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
import numpy as np
if sys.argv[2] == "ours":
  from jax_patch.scipy.linalg import solve_sylvester
else:
  from jax.scipy.linalg import solve_sylvester
n = int(sys.argv[1])
rng = np.random.default_rng(0)
a, b = (rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
        for _ in range(2))
c = rng.standard_normal((n, n))
if sys.argv[3] == "warm":
  # JAX's one-time LAPACK setup (jaxlib imports scipy.linalg on the first
  # lowering of a LAPACK call, about 0.3 s), paid by any first LAPACK call.
  jax.block_until_ready(jax.numpy.linalg.inv(np.eye(2)))
t0 = time.perf_counter()
jax.block_until_ready(solve_sylvester(a, b, c))
print(time.perf_counter() - t0)
"""


# Run in a fresh process by _new_shapes: one call at each of many sizes,
# as a user who solves each shape once would.
_NEW_SHAPES = """
import sys, time
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np
if sys.argv[1] == "ours":
  from jax_patch.scipy.linalg import solve_sylvester
else:
  from jax.scipy.linalg import solve_sylvester
rng = np.random.default_rng(0)
for n in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
  a, b = (rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
          for _ in range(2))
  c = rng.standard_normal((n, n))
  t0 = time.perf_counter()
  jax.block_until_ready(solve_sylvester(a, b, c))
  print(time.perf_counter() - t0)
"""


def _new_shapes(which, lo, hi):
  out = subprocess.run(
      [sys.executable, "-c", _NEW_SHAPES, which, str(lo), str(hi)],
      check=True, capture_output=True, text=True, env=os.environ.copy())
  return [float(x) for x in out.stdout.split()]


def _load():
  return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _first_call_once(n, which, mode):
  out = subprocess.run(
      [sys.executable, "-c", _FIRST_CALL, str(n), which, mode], check=True,
      capture_output=True, text=True, env=os.environ.copy())
  return float(out.stdout.split()[-1])


# Every first-call time measured, by (n, column), for the spread printed
# under the table.
_FIRST_CALLS = {}


def _first_call(n, which, mode="cold", calls=3, column=None):
  # The median over fresh processes: one process's first call varies by
  # 0.1-0.3 s on a 2-core machine.
  times = [_first_call_once(n, which, mode) for _ in range(calls)]
  _FIRST_CALLS[n, column or which] = times
  return float(np.median(times))


def _first_call_cached(n, calls=3):
  # A first call whose compilation JAX's persistent cache already holds,
  # from a previous process: the cost of a shape seen in an earlier run.
  with tempfile.TemporaryDirectory() as cache:
    _first_call_once(n, "ours", f"cache={cache}")
    return _first_call(n, "ours", f"cache={cache}", calls, "cached")


def _time(fns, repeats, block_s=0.3, min_calls=3):
  """Best seconds per call of each thunk over repeats rounds of blocks."""
  # Each round calls each function in turn, repeatedly for at least block_s
  # seconds (and 3 calls), timing every call; the best call counts. A call
  # pays for what ran just before it on the same cores: OpenBLAS's worker
  # threads keep spinning for about 0.1 s after a multithreaded call
  # returns. Measured here at n = 300, the jitted solve right after SciPy's
  # took a median 140 ms instead of 93 ms, the triangular solve right after
  # NumPy products 16 ms instead of 11.5 ms, and SciPy's solve back to back
  # a median 172 ms (best 94 ms). Blocks let each function reach the state
  # it runs best in.
  import jax  # pylint: disable=g-import-not-at-top
  best = {name: np.inf for name in fns}
  for _ in range(repeats):
    for name, fn in fns.items():
      start, calls = time.perf_counter(), 0
      while calls < min_calls or time.perf_counter() - start < block_s:
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best[name] = min(best[name], time.perf_counter() - t0)
        calls += 1
  return best


def _inputs(n, seed=0):
  rng = np.random.default_rng(seed)
  a = rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
  b = rng.standard_normal((n, n)) / np.sqrt(n) + 3 * np.eye(n)
  c = rng.standard_normal((n, n))
  return a, b, c


def _real_triangular(n, seed=1):
  # Well-conditioned real upper triangular factors, as real Schur forms with
  # real spectra would be.
  rng = np.random.default_rng(seed)
  def tri():
    return (np.triu(rng.standard_normal((n, n)), 1) / np.sqrt(n) +
            np.diag(rng.uniform(1, 2, n)))
  return tri(), tri(), rng.standard_normal((n, n))


def _compile_seconds(jax, f, *args):
  t0 = time.perf_counter()
  jax.jit(f).lower(*args).compile()
  return time.perf_counter() - t0


def _compile(jax, f, *args):
  # A jitted function, compiled by one call: later calls take jit's C++
  # dispatch path, as a user's would (a Compiled object's __call__ is a
  # slower Python path).
  f = jax.jit(f)
  jax.block_until_ready(f(*args))
  return f


def _ms(t):
  return f"{t * 1e3:9.2f}"


def _full_solve_row(n, args, ours_fn, stock_fn):
  import jax  # pylint: disable=g-import-not-at-top
  import scipy.linalg  # pylint: disable=g-import-not-at-top
  a, b, c = _inputs(n)
  do_stock = n <= args.max_stock_n
  k = args.first_calls
  first = {"ours": _first_call(n, "ours", calls=k),
           "stock": _first_call(n, "stock", calls=k) if do_stock else np.nan,
           "warm": _first_call(n, "ours", "warm", k, "warm"),
           "cached": _first_call_cached(n, k)}
  comp = {"ours": _compile_seconds(jax, ours_fn, a, b, c),
          "stock": (_compile_seconds(jax, stock_fn, a, b, c) if do_stock else
                    np.nan)}
  ours = _compile(jax, ours_fn, a, b, c)
  # The two real Schur decompositions alone: a floor for any solve that
  # computes them, SciPy's included.
  schur2 = _compile(jax, lambda a, b: (jax.lax.linalg.schur(a),
                                       jax.lax.linalg.schur(b)), a, b)
  fns = {"ours": lambda: ours(a, b, c),
         "scipy": lambda: scipy.linalg.solve_sylvester(a, b, c),
         "schur2": lambda: schur2(a, b)}
  x = scipy.linalg.solve_sylvester(a, b, c)
  err = np.abs(np.asarray(ours(a, b, c)) - x).max() / np.abs(x).max()
  t = _time(fns, args.repeats)
  if do_stock:
    stock = _compile(jax, stock_fn, a, b, c)
    # The stock scan takes seconds per call beyond n ~ 100: one call there.
    slow = n > 100
    t.update(_time({"stock": lambda: stock(a, b, c)},
                   1 if slow else args.repeats, 0 if slow else 0.3,
                   1 if slow else 3))
  else:
    t["stock"] = np.nan
  s = t["scipy"]
  print(f"{n:5d} {first['ours']:8.2f} {first['warm']:8.2f} "
        f"{first['cached']:8.2f} "
        f"{first['stock']:8.2f} "
        f"{comp['ours']:8.2f} {comp['stock']:8.2f} {_ms(t['ours'])} "
        f"{_ms(s)} {_ms(t['stock'])} {t['ours'] / s:8.2f} "
        f"{t['schur2'] / s:8.2f} "
        f"{t['ours'] / t['stock']:8.3f} {err:8.1e}", flush=True)


def _stacked_row(n, repeats):
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import scipy.linalg  # pylint: disable=g-import-not-at-top
  from jax_patch._src.scipy import linalg as patch_linalg_internal  # pylint: disable=g-import-not-at-top
  a, b, c = _inputs(n)
  solve = patch_linalg_internal._solve_sylvester.__wrapped__

  def ours(threshold):
    # solve_sylvester's jitted body, traced with the stacking threshold set.
    def f(a, b, c):
      old = patch_linalg_internal._SYLVESTER_STACKED_FACTORS
      patch_linalg_internal._SYLVESTER_STACKED_FACTORS = threshold
      try:
        return solve(a, b, c, 1e-8, batch=(), method="schur", rtol=None,
                     broadening=None)
      finally:
        patch_linalg_internal._SYLVESTER_STACKED_FACTORS = old
    return _compile(jax, f, a, b, c)

  stacked, separate = ours(n), ours(0)
  schur = jax.lax.linalg.schur
  pair_stacked = _compile(jax, lambda a, b: schur(jnp.stack([a, b])), a, b)
  pair_separate = _compile(jax, lambda a, b: (schur(a), schur(b)), a, b)
  fns = {"stacked": lambda: stacked(a, b, c),
         "separate": lambda: separate(a, b, c),
         "scipy": lambda: scipy.linalg.solve_sylvester(a, b, c),
         "pair_stacked": lambda: pair_stacked(a, b),
         "pair_separate": lambda: pair_separate(a, b)}
  x = scipy.linalg.solve_sylvester(a, b, c)
  err = max(np.abs(np.asarray(f(a, b, c)) - x).max() / np.abs(x).max()
            for f in (stacked, separate))
  t = _time(fns, repeats)
  s = t["scipy"]
  print(f"{n:5d} {_ms(t['stacked'])} {_ms(t['separate'])} {_ms(s)} "
        f"{t['stacked'] / s:8.2f} {t['separate'] / s:8.2f} "
        f"{t['stacked'] / t['separate']:8.2f} "
        f"{t['pair_stacked'] / t['pair_separate']:8.2f} {err:8.1e}",
        flush=True)


def _factored_rows(n, repeats):
  import jax  # pylint: disable=g-import-not-at-top
  import scipy.linalg  # pylint: disable=g-import-not-at-top
  from jax_patch._src.lax import sylvester as patch_lax_internal  # pylint: disable=g-import-not-at-top
  from jax_patch.lax import linalg as patch_lax_linalg  # pylint: disable=g-import-not-at-top
  from jax_patch.scipy import linalg as patch_linalg  # pylint: disable=g-import-not-at-top
  solve = lambda a, b, c: patch_lax_linalg.sylvester_solve(a, b, c)
  quasi = lambda a, b, c: patch_lax_linalg.sylvester_solve(
      a, b, c, quasi_triangular=True)
  # Real triangular factors vs dtrsyl.
  ta, tb, c = _real_triangular(n)
  f_real = _compile(jax, solve, ta, tb, c)
  # The real Schur factors of the full solve vs dtrsyl, and their complex
  # Schur forms vs ztrsyl.
  a, b, c2 = _inputs(n)
  factors = jax.jit(patch_linalg.sylvester_factor)(a, b)
  za, zb = np.asarray(factors.z_a), np.asarray(factors.z_b)
  qa, qb = np.asarray(factors.t_a), np.asarray(factors.t_b)
  f2 = za.T @ c2 @ zb
  f_quasi = _compile(jax, quasi, qa, qb, f2)
  to_complex = jax.jit(patch_lax_internal._real_schur_to_complex)
  tca, zca = map(np.asarray, to_complex(qa, za))
  tcb, zcb = map(np.asarray, to_complex(qb, zb))
  cc = (zca.conj().T @ c2 @ zcb).astype(np.complex128)
  f_cplx = _compile(jax, solve, tca, tcb, cc)
  f_fact = _compile(jax, patch_linalg.sylvester_solve, factors, c2)

  def numpy_factored():
    y, scale, _ = scipy.linalg.lapack.dtrsyl(qa, qb, za.T @ c2 @ zb)
    return za @ (y / scale) @ zb.T

  lapack = scipy.linalg.lapack
  fns = {
      "ours_r": lambda: f_real(ta, tb, c),
      "dtrsyl": lambda: lapack.dtrsyl(ta, tb, c),
      "ours_q": lambda: f_quasi(qa, qb, f2),
      "dtrsyl_q": lambda: lapack.dtrsyl(qa, qb, f2),
      "ours_c": lambda: f_cplx(tca, tcb, cc),
      "ztrsyl": lambda: lapack.ztrsyl(tca, tcb, cc),
      "ours_f": lambda: f_fact(factors, c2),
      "np_f": numpy_factored,
  }
  errs = []
  for f, ref in ((lambda: f_real(ta, tb, c),
                  lambda: lapack.dtrsyl(ta, tb, c)[0]),
                 (lambda: f_quasi(qa, qb, f2),
                  lambda: lapack.dtrsyl(qa, qb, f2)[0]),
                 (lambda: f_cplx(tca, tcb, cc),
                  lambda: lapack.ztrsyl(tca, tcb, cc)[0]),
                 (lambda: f_fact(factors, c2), numpy_factored)):
    y, x = np.asarray(f()), ref()
    errs.append(np.abs(y - x).max() / np.abs(x).max())
  t = _time(fns, repeats)
  cols = [("ours_r", "dtrsyl"), ("ours_q", "dtrsyl_q"), ("ours_c", "ztrsyl"),
          ("ours_f", "np_f")]
  print(f"{n:5d} " + " ".join(
      f"{_ms(t[x])} {_ms(t[y])} {t[x] / t[y]:7.2f}x" for x, y in cols) +
        f" {max(errs):9.1e}", flush=True)


def _run(args):
  """The tables for this process's threading setting."""
  import jax  # pylint: disable=g-import-not-at-top
  import scipy  # pylint: disable=g-import-not-at-top
  jax.config.update("jax_enable_x64", True)
  stock_fn = jax.scipy.linalg.solve_sylvester
  from jax_patch.scipy import linalg as patch_linalg  # pylint: disable=g-import-not-at-top
  # JAX's one-time initialization is not compile time.
  jax.block_until_ready(jax.jit(lambda x: x + 1)(np.ones(2)))
  print(f"\njax {jax.__version__}, scipy {scipy.__version__}, "
        f"{jax.devices()[0].device_kind}, OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, load average "
        f"{_load()}, best of {args.repeats}")
  print("Full solve A X + X B = C, float64, m = n: first call and compile in "
        "s, steady state in ms per call")
  print(f"{'n':>5s} {'1st ours':>8s} {'1st warm':>8s} {'1st cach':>8s} "
        f"{'1st stk':>8s} "
        f"{'cmp ours':>8s} "
        f"{'cmp stk':>8s} {'ours':>9s} {'scipy':>9s} {'stock':>9s} "
        f"{'ours/sp':>8s} {'schur/sp':>8s} {'ours/stk':>8s} {'rel err':>8s}")
  for n in args.sizes:
    _full_solve_row(n, args, patch_linalg.solve_sylvester, stock_fn)
  print(f"First calls: median of {args.first_calls} fresh processes each; "
        "min-max, s:")
  for column in ("ours", "warm", "cached", "stock"):
    spread = [f"{min(t):.2f}-{max(t):.2f}" for (n, c), t in
              _FIRST_CALLS.items() if c == column]
    print(f"  {column:>6s}: " + ", ".join(spread))
  lo, hi = args.new_shapes
  if hi >= lo:
    print(f"New shapes in one fresh process, one call each at n = {lo} ... "
          f"{hi}, s:")
    for which in ("ours", "stock"):
      t = _new_shapes(which, lo, hi)
      print(f"  {which:>6s}: total {sum(t):6.2f}, first {t[0]:5.2f}, later "
            f"median {np.median(t[1:]):5.2f} (max {max(t[1:]):5.2f})")
  if args.stacked_sizes:
    print("\nFull solve with the two Schur forms as one batch of two "
          "(stacked) and one after the other (separate), ms; pair: the two "
          "Schur forms alone")
    print(f"{'n':>5s} {'stacked':>9s} {'separate':>9s} {'scipy':>9s} "
          f"{'stk/sp':>8s} {'sep/sp':>8s} {'stk/sep':>8s} {'pair s/s':>8s} "
          f"{'rel err':>8s}")
    for n in args.stacked_sizes:
      _stacked_row(n, args.repeats)
  if args.factored:
    print("\nSolve with reused factors (tri, quasi: the triangular solve "
          "alone; factored: sylvester_solve(factors, c) with its GEMMs), ms")
    heads = [("tri f64", "dtrsyl"), ("quasi f64", "dtrsyl"),
             ("tri c128", "ztrsyl"), ("factored", "np+dtrsyl")]
    print(f"{'n':>5s} " + " ".join(f"{x:>9s} {y:>9s} {'ratio':>8s}"
                                   for x, y in heads) + f" {'max err':>9s}")
    for n in args.sizes:
      _factored_rows(n, args.repeats)
  print(f"load average at end: {_load()}", flush=True)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sizes", type=int, nargs="+", default=_SIZES)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--threads", choices=["both", "default", "1"],
                      default="both",
                      help="OpenBLAS threading: default, 1, or both in turn")
  parser.add_argument("--max-stock-n", type=int, default=600,
                      help="largest n at which stock JAX is run")
  parser.add_argument("--first-calls", type=int, default=3,
                      help="fresh processes per first-call time (median)")
  parser.add_argument("--new-shapes", type=int, nargs=2, default=[2, 40],
                      metavar=("LO", "HI"),
                      help="one call at each n = LO..HI in one process "
                      "(HI < LO: skip)")
  parser.add_argument("--stacked-sizes", type=int, nargs="+", default=[],
                      help="also time the Schur forms stacked and separate "
                      "at these n")
  parser.add_argument("--factored", action="store_true",
                      help="also time solves with reused factors")
  parser.add_argument("--quick", action="store_true",
                      help="smoke test: small sizes, 1 repeat")
  parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.quick:
    args.sizes, args.repeats, args.first_calls = [10, 30], 1, 1
    args.new_shapes = [2, 4]
  if args.child or args.threads != "both":
    if args.threads == "1" and os.environ.get("OPENBLAS_NUM_THREADS") != "1":
      # OpenBLAS reads the variable when it is loaded: start over with it.
      os.environ["OPENBLAS_NUM_THREADS"] = "1"
      os.execv(sys.executable, [sys.executable, *sys.argv])
    _run(args)
    return
  argv = ["--sizes", *map(str, args.sizes), "--repeats", str(args.repeats),
          "--max-stock-n", str(args.max_stock_n), "--first-calls",
          str(args.first_calls), "--child"]
  # The new-shapes run once, with OpenBLAS's default threading.
  new_shapes = ["--new-shapes", *map(str, args.new_shapes)]
  if args.stacked_sizes:
    argv += ["--stacked-sizes", *map(str, args.stacked_sizes)]
  if args.factored:
    argv.append("--factored")
  for setting in ("default", "1"):
    env = os.environ.copy()
    env.pop("OPENBLAS_NUM_THREADS", None)
    if setting == "1":
      env["OPENBLAS_NUM_THREADS"] = "1"
    subprocess.run([sys.executable, __file__, *argv, "--threads", setting,
                    *(new_shapes if setting == "default" else
                      ["--new-shapes", "1", "0"])],
                   check=True, env=env)


if __name__ == "__main__":
  main()
