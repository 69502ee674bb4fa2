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

"""Reverse-mode cost of `expm_hermitian` against the stock paths.

Times ``grad(lambda a: sum(W * f(a)))`` for

  ours:   jax_patch.lax.linalg.expm_hermitian (Daleckii-Krein rule),
  eigh:   V e^L V^H through the stock eigh JVP rule (wrong at repeated
          eigenvalues; the input here is random, so non-degenerate),
  Pade:   jax.scipy.linalg.expm (scaling and squaring, any matrix).

Each function is jitted and compiled ahead of time, the three are timed
interleaved, and the best of several repeats is reported.

  python benchmarks/matfun.py [--sizes 64 256 1024] [--repeats 7] [--f32]
"""

from __future__ import annotations

import argparse

from _timing import interleaved_best  # benchmarks/_timing.py
import jax
import jax.numpy as jnp
import numpy as np

from jax_patch.lax.linalg import expm_hermitian


def _eigh_expm(a):
  w, v = jnp.linalg.eigh(a)
  return (v * jnp.exp(w)[..., None, :]) @ jnp.conj(v).T


def _pade_expm(a):
  return jax.scipy.linalg.expm((a + jnp.conj(a).T) / 2)


_CANDIDATES = (("ours", expm_hermitian), ("eigh", _eigh_expm),
               ("pade", _pade_expm))


def _compiled_grads(a, w):
  out = {}
  for name, f in _CANDIDATES:
    loss = lambda a, w, f=f: jnp.sum(w * f(a))
    out[name] = jax.jit(jax.grad(loss)).lower(a, w).compile()
  return out


def _inputs(n, dtype, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.standard_normal((n, n))
  a = (x + x.T) / (2 * np.sqrt(n))  # Spectrum in about [-1.5, 1.5].
  w = rng.standard_normal((n, n))
  return jnp.asarray(a, dtype), jnp.asarray(w, dtype)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--f32", action="store_true",
                      help="also time float32")
  args = parser.parse_args(argv)
  jax.config.update("jax_enable_x64", True)
  dtypes = [np.float64] + ([np.float32] if args.f32 else [])
  print(f"backend: {jax.default_backend()}, devices: {jax.devices()}")
  header = (f"{'dtype':>8} {'n':>5} {'ours ms':>9} {'eigh ms':>9} "
            f"{'pade ms':>9} {'ours/eigh':>10} {'ours/pade':>10}")
  print(header)
  print("-" * len(header))
  for dtype in dtypes:
    for n in args.sizes:
      a, w = _inputs(n, dtype)
      fns = _compiled_grads(a, w)
      g = {name: np.asarray(fn(a, w)) for name, fn in fns.items()}
      sym = lambda x: (x + x.T) / 2
      err = np.abs(g["ours"] - sym(g["pade"])).max() / np.abs(g["pade"]).max()
      number = max(1, int(2e8 // n**3))
      t = interleaved_best(fns, (a, w), args.repeats, number)
      print(f"{np.dtype(dtype).name:>8} {n:>5} {1e3 * t['ours']:>9.3f} "
            f"{1e3 * t['eigh']:>9.3f} {1e3 * t['pade']:>9.3f} "
            f"{t['ours'] / t['eigh']:>10.2f} {t['ours'] / t['pade']:>10.2f}"
            f"   (|ours - pade| / |pade| = {err:.1e})")


if __name__ == "__main__":
  main()
