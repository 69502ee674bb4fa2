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

"""The benzene table of issue 9, rerun.

  PYTHONPATH=$PWD python3 tests/benzene_table.py

The Hückel matrix of benzene, H = -(roll(I, 1) + roll(I, -1)), has
eigenvalues -2, -1, -1, 1, 1, 2. Its occupied pair is split by δ with the
perturbation Q diag(0, δ, 0, 0, 0, 0) Q^T in the eigenbasis Q from NumPy's
eigh. W and E come from one RandomState(0) (W = randn(6, 6), then
E = randn(6, 6), E = E + E^T), and the loss is sum(W * V[:, :3] V[:, :3]^T),
smooth at every δ because the occupied/virtual gap is 2. Its derivative in
the direction E is computed four ways: central differences (Richardson, of
the loss evaluated with NumPy's eigh in float64), first-order perturbation
theory in the known eigenbasis, and the patched jax.grad (dotted with E)
and jax.jvp, under both settings of jax_linalg_degeneracy_rtol (issue 22):

* None, the default: only ties (gaps up to 16 sqrt(n) eps max|w| = 1.7e-14
  here) are degenerate. Above that the pair gets the stock rule's
  coefficient K_ij / δ, whose two terms in the projector cancel only to
  about eps |K| / δ: the error grows as eps / δ between ties and 1e-8.
* "sqrt_eps", the near-degenerate band: pairs closer than sqrt(eps) times
  the spread (6e-8 here) are degenerate too, and the error stays at
  rounding level at every δ.

Each row says how the rule treats the pair. Exit status 1 unless both
patched values are within 1e-6 (relative) of the central differences at
every δ with the band, and wherever the pair is degenerate (δ = 0 and
ties) with the default.
"""

from __future__ import annotations

import os
import sys

import numpy as np

_HERE = os.path.dirname(os.path.realpath(__file__))
for _path in (_HERE, os.path.dirname(_HERE)):
  if _path not in sys.path:
    sys.path.insert(0, _path)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import fuzz_oracles as oracles  # noqa: E402
import jax_patch  # noqa: E402

DELTAS = (0.0, 1e-15, 1e-14, 1e-13, 1e-12, 1e-10, 1e-8, 1e-6)
TOLERANCE = 1e-6
N = 6
OCCUPIED = 3
# The values of jax_linalg_degeneracy_rtol, with the names the output uses.
SETTINGS = ((None, "defaults (jax_linalg_degeneracy_rtol=None: ties only)"),
            ("sqrt_eps", "near-degenerate band opted in "
             "(jax_linalg_degeneracy_rtol='sqrt_eps')"))


def problem():
  h = -(np.roll(np.eye(N), 1, 0) + np.roll(np.eye(N), -1, 0))
  lam, q = np.linalg.eigh(h)
  rs = np.random.RandomState(0)
  w = rs.randn(N, N)
  e = rs.randn(N, N)
  e = e + e.T
  return h, lam, q, w, e


def _numpy_loss(w, a):
  _, v = np.linalg.eigh(a)
  return np.sum(w * (v[:, :OCCUPIED] @ v[:, :OCCUPIED].T))


def _jax_loss(w, a):
  _, v = jnp.linalg.eigh(a)
  return jnp.sum(w * (v[:, :OCCUPIED] @ v[:, :OCCUPIED].T))


def degenerate(delta, degeneracy_rtol) -> bool:
  """Whether the rule treats the split pair as degenerate (its documented
  threshold, at the exact eigenvalues)."""
  lam = np.array([-2.0, -1.0, -1.0 + delta, 1.0, 1.0, 2.0])
  return delta <= oracles.degeneracy_tolerance(lam, np.float64,
                                               degeneracy_rtol)


def rows(deltas=DELTAS, *, degeneracy_rtol):
  """(δ, central differences, perturbation theory, grad·E, jvp) per δ,
  with jax_linalg_degeneracy_rtol = degeneracy_rtol."""
  h, lam, q, w, e = problem()
  out = []
  # The option's own scope, since patched(degeneracy_rtol=None) would leave
  # it as it is.
  with jax_patch.patched(), jax_patch.linalg_degeneracy_rtol(
      degeneracy_rtol), jax.enable_x64(True):
    grad = jax.jit(jax.grad(lambda a: _jax_loss(w, a)))
    jvp = jax.jit(lambda a, e: jax.jvp(lambda a: _jax_loss(w, a), (a,),
                                       (e,))[1])
    for delta in deltas:
      split = np.zeros(N)
      split[1] = delta
      a = h + (q * split) @ q.T
      # Step h = 1e-3: O(h^4 / gap^4) truncation and O(eps / h) rounding,
      # both about 1e-13, since the occupied/virtual gap is 2.
      fd = oracles.central_difference(lambda x: _numpy_loss(w, x), a, e,
                                      1e-3)
      mask = (np.arange(N) < OCCUPIED).astype(np.float64)
      pt = np.sum(w * oracles.projector_tangent(q, lam + split, mask, e))
      rev = float(np.sum(np.asarray(grad(a)) * e))
      fwd = float(jvp(a, e))
      out.append((delta, float(fd), float(pt), rev, fwd))
  return out


def error(row) -> float:
  """The larger relative error of the patched grad·E and jvp."""
  _, fd, _, rev, fwd = row
  return max(abs(rev - fd), abs(fwd - fd)) / abs(fd)


def claimed(delta, degeneracy_rtol) -> bool:
  """Whether TOLERANCE is claimed at δ: everywhere with a band, where the
  pair is degenerate with the default."""
  return degeneracy_rtol is not None or degenerate(delta, degeneracy_rtol)


def format_rows(table, degeneracy_rtol) -> str:
  lines = ["| δ | pair treated as | central differences | "
           "perturbation theory | patched grad·E | patched jvp | "
           "max rel. error |",
           "|---|---|---|---|---|---|---|"]
  for row in table:
    delta, fd, pt, rev, fwd = row
    how = ("degenerate" if degenerate(delta, degeneracy_rtol)
           else "distinct")
    lines.append(f"| {delta:g} | {how} | {fd:.9f} | {pt:.9f} | {rev:.9f} | "
                 f"{fwd:.9f} | {error(row):.1e} |")
  return "\n".join(lines)


def main() -> int:
  status = 0
  for degeneracy_rtol, name in SETTINGS:
    table = rows(degeneracy_rtol=degeneracy_rtol)
    print(f"{name}:\n")
    print(format_rows(table, degeneracy_rtol))
    print()
    if any(error(r) > TOLERANCE for r in table
           if claimed(r[0], degeneracy_rtol)):
      status = 1
  return status


if __name__ == "__main__":
  sys.exit(main())
