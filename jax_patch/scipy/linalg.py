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

"""jax.scipy.linalg as jax_patch changes it, plus two conveniences.

install() replaces jax.scipy.linalg.eigh and solve_sylvester with this
module's. sylvester_factor and sylvester_solve, a factor-once, solve-many
pair that SciPy does not have, are jax_patch's own: they are not part of the
upstream patches (there, jax.lax.linalg.schur once and
jax.lax.linalg.sylvester_solve per right-hand side do the same), and
install() leaves them out of jax.scipy.linalg.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jax._src import dtypes
from jax._src import tree_util
from jax._src.numpy.util import promote_dtypes_inexact
from jax._src.typing import Array, ArrayLike
from jax_patch._src.scipy import linalg as _linalg
from jax_patch._src.scipy.linalg import (
  eigh as eigh,
  solve_sylvester as solve_sylvester,
  SylvesterFactors as SylvesterFactors,
)

# Factors are arguments of jitted functions (jax.jit(sylvester_solve)) and
# of jax.tree.map: a pytree of their arrays, with the method and dtype as
# static data. Inside solve_sylvester they never cross a transformation's
# boundary, so upstream needs no registration.
tree_util.register_pytree_node(
    SylvesterFactors,
    lambda f: (f.arrays, (f.method, f.dtype)),
    lambda aux, arrays: SylvesterFactors(*arrays, method=aux[0],
                                         dtype=aux[1]))


def sylvester_factor(a: ArrayLike, b: ArrayLike, *,
                     method: str = "schur") -> SylvesterFactors:
  r"""Factors :math:`A` and :math:`B` once for many Sylvester solves.

  The factor step of :func:`solve_sylvester`, in the manner of
  :func:`jax.scipy.linalg.lu_factor`: pass the result to
  :func:`sylvester_solve` to solve :math:`A X + X B = C` for any number of
  right-hand sides :math:`C`.

  Args:
    a: array of shape ``(..., m, m)``.
    b: array of shape ``(..., n, n)``; batch dimensions broadcast with ``a``.
    method: as for :func:`solve_sylvester`: ``"schur"`` (default; CPU only:
      where the default device is a GPU, factor under
      ``jax.default_device(jax.devices("cpu")[0])``), ``"eigh"`` (Hermitian
      ``a`` and ``b``: their Hermitian parts are used) or ``"eigen"``.

  Returns:
    A :class:`SylvesterFactors`. The factorization is not differentiated
    (no derivative flows back to ``a`` and ``b`` through it); use
    :func:`solve_sylvester` to differentiate with respect to ``a`` and ``b``.
  """
  a, b = promote_dtypes_inexact(jnp.asarray(a), jnp.asarray(b))
  batch = _linalg._check_sylvester_args("sylvester_factor", a, b, None,
                                        method)
  a = jnp.broadcast_to(a, batch + a.shape[-2:])
  b = jnp.broadcast_to(b, batch + b.shape[-2:])
  if method == "eigh":
    a, b = _linalg.lax_linalg.symmetrize(a), _linalg.lax_linalg.symmetrize(b)
  return _linalg._sylvester_factor(a, b, method)


def sylvester_solve(factors: SylvesterFactors, c: ArrayLike, *,
                    rtol: float | None = None,
                    broadening: float | None = None) -> Array:
  r"""Solves :math:`A X + X B = C` with factors from :func:`sylvester_factor`.

  Each call costs two matrix products on each side and one triangular (or,
  for ``"eigh"``/``"eigen"`` factors, elementwise) solve: no matrix is
  factored again. Differentiable in ``c`` to any order (the solve is linear
  in ``c``; its transpose reuses the same factors); ``factors`` are treated
  as constants. Singular equations get the generalized-inverse solution of
  :func:`solve_sylvester` with ``tol=None``.

  Args:
    factors: the result of :func:`sylvester_factor`.
    c: array of shape ``(..., m, n)``; batch dimensions must broadcast with
      the factors'.
    rtol: relative tolerance below which a pivot :math:`\lambda_i(A) +
      \lambda_j(B)` counts as zero; see :func:`jax.lax.linalg.sylvester_solve`.
    broadening: optional Lorentzian broadening used instead of truncation.

  Returns:
    ``x`` with shape ``(..., m, n)``.
  """
  if not isinstance(factors, SylvesterFactors):
    raise TypeError(
        "sylvester_solve: factors must come from sylvester_factor, got "
        f"{type(factors).__name__}.")
  c = jnp.asarray(c)
  m, n = factors.z_a.shape[-1], factors.z_b.shape[-1]
  if c.ndim < 2 or c.shape[-2:] != (m, n):
    raise ValueError(
        f"sylvester_solve: argument c must have shape [..., {m}, {n}] to match "
        f"the factors, got shape {c.shape}.")
  k = len(factors.z_a.shape) - 2
  try:
    batch = np.broadcast_shapes(factors.z_a.shape[:-2], c.shape[:-2])
  except ValueError:
    raise ValueError(
        "sylvester_solve: the batch dimensions of argument c with shape "
        f"{c.shape} must broadcast with the factors' "
        f"{factors.z_a.shape[:-2]}.") from None
  out_dtype = np.result_type(factors.dtype, c.dtype)
  c = c.astype(dtypes.to_inexact_dtype(out_dtype))
  c = jnp.broadcast_to(c, batch + c.shape[-2:])
  if batch != factors.z_a.shape[:-2]:
    factors = SylvesterFactors(
        *(None if x is None else jnp.broadcast_to(x, batch + x.shape[k:])
          for x in factors.arrays), method=factors.method,
        dtype=factors.dtype)
  x = _linalg._sylvester_solve_factored(factors, c, transpose=False,
                                        rtol=rtol, broadening=broadening)
  return _linalg._real_if(x, out_dtype)
