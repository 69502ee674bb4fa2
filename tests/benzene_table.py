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
and jax.jvp. Exit status 1 unless both patched values are within 1e-6
(relative) of the central differences at every δ.
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


def rows(deltas=DELTAS):
  """(δ, central differences, perturbation theory, grad·E, jvp) per δ."""
  h, lam, q, w, e = problem()
  out = []
  with jax_patch.patched(), jax.enable_x64(True):
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


def format_rows(table) -> str:
  lines = ["| δ | central differences | perturbation theory | patched grad·E | "
           "patched jvp | max rel. error |",
           "|---|---|---|---|---|---|"]
  for delta, fd, pt, rev, fwd in table:
    err = max(abs(rev - fd), abs(fwd - fd)) / abs(fd)
    lines.append(f"| {delta:g} | {fd:.9f} | {pt:.9f} | {rev:.9f} | "
                 f"{fwd:.9f} | {err:.1e} |")
  return "\n".join(lines)


def main() -> int:
  table = rows()
  print(format_rows(table))
  bad = [r for r in table
         if max(abs(r[3] - r[1]), abs(r[4] - r[1])) > TOLERANCE * abs(r[1])]
  return 1 if bad else 0


if __name__ == "__main__":
  sys.exit(main())
