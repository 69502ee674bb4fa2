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

"""Reverse-mode cost of the degenerate-aware eigh JVP against the stock rule.

Times ``jit(grad(lambda a: sum(W * V_k V_k^T)))``, V_k the eigenvectors of
the k = n/2 lowest eigenvalues of a random (non-degenerate) symmetric
matrix, compiled ahead of time twice in one process: with the stock eigh JVP
rule (before ``jax_patch.install()``) and with the patched one (after; the
rule is read at trace time, so both executables stay valid). The two are
timed interleaved and the best of several repeats is reported, with the
ratio patched/stock (goal: at most 1.02).

  python benchmarks/eigh_grad.py [--sizes 64 256 1024] [--batch 512]
                                 [--batch-n 64] [--repeats 7] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

from _timing import interleaved_best  # benchmarks/_timing.py
import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax_patch  # noqa: E402


def _loss(a, w):
  k = a.shape[-1] // 2
  _, v = jnp.linalg.eigh(a)
  vk = v[..., :, :k]
  return jnp.sum(w * (vk @ jnp.swapaxes(vk, -1, -2)))


def _compile(a, w):
  # A fresh function object per call, so no trace is shared across install().
  grad = jax.grad(lambda a, w: _loss(a, w))
  return jax.jit(grad).lower(a, w).compile()


def _inputs(shape, dtype, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.standard_normal(shape)
  a = (x + np.swapaxes(x, -1, -2)) / 2
  w = rng.standard_normal(shape)
  return a.astype(dtype), w.astype(dtype)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
  parser.add_argument("--batch", type=int, default=512)
  parser.add_argument("--batch-n", type=int, default=64)
  parser.add_argument("--repeats", type=int, default=7)
  parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
  parser.add_argument("--quick", action="store_true",
                      help="smoke test: small sizes, 2 repeats")
  args = parser.parse_args()
  if args.quick:
    args.sizes, args.batch, args.batch_n, args.repeats = [16, 64], 8, 16, 2
  shapes = [(n, n) for n in args.sizes]
  if args.batch:
    shapes.append((args.batch, args.batch_n, args.batch_n))
  jax_patch.uninstall()
  print(f"jax {jax.__version__}, {jax.devices()[0].device_kind}, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"best of {args.repeats}")
  print(f"{'shape':>14s} {'dtype':>8s} {'stock ms':>10s} {'patched ms':>10s} "
        f"{'ratio':>7s} {'max|diff|':>10s}")
  for dtype in args.dtypes:
    for shape in shapes:
      a, w = _inputs(shape, np.dtype(dtype))
      stock = _compile(a, w)
      jax_patch.install()
      try:
        patched = _compile(a, w)
      finally:
        jax_patch.uninstall()
      fns = {"stock": stock, "patched": patched}
      g_stock, g_patched = (np.asarray(f(a, w)) for f in fns.values())
      diff = (np.abs(g_stock - g_patched).max() /
              max(np.abs(g_stock).max(), np.finfo(dtype).tiny))
      # Calls of at least ~20 ms per timing, so timer overhead is negligible.
      t0 = time.perf_counter()
      stock(a, w).block_until_ready()
      number = max(1, int(0.02 / max(time.perf_counter() - t0, 1e-6)))
      t = interleaved_best(fns, (a, w), args.repeats, number)
      print(f"{'x'.join(map(str, shape)):>14s} {dtype:>8s} "
            f"{t['stock'] * 1e3:10.3f} {t['patched'] * 1e3:10.3f} "
            f"{t['patched'] / t['stock']:7.3f} {diff:10.1e}", flush=True)
  print(f"load average at end: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
  main()
