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

from __future__ import annotations

from functools import partial
import math

import numpy as np

from jax._src import ad_util
from jax._src import core
from jax._src import dtypes
from jax._src.interpreters import ad
from jax._src.interpreters import mlir
from jax._src.lax import control_flow
from jax._src.lax import lax
from jax_patch._src.lax import linalg
from jax._src.lax import slicing
from jax._src.lax.lax import _complex, _float
from jax._src.lax.linalg import (
    _H, _T, _broadcast_to, _extract_diagonal, standard_linalg_primitive)
from jax._src.sharding_impls import PartitionSpec as P
from jax._src.typing import Array, ArrayLike



def sylvester_solve(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    *,
    quasi_triangular: bool = False,
    transpose: bool = False,
    rtol: float | None = None,
    broadening: float | None = None,
) -> Array:
  r"""Solves a Sylvester equation whose coefficients are in Schur form.

  Computes :math:`Y` such that

  .. math::
    \mathrm{op}(A) Y + Y \mathrm{op}(B) = C

  where :math:`A` and :math:`B` are upper triangular, e.g. the triangular
  factors of the complex Schur decompositions :math:`A_0 = Q_A A Q_A^H` and
  :math:`B_0 = Q_B B Q_B^H` of the matrices of an equation
  :math:`A_0 X + X B_0 = C_0`, whose solution is then
  :math:`X = Q_A \, \mathrm{sylvester\_solve}(A, B, Q_A^H C_0 Q_B) \, Q_B^H`.
  :math:`\mathrm{op}` is the identity, or the transpose if ``transpose`` is
  ``True``. The factors are never refactored: the solve, its JVP and its
  transpose all reuse them, so one Schur decomposition serves any number of
  right-hand sides and derivatives.

  Singular pairs: a pivot :math:`d_{ij} = a_{ii} + b_{jj}` with
  :math:`|d_{ij}| \le \mathrm{rtol} \cdot (\max|A| + \max|B|)` (maxima over
  the triangles of each matrix in the batch) is treated as exactly zero and
  its component of :math:`Y` is set to zero instead of :math:`\pm\infty`: the
  result is a generalized-inverse solution. Coefficients that are not finite
  give a solution that is all NaN.

  With ``quasi_triangular=True`` the coefficients are real Schur forms
  (upper quasi-triangular, with a :math:`2 \times 2` diagonal block per
  complex conjugate pair of eigenvalues, as :func:`schur` returns for real
  input) and the solve runs in real arithmetic, which avoids the complex
  Schur form, several times more costly to compute and to use. The pivots
  are then the sums of an eigenvalue of a diagonal block of :math:`A` and
  one of :math:`B`.

  With ``broadening``, every reciprocal pivot :math:`1/d` is replaced by the
  Lorentzian :math:`\bar d / (|d|^2 + \mathrm{broadening})`, which is smooth
  in the coefficients; ``rtol`` is then unused.

  Args:
    a: A batch of upper triangular matrices with shape ``[..., m, m]``.
      Entries below the diagonal are ignored.
    b: A batch of upper triangular matrices with shape ``[..., n, n]``.
      Entries below the diagonal are ignored.
    c: The right-hand sides, with shape ``[..., m, n]``. ``a``, ``b`` and
      ``c`` must have the same batch dimensions and the same floating-point
      or complex dtype.
    quasi_triangular: If ``True``, ``a`` and ``b`` are real upper
      quasi-triangular: entries below the subdiagonal, and subdiagonal
      entries that are zero to working precision, are ignored. Requires a
      real dtype.
    transpose: If ``True``, solves :math:`A^T Y + Y B^T = C` instead (not
      conjugated: this is the linear transpose of the solve).
    rtol: Relative tolerance below which a pivot counts as zero. Defaults to
      :math:`\max(m, n)\,\varepsilon` for the dtype's machine epsilon
      :math:`\varepsilon`, the size of the rounding error of a backward-stable
      Schur decomposition.
    broadening: If given, a nonnegative Lorentzian broadening, in the units
      of the square of the pivots, used instead of truncation; not with
      ``quasi_triangular``.

  Returns:
    An array ``y`` with the shape and dtype of ``c``.
  """
  a, b, c = lax.asarray(a), lax.asarray(b), lax.asarray(c)
  _check_sylvester_solve_args(a, b, c, quasi_triangular=quasi_triangular,
                              rtol=rtol, broadening=broadening)
  return triangular_sylvester_solve_p.bind(
      a, b, c, quasi_triangular=quasi_triangular, transpose=transpose,
      rtol=rtol, broadening=broadening)


# Sylvester solve: primitive

def _check_sylvester_solve_args(a, b, c, *, quasi_triangular, rtol,
                                broadening):
  # Trace-time errors that name the argument and its shape, before the
  # primitive's generic linalg rules see the operands.
  for name, x in (("a", a), ("b", b)):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
      raise ValueError(
          f"sylvester_solve: argument {name} must have shape [..., k, k], "
          f"got shape {x.shape}.")
  m, n = a.shape[-1], b.shape[-1]
  if c.ndim < 2 or c.shape[-2:] != (m, n):
    raise ValueError(
        "sylvester_solve: argument c must have shape [..., m, n] = "
        f"[..., {m}, {n}] to match a with shape {a.shape} and b with shape "
        f"{b.shape}, got shape {c.shape}.")
  if not a.shape[:-2] == b.shape[:-2] == c.shape[:-2]:
    raise ValueError(
        "sylvester_solve: arguments must have equal batch dimensions, got "
        f"a with shape {a.shape}, b with shape {b.shape} and c with shape "
        f"{c.shape}.")
  for name, x in (("a", a), ("b", b), ("c", c)):
    if not dtypes.issubdtype(x.dtype, np.inexact):
      raise TypeError(
          f"sylvester_solve: argument {name} must have a floating-point or "
          f"complex dtype, got {x.dtype}.")
  if not a.dtype == b.dtype == c.dtype:
    raise TypeError(
        "sylvester_solve: arguments must have the same dtype, got a: "
        f"{a.dtype}, b: {b.dtype} and c: {c.dtype}.")
  if rtol is not None and not _sylvester_is_tolerance(rtol):
    raise ValueError(
        "sylvester_solve: rtol must be None or a finite nonnegative Python "
        f"number, got {rtol!r}.")
  if quasi_triangular and dtypes.issubdtype(c.dtype, np.complexfloating):
    raise ValueError(
        "sylvester_solve: quasi_triangular=True needs real a, b and c, got "
        f"dtype {c.dtype}.")
  if broadening is not None:
    _check_sylvester_broadening(broadening, quasi_triangular)

def _sylvester_is_tolerance(x) -> bool:
  return isinstance(x, (int, float, np.number)) and 0 <= x < np.inf

# triangular_sylvester_solve_p(a, b, c) solves op(A) Y + Y op(B) = C for Y,
# where A and B are the upper triangular factors of Schur decompositions
# that the caller already has, and op is the identity, or the transpose
# with transpose=True. Its pivots are d_ij = a_ii + b_jj; pivots with
# |d_ij| <= rtol (max|A| + max|B|) count as singular and get the
# pseudo-inverse's zero, as in sylvester_solve_p.
def _sylvester_triangular_shape_rule(a_shape, b_shape, c_shape, **_):
  m, n = c_shape
  if a_shape != (m, m) or b_shape != (n, n):
    raise ValueError(
        "sylvester_solve: a, b and c must have shapes [..., m, m], "
        f"[..., n, n] and [..., m, n], got {a_shape}, {b_shape} and "
        f"{c_shape}.")
  return c_shape

def _sylvester_scaled_inverses(da, db, scale, *, rtol, broadening):
  # The reciprocals of the pivots d_ij = da_i + db_j, with zero for singular
  # pairs |d_ij| <= rtol * scale. A scale that is not finite (inf or NaN
  # among the coefficients) makes them all NaN, so that the solution is NaN
  # rather than silently finite.
  d = da[..., :, None] + db[..., None, :]
  if rtol is None:
    eps = float(np.finfo(dtypes.to_inexact_dtype(d.dtype)).eps)
    rtol = max(da.shape[-1], db.shape[-1]) * eps
  singular = abs(d) <= (rtol * scale)[..., None, None]
  inv = linalg._sylvester_pivot_inverses(d, singular)
  if broadening is not None:
    inv = _sylvester_lorentzian_inverses(d, broadening)
  finite = _broadcast_to(lax.is_finite(scale)[..., None, None], inv.shape)
  return lax.select(finite, inv, lax.full_like(inv, np.nan))

def _sylvester_triangular_inverses(a, b, *, rtol, broadening):
  # The pivots of op(A) Y + Y op(B) are a_ii + b_jj whatever op is; the scale
  # of the tolerance, max|A| + max|B|, runs over the referenced triangles:
  # for triangular factors, whose off-diagonal entries couple the pivots,
  # rtol is relative to the size of the factors rather than to the spread
  # of their eigenvalues.
  red = lambda x: lax.reduce_max(abs(_triu(x)), axes=(x.ndim - 2, x.ndim - 1))
  return _sylvester_scaled_inverses(
      _extract_diagonal(a), _extract_diagonal(b), red(a) + red(b), rtol=rtol,
      broadening=broadening)

def _sylvester_finite(x: Array) -> Array:
  """Whether all entries of each matrix [..., m, n] of x are finite."""
  ok = (lax.is_finite(lax.real(x)) & lax.is_finite(lax.imag(x))
        if dtypes.issubdtype(x.dtype, np.complexfloating) else
        lax.is_finite(x))
  return lax.reduce_and(ok, (x.ndim - 2, x.ndim - 1))

def _sylvester_nan_unless(ok: Array, y: Array) -> Array:
  # Coefficients that are not finite (in the entries read) make the whole
  # solution NaN: the tolerance's max-reduction alone does not guarantee it,
  # as XLA's max need not propagate NaN.
  ok = _broadcast_to(ok[..., None, None], y.shape)
  return lax.select(ok, y, lax.full_like(y, np.nan))

def _sylvester_triangular_solve_impl(a, b, c, *, transpose, rtol,
                                     quasi_triangular, broadening):
  if quasi_triangular:
    return _sylvester_quasi_solve_impl(a, b, c, transpose=transpose,
                                       rtol=rtol)
  inv = _sylvester_triangular_inverses(a, b, rtol=rtol, broadening=broadening)
  if transpose:
    # A^T Y + Y B^T = C  <=>  B Y^T + Y^T A = C^T.
    y = _T(_sylvester_triangular_solve(b, a, _T(c), _T(inv)))
  else:
    y = _sylvester_triangular_solve(a, b, c, inv)
  return _sylvester_nan_unless(
      _sylvester_finite(_triu(a)) & _sylvester_finite(_triu(b)), y)

def _sylvester_triangular_apply(factors, a, b, y, *, transpose,
                                quasi_triangular, **_):
  # op(A) Y + Y op(B), reading only the entries of A and B that the factors
  # reference. Either coefficient may be a symbolic zero (a tangent); not
  # both. It serves triangular_sylvester_solve_p's JVP.
  dot = partial(lax.dot if y.ndim == 2 else lax.batch_matmul,
                precision=lax.Precision.HIGHEST)
  if quasi_triangular:
    # The entries of quasi-triangular factors in use, those of their upper
    # triangles and bumps. With singular pairs, the generalized solution is
    # taken in complex Schur bases that move with A and B, and the JVP
    # omits that motion: it is exact for nonsingular equations.
    masks = [_sylvester_quasi_mask(x) for x in factors]
    a, b = (x if type(x) is ad_util.Zero else
            lax.select(mask, x, lax.full_like(x, 0))
            for x, mask in zip((a, b), masks))
  else:
    a, b = (x if type(x) is ad_util.Zero else _triu(x) for x in (a, b))
  out = []
  if type(a) is not ad_util.Zero:
    out.append(dot(_T(a) if transpose else a, y))
  if type(b) is not ad_util.Zero:
    out.append(dot(y, _T(b) if transpose else b))
  return out[0] if len(out) == 1 else out[0] + out[1]


def _sylvester_triangular_jvp_rule(primals, tangents, **params):
  # With S(Y) = op(A) Y + Y op(B) and Y = S⁺(C), where S⁺ zeroes the singular
  # components, Ẏ = S⁺(Ċ - op(Ȧ) Y - Y op(Ḃ)): the singular set is locally
  # constant and Y vanishes on it, so this is exact.
  if params["broadening"] is not None:
    return _sylvester_broadened_jvp_rule(primals, tangents, **params)
  a, b, c = primals
  a_dot, b_dot, c_dot = tangents
  apply = partial(_sylvester_triangular_apply, (a, b), **params)
  y = triangular_sylvester_solve_p.bind(a, b, c, **params)
  if type(a_dot) is ad_util.Zero and type(b_dot) is ad_util.Zero:
    rhs = c_dot
  else:
    rhs = ad.add_tangents(c_dot, -apply(a_dot, b_dot, y))
  if type(rhs) is ad_util.Zero:
    return y, rhs
  return y, triangular_sylvester_solve_p.bind(a, b, rhs, **params)

def _sylvester_triangular_transpose_rule(ct, a, b, c, *, transpose, **params):
  # The solve is linear in c. Its transpose solves the transposed equation
  # op(A)^T Z + Z op(B)^T = ct with the same pivots (and the same zeroed
  # singular components), analogous to triangular_solve's transpose rule.
  assert not ad.is_undefined_primal(a) and not ad.is_undefined_primal(b)
  assert ad.is_undefined_primal(c)
  if type(ct) is ad_util.Zero:
    return [None, None, ad_util.Zero(c.aval)]
  return [None, None, triangular_sylvester_solve_p.bind(
      a, b, ct, transpose=not transpose, **params)]

triangular_sylvester_solve_p = standard_linalg_primitive(
    (_float | _complex, _float | _complex, _float | _complex), (2, 2, 2),
    _sylvester_triangular_shape_rule, "triangular_sylvester_solve")
ad.primitive_jvps[triangular_sylvester_solve_p] = (
    _sylvester_triangular_jvp_rule)
ad.primitive_transposes[triangular_sylvester_solve_p] = (
    _sylvester_triangular_transpose_rule)
mlir.register_lowering(triangular_sylvester_solve_p, mlir.lower_fun(
    _sylvester_triangular_solve_impl, multiple_results=False))

# Sylvester solve: triangular kernel

# Under explicit sharding (jax.sharding.AxisType.Explicit) the operands'
# batch dimensions may be sharded, and a select, an elementwise operation or
# a loop carry needs all of its operands sharded alike. Iotas and constants
# are replicated unless told otherwise, so the masks and buffers that the
# kernels build take the sharding of the batch dimensions of an operand.
# Elsewhere (no mesh, or a mesh of Auto axes) the sharding is empty and
# changes nothing.
def _sylvester_sharding(x: Array, rank: int, nb: int | None = None):
  """The sharding of a new array [*batch, ...] of rank dims, batched as x.

  Its nb leading dimensions (by default x's batch dimensions, all but its
  last two) are sharded as in x; the others are not sharded.
  """
  sharding = core.typeof(x).sharding
  nb = x.ndim - 2 if nb is None else nb
  spec = (*sharding.spec, *(None,) * x.ndim)[:nb]
  return sharding.update(spec=P(*spec, *(None,) * (rank - nb)))


def _sylvester_iota(x: Array, shape, dimension: int) -> Array:
  """broadcasted_iota(int32, shape, dimension) with x's batch sharding."""
  return lax.broadcasted_iota(np.int32, shape, dimension,
                              out_sharding=_sylvester_sharding(x, len(shape)))


def _triu(x: Array, k: int = 0) -> Array:
  """The upper triangle of x, on and above diagonal k; zeros elsewhere."""
  # jax._src.lax.linalg._triu with its mask sharded as x (see above).
  nb = x.ndim - 2
  rows = _sylvester_iota(x, x.shape, nb)
  cols = _sylvester_iota(x, x.shape, nb + 1)
  return lax.select(cols - rows >= k, x, lax.full_like(x, 0))


def _sylvester_swap(x: Array, i: int, j: int) -> Array:
  perm = list(range(x.ndim))
  perm[i], perm[j] = perm[j], perm[i]
  return lax.transpose(x, perm)


def _sylvester_flip_t(x: Array) -> Array:
  """J x^T J, with J the exchange matrix."""
  return lax.rev(_sylvester_swap(x, -1, -2), (x.ndim - 2, x.ndim - 1))


def _sylvester_flipped(solve, a: Array, b: Array, c: Array, *rest: Array
                       ) -> Array:
  """solve(a, b, c, *rest) through Y' = J Y^T J, for fewer rows than columns.

  Y' solves (J b^T J) Y' + Y' (J a^T J) = J c^T J, with upper triangular
  coefficients and the same substitution; the arrays in rest are flipped
  like c.
  """
  flip = _sylvester_flip_t
  return flip(solve(flip(b), flip(a), flip(c), *map(flip, rest)))


def _sylvester_column_solve(a: Array, b: Array, c: Array, inv_diag: Array
                            ) -> Array:
  """The substitution of _sylvester_triangular_solve, one column at a time."""
  # Column j of Y solves the unit upper triangular system
  #   (I + diag(inv_j) triu(a, 1)) y_j = inv_j * (c_j - Y b_j),
  # inv_j = inv_diag[:, j], Y holding the columns solved so far and zeros,
  # which is the substitution row by row: one triangular_solve per column
  # (unit_diagonal: the diagonal it is given is not read). A loop keeps the
  # compiled size independent of m and n: XLA:CPU compiles each fused loop
  # in 10-20 ms, which makes compilation most of the first call of a solve.
  *batch, m, n = c.shape
  nb = len(batch)
  if m == 0 or n == 0:
    return c
  if n > m:
    # Fewer, larger steps.
    return _sylvester_flipped(_sylvester_column_solve, a, b, c, inv_diag)
  a = _triu(a, 1)
  dims = (((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))))
  # j is in range: no wrapping of negative indices (a fused loop less).
  column = lambda x, j: slicing.dynamic_slice_in_dim(
      x, j, 1, axis=nb + 1, allow_negative_indices=False)

  def body(j, y):
    r = column(c, j) - lax.dot_general(y, column(b, j), dims,
                                       precision=lax.Precision.HIGHEST)
    inv_j = column(inv_diag, j)
    y_j = linalg.triangular_solve(inv_j * a, inv_j * r, left_side=True,
                                  lower=False, unit_diagonal=True)
    return slicing.dynamic_update_slice_in_dim(y, y_j, j, axis=nb + 1,
                                               allow_negative_indices=False)

  return control_flow.fori_loop(0, n, body, lax.full_like(c, 0))


def _sylvester_triangular_solve(a: Array, b: Array, c: Array,
                                inv_diag: Array) -> Array:
  """Y with a Y + Y b = c, a and b upper triangular, pivots given inverted.

  Computes exactly the substitution

    y[i,j] = inv_diag[i,j] (c[i,j] - sum_{k>i} a[i,k] y[k,j]
                                   - sum_{k<j} y[i,k] b[k,j]),

  ignoring a and b below the diagonal, so that inv_diag[i, j] == 0 gives
  y[i, j] == 0 with no special casing (and nan for a nan right-hand side:
  0 * nan).
  """
  if max(c.shape[-2:]) > _SYLVESTER_SMALL:
    # Large equations: with level-3 blocking (see _sylvester_wavefront).
    return _sylvester_blocked_solve(a, b, c, inv_diag)
  return _sylvester_column_solve(a, b, c, inv_diag)


# Sylvester solve: real Schur (quasi-triangular) factors

# _sylvester_quasi_complex_solve applies its rotations as dense products,
# which compile in less time than the elementwise ones, up to this size,
# where they cost no measurable time per call (measured with one thread,
# full solve, interleaved blocks: 0.99x the elementwise rotations' time at
# n = 10 and 20, 1.07x at n = 30 and 50; compile 0.11 s less at n = 20).
_SYLVESTER_DENSE_ROTATIONS_SMALL = 24


def _sylvester_reshape(x: Array, *shape: int) -> Array:
  """x.reshape(shape), sharded as x on the leading dimensions it keeps."""
  keep = 0
  while keep < min(x.ndim, len(shape)) and x.shape[keep] == shape[keep]:
    keep += 1
  return lax.reshape(x, shape,
                     out_sharding=_sylvester_sharding(x, len(shape), keep))


def _sylvester_diag(x: Array, offset: int) -> Array:
  """[..., n, n] -> [..., n - |offset|], the diagonal x[i, i + offset]."""
  # Entry (i, i + offset) is entry i (n + 1) + offset of the flattened x.
  *batch, n, _ = x.shape
  nb = len(batch)
  start = offset if offset >= 0 else -offset * n
  length = n - abs(offset)
  if length <= 0:
    return lax.full((*batch, 0), 0, x.dtype,
                    sharding=_sylvester_sharding(x, nb + 1))
  return slicing.slice_in_dim(_sylvester_reshape(x, *batch, n * n), start,
                              start + (length - 1) * (n + 1) + 1, n + 1,
                              axis=nb)


def _sylvester_diagonal_entries(t: Array, offsets) -> list[Array]:
  """[t[i + r, i + c] for i < n] for each (r, c) in offsets, 0 outside t."""
  # Entry (i + r, i + c) of t padded by 2 on each side is entry
  # i (w + 1) + (r + 2) w + c + 2 of its flattening, w = n + 4: one strided
  # slice per offset, all of length n, so that XLA fuses the vector
  # arithmetic on them into few loops.
  *batch, n, _ = t.shape
  nb = len(batch)
  w = n + 4
  flat = lax.pad(t, lax._zero(t), [(0, 0, 0)] * nb + [(2, 2, 0)] * 2)
  flat = _sylvester_reshape(flat, *batch, w * w)
  starts = [(r + 2) * w + c + 2 for r, c in offsets]
  return [slicing.slice_in_dim(flat, k, k + (n - 1) * (w + 1) + 1, w + 1,
                               axis=nb) for k in starts]


def _sylvester_bumps(t: Array, offset: int = 0) -> Array:
  """[..., n] flags: whether a 2 x 2 diagonal block starts at row k + offset."""
  # Whether t[k+1, k] is a bump: subdiagonal entries that are zero to working
  # precision relative to their diagonal neighbours are not. A real Schur
  # form has no adjacent bumps; if given some, the first of each run is kept.
  # The entries at rows k + offset - 1 and k + offset are read directly,
  # rather than the flags of row k shifted: each shift is a pad, which XLA
  # compiles as a loop of its own.
  eps = dtypes.finfo(t.dtype).eps
  k = offset
  a0, c0, d0, a, c, d = _sylvester_diagonal_entries(
      t, [(k - 1, k - 1), (k, k - 1), (k, k), (k, k), (k + 1, k),
          (k + 1, k + 1)])
  bump = lambda a, c, d: lax.abs(c) > eps * (lax.abs(a) + lax.abs(d))
  return bump(a, c, d) & ~bump(a0, c0, d0)


def _sylvester_quasi_mask(t: Array) -> Array:
  """The entries of a quasi-triangular t in use: upper triangle and bumps."""
  *batch, n, _ = t.shape
  nb = len(batch)
  shape = (*batch, n, n)
  rows = _sylvester_iota(t, shape, nb)
  cols = _sylvester_iota(t, shape, nb + 1)
  bump = lax.broadcast_in_dim(_sylvester_bumps(t), shape, (*range(nb), nb + 1))
  return (rows <= cols) | ((rows == cols + 1) & bump)


def _real_schur_shifts(t: Array, offset: int = 0) -> tuple[Array, ...]:
  """The 2 x 2 block at rows (k, k+1), k = i + offset, of a real Schur form.

  Returns (bump, a, c, mu_re, mu_im) as [..., n] (index i) in real
  arithmetic: whether a bump starts at row k, and for the block
  [[a, b], [c, d]], a, c and the real and imaginary parts of mu = lam - d,
  lam = (a + d) / 2 + sqrt(((a - d) / 2)^2 + b c) its eigenvalue (the other
  one is a + d - lam). Entries outside t are zero (no bump there).
  """
  k = offset
  a, b, c, d = _sylvester_diagonal_entries(t, [(k, k), (k, k + 1),
                                               (k + 1, k), (k + 1, k + 1)])
  half = (a - d) / 2
  disc = half * half + b * c
  # sqrt(disc) as a real root or an imaginary one, without complex sqrt.
  root = lax.sqrt(lax.abs(disc))
  is_real = disc >= 0
  zero = lax.full_like(root, 0)
  return (_sylvester_bumps(t, k), a, c, half + lax.select(is_real, root, zero),
          lax.select(is_real, zero, root))


def _real_schur_eigenvalues(t: Array) -> Array:
  """The eigenvalues of a real Schur form t, in the order of its diagonal."""
  return slicing.index_in_dim(_real_schur_terms(t), 3, t.ndim - 2,
                              keepdims=False)


def _real_schur_rotation(t: Array) -> Array:
  """The unitary Q with Q t Q^H upper triangular, for a real Schur form t.

  Q is tridiagonal (block diagonal with a 2 x 2 rotation per bump), returned
  as its three diagonals in one complex array [..., 3, n]: Q[i, i - 1],
  Q[i, i] and Q[i, i + 1] (zero outside Q).
  """
  return slicing.slice_in_dim(_real_schur_terms(t), 0, 3, axis=t.ndim - 2)


def _real_schur_terms(t: Array) -> Array:
  """[..., 4, n]: the diagonals of Q (_real_schur_rotation), eigenvalues."""
  # As scipy.linalg.rsf2csf: for each 2 x 2 bump [[a, b], [c, d]] at rows
  # (k, k+1) of the quasi-triangular t, with eigenvalue lam and
  #   mu = lam - d,  rho = hypot(|mu|, c),  G = [[conj(mu), c], [-c, mu]] / rho,
  # the unitary G zeroes the bump: t <- G t G^H. Bumps never touch (the real
  # Schur form has no adjacent ones), so the rotations act on disjoint pairs
  # of rows and columns, commute, and each sees its bump as in the input.
  # They are therefore all applied at once as one block diagonal Q with 2 x 2
  # blocks G, in O(n^2) with no loop (a fori_loop over the bumps, as
  # jax.scipy.linalg.rsf2csf does, makes XLA copy t on every step). The
  # eigenvalues are lam = d + mu at the first row of each bump and
  # a + d - lam = a - mu at the second (the conjugate for a complex pair),
  # the diagonal entry elsewhere.
  #
  # Each fused loop costs compile time (10-20 ms on XLA:CPU), so this is
  # written for few of them: the coefficients are computed in real
  # arithmetic (XLA expands complex division and square roots into many
  # operations), the terms of the bump one row up are computed again at
  # offset -1 rather than shifted (each shift is a pad, a loop of its own),
  # and the results are one array behind a barrier, which the eigenvalues
  # and the rotations both read (computed once). XLA still gives the square
  # roots, which have several readers, loops of their own.
  nb = t.ndim - 2

  def rotation(offset):
    # The terms of the bump starting at row i + offset: whether there is
    # one, the rotation's (cs, sn), and a, mu_re and mu_im.
    bump, a, c, mu_re, mu_im = _real_schur_shifts(t, offset)
    one, zero = lax.full_like(c, 1), lax.full_like(c, 0)
    inv_rho = one / lax.sqrt(mu_re * mu_re + mu_im * mu_im + c * c)
    cs = lax.complex(lax.select(bump, mu_re * inv_rho, one),
                     lax.select(bump, mu_im * inv_rho, zero))
    sn = lax.complex(lax.select(bump, c * inv_rho, zero), zero)
    return bump, cs, sn, a, mu_re, mu_im

  # Q[k, k] = conj(cs_k), Q[k+1, k+1] = cs_k, Q[k, k+1] = sn_k and
  # Q[k+1, k] = -sn_k for each bump k, the identity elsewhere.
  first, cs, sn, _, mu_re, mu_im = rotation(0)
  second, cs_up, sn_up, a_up, mu_re_up, mu_im_up = rotation(-1)
  diag, d = _sylvester_diagonal_entries(t, [(0, 0), (1, 1)])
  lam = lax.complex(
      lax.select(first, d + mu_re,
                 lax.select(second, a_up - mu_re_up, diag)),
      lax.select(first, mu_im,
                 lax.select(second, -mu_im_up, lax.full_like(mu_im, 0))))
  terms = [-sn_up, lax.conj(cs) * cs_up, sn, lam]
  return lax.optimization_barrier(lax.concatenate(
      [lax.expand_dims(x, (nb,)) for x in terms], nb))


def _sylvester_rotate(x: Array, q: Array, *, left: bool, adjoint: bool
                      ) -> Array:
  """Q x, Q^H x, x Q or x Q^H for Q tridiagonal from _real_schur_rotation."""
  # M x for M = tridiag(lo, dg, up), M[i, i-1] = lo[i] and M[i, i+1] = up[i],
  # is lo[i] x[i-1] + dg[i] x[i] + up[i] x[i+1] along the rows; x M is
  # M^T applied to the columns, and M^T = tridiag(up[i-1], dg[i], lo[i+1]).
  nb = q.ndim - 2
  n = q.shape[-1]
  lo, dg, up = (slicing.index_in_dim(q, i, nb, keepdims=False)
                for i in range(3))
  shift = lambda v, k: slicing.slice_in_dim(
      lax.pad(v, lax._zero(v), [(0, 0, 0)] * nb + [(1, 1, 0)]), 1 - k,
      n + 1 - k, axis=nb)
  transpose = lambda lo, dg, up: (shift(up, 1), dg, shift(lo, -1))
  # The matrix applied along the rows (left) or the columns (right): Q, Q^H,
  # Q^T or (Q^H)^T = conj(Q).
  if adjoint:
    lo, dg, up = map(lax.conj, (lo, dg, up))
  if left == adjoint:
    lo, dg, up = transpose(lo, dg, up)
  axis = x.ndim - 2 if left else x.ndim - 1
  vec = lambda v: lax.expand_dims(v, (x.ndim - 1,) if left else (x.ndim - 2,))
  zero = lax._zero(x)
  pads = [(0, 0, 0)] * x.ndim
  pads[axis] = (1, 1, 0)
  x_pad = lax.pad(x, zero, pads)
  x_shift = lambda k: slicing.slice_in_dim(x_pad, 1 + k, n + 1 + k,
                                           axis=axis)
  return vec(lo) * x_shift(-1) + vec(dg) * x + vec(up) * x_shift(1)


def _real_schur_complex_form(t: Array, q: Array) -> Array:
  """t_c = Q t Q^H, q the diagonals of Q (_real_schur_rotation of t)."""
  dtype = dtypes.to_complex_dtype(t.dtype)
  t = _sylvester_rotate(
      _sylvester_rotate(lax.convert_element_type(t, dtype), q, left=True,
                        adjoint=False), q, left=False, adjoint=True)
  # The bumps are zero up to rounding; make t_c exactly upper triangular.
  return _triu(t)


def _real_schur_to_complex(t: Array, z: Array) -> tuple[Array, Array]:
  """Complex Schur pair (t_c, z_c) from a real one, z t z^T = z_c t_c z_c^H."""
  # t_c = Q t Q^H and z_c = z Q^H with Q from _real_schur_rotation.
  dtype = dtypes.to_complex_dtype(t.dtype)
  z = lax.convert_element_type(z, dtype)
  if t.shape[-1] < 2:
    return lax.convert_element_type(t, dtype), z
  q = _real_schur_rotation(t)
  t = _real_schur_complex_form(t, q)
  return t, _sylvester_rotate(z, q, left=False, adjoint=True)


def _sylvester_dense_rotation(q: Array) -> Array:
  """The matrix Q [..., n, n] of the diagonals q from _real_schur_rotation."""
  nb = q.ndim - 2
  n = q.shape[-1]
  shape = (*q.shape[:nb], n, n)
  i = _sylvester_iota(q, shape, nb)
  j = _sylvester_iota(q, shape, nb + 1)
  lo, dg, up = (lax.broadcast_in_dim(
      slicing.index_in_dim(q, k, nb, keepdims=False), shape,
      (*range(nb), nb)) for k in range(3))
  return lax.select(i == j, dg, lax.select(
      j == i + 1, up, lax.select(i == j + 1, lo, lax.full_like(dg, 0))))


def _sylvester_quasi_complex_solve(ab: Array, c: Array, tol: Array,
                                   q: Array, dense: bool = False) -> Array:
  """_sylvester_quasi_solve in the complex Schur bases, column by column.

  ab holds a and b, masked (_sylvester_quasi_mask) and stacked as in
  _sylvester_quasi_solve; tol [..., m, n] the pivots' tolerances; q the
  rotations of ab (_real_schur_rotation) in its first three rows (the
  _real_schur_terms of ab will do). With dense, the rotations are applied as
  dense products.
  """
  # The complex Schur forms Q a Q^H, Q' b Q'^H (_real_schur_rotation) give
  # T_a Y_c + Y_c T_b = Q c Q'^H, solved with the components whose pivots
  # are at most tol dropped, and Y = Re(Q^H Y_c Q'): Q^H Y_c Q' and its
  # conjugate are the generalized solutions in the bases Q and conj(Q), and
  # their mean is real.
  #
  # The rotations cost O(n^2) as elementwise operations on the diagonals of
  # Q, but XLA:CPU compiles each of their fused loops separately; as dense
  # products, O(n^3), they compile in less time (measured at n = 300: 0.32
  # to 0.33 s against 0.43 to 0.63 s for this function, over two runs).
  *batch, m, n = c.shape
  nb = len(batch)
  if dense:
    q = _sylvester_dense_rotation(q)
    stack_dot = partial(lax.batch_matmul, precision=lax.Precision.HIGHEST)
    t = _triu(stack_dot(stack_dot(q, lax.convert_element_type(ab, q.dtype)),
                        _H(q)))
    (t_a, q_a), (t_b, q_b) = ((_sylvester_unstack(t, i, k, 2),
                               _sylvester_unstack(q, i, k, 2))
                              for i, k in ((0, m), (1, n)))
    dot = partial(lax.dot if nb == 0 else lax.batch_matmul,
                  precision=lax.Precision.HIGHEST)
    rot = lambda x, q, left, adj: (
        dot(_H(q) if adj else q, x) if left else
        dot(x, _H(q) if adj else q))
  else:
    rot = lambda x, q, left, adj: _sylvester_rotate(x, q, left=left,
                                                    adjoint=adj)
    t = _real_schur_complex_form(ab, q)
    (t_a, q_a), (t_b, q_b) = ((_sylvester_unstack(t, i, k, 2),
                               _sylvester_unstack(q, i, k, 1))
                              for i, k in ((0, m), (1, n)))
  f = rot(rot(lax.convert_element_type(c, t.dtype), q_a, True, False),
          q_b, False, True)
  d = (lax.broadcast_in_dim(_sylvester_diag(t_a, 0), (*batch, m, n),
                            (*range(nb), nb)) +
       lax.broadcast_in_dim(_sylvester_diag(t_b, 0), (*batch, m, n),
                            (*range(nb), nb + 1)))
  drop = lax.abs(d) <= tol
  one = lax.full_like(d, 1)
  inv = lax.select(drop, lax.full_like(d, 0), one / lax.select(drop, one, d))
  y = _sylvester_column_solve(t_a, t_b, f, inv)
  return lax.real(rot(rot(y, q_a, True, True), q_b, False, False))


def _sylvester_quasi_stack(a: Array, b: Array, mask: bool = True) -> Array:
  """[2, ..., k, k]: a and b, the smaller padded with zeros, masked."""
  # Padded rows and columns are real zero eigenvalues after the others, with
  # no bumps. Unmasked (mask=False), the stack has the same bumps and the
  # same _real_schur_terms: of the entries the mask clears, those read the
  # subdiagonal of rows without a bump, whose terms are discarded.
  nb = a.ndim - 2
  k = max(a.shape[-1], b.shape[-1])
  pad = lambda x: lax.expand_dims(lax.pad(
      x, lax._zero(x), [(0, 0, 0)] * nb + [(0, k - x.shape[-1], 0)] * 2), (0,))
  ab = lax.concatenate([pad(a), pad(b)], 0)
  return _sylvester_quasi_masked(ab) if mask else ab


def _sylvester_quasi_masked(t: Array) -> Array:
  """t with the entries outside _sylvester_quasi_mask zeroed."""
  return lax.select(_sylvester_quasi_mask(t), t, lax.full_like(t, 0))


def _sylvester_unstack(x: Array, i: int, size: int, axes: int) -> Array:
  """Entry i of a stack [2, ...], its last axes cut to size."""
  x = slicing.index_in_dim(x, i, 0, keepdims=False)
  return slicing.slice(x, (0,) * x.ndim,
                       (*x.shape[:x.ndim - axes], *(size,) * axes))


def _sylvester_quasi_solve_impl(a: Array, b: Array, c: Array, *,
                                transpose: bool, rtol: float | None
                                ) -> Array:
  """The lowering of triangular_sylvester_solve_p for quasi-triangular a, b."""
  if transpose:
    y = _T(_sylvester_quasi_solve(b, a, _T(c), rtol))
  else:
    y = _sylvester_quasi_solve(a, b, c, rtol)
  # Both factors at once, on the stack the solve built (one reduction to
  # compile; the zeros that pad the smaller are finite).
  ok = lax.reduce_and(_sylvester_finite(_triu(_sylvester_quasi_stack(
      *((b, a) if transpose else (a, b)), mask=False), -1)), (0,))
  return _sylvester_nan_unless(ok, y)


def _sylvester_quasi_solve(a: Array, b: Array, c: Array,
                           rtol: float | None) -> Array:
  """Y with a Y + Y b = c for real Schur forms a and b, in real arithmetic.

  Pivots lam_i(a) + lam_j(b) with modulus at most rtol (max|a| + max|b|)
  (over the entries in use) are singular, and their components of Y are zero
  in the basis of the complex Schur forms, as for triangular factors.
  """
  # What a and b both need is computed once on the two stacked, the smaller
  # padded with zeros (no bumps): each operation costs compile time.
  *batch, m, n = c.shape
  nb = len(batch)
  if m == 0 or n == 0:
    return c
  # The stack unmasked (read by _real_schur_terms) and masked.
  ab_raw = _sylvester_quasi_stack(a, b, mask=False)
  ab = _sylvester_quasi_masked(ab_raw)
  if rtol is None:
    rtol = max(m, n) * float(dtypes.finfo(c.dtype).eps)
  tol = rtol * lax.reduce_sum(lax.reduce_max(lax.abs(ab), (nb + 1, nb + 2)),
                              (0,))
  tol = lax.broadcast_in_dim(tol, (*batch, m, n), tuple(range(nb)))
  # The rotations to the complex Schur forms and the eigenvalues, at once.
  # The complex solve takes terms whole as its rotations (it reads rows 0-2):
  # a slice of terms would make XLA:CPU compute the concatenation in
  # _real_schur_terms a second time, in a loop of its own (3 fused loops
  # fewer at n = 300).
  terms = _real_schur_terms(ab_raw)
  if max(m, n) > _SYLVESTER_SMALL:
    # Large nonsingular equations whose bumps fit the static layout (see
    # _sylvester_quasi_triangular_solve) are solved in real arithmetic by
    # the blocked wavefront; small ones, and the others, in the complex
    # Schur bases column by column, which compiles in a fraction of the
    # time.
    return _sylvester_quasi_blocked_solve(ab, c, tol, terms)
  return _sylvester_quasi_complex_solve(
      ab, c, tol, terms, dense=max(m, n) <= _SYLVESTER_DENSE_ROTATIONS_SMALL)


# Sylvester solve: blocked kernel

# A second kernel computes the substitution of _sylvester_triangular_solve
# for large equations (_sylvester_blocked_solve): a wavefront over s x s
# blocks, s = _sylvester_block_size(...), in bands of block rows, with
# long-contraction panel products (_sylvester_wavefront), whose diagonal
# blocks are solved by a loop over the anti-diagonals of their 2 x 2 leaves
# (_sylvester_block_solve). Its compiled size does not grow with m, n or s
# either (a grid of unrolled leaves took 3 s to compile at any size), but
# it compiles to more loops than the column kernel, whose n steps of
# matrix-vector work cost run time as n grows: max(m, n) <= _SYLVESTER_SMALL
# takes the column kernel (the crossover measured on CPU, float64).
#
# The block size s is _SYLVESTER_BLOCK_SIZE for real equations and
# _SYLVESTER_BLOCK_SIZE_COMPLEX for complex ones, whose panels hold 2 s rows
# or columns (_sylvester_split_complex). Measured on CPU (2 cores, AVX-512,
# float64, best of 5 blocks, one or all OpenBLAS threads): the real
# quasi-triangular solve took 0.81x its time with s = 12 at n = 600 and
# 0.84-0.92x at n = 300 (equal at n = 101 and 150), and s = 20, 24 and 32
# were slower than both; the complex triangular solve at n = 600 took
# 515 ms with s = 12 against 541 with s = 16.
_SYLVESTER_BLOCK_SIZE = 16
_SYLVESTER_BLOCK_SIZE_COMPLEX = 12
_SYLVESTER_LEAF_SIZE = 2
_SYLVESTER_BAND_HEIGHT = 8
_SYLVESTER_SMALL = 100


def _sylvester_pair_substitute(a, b, c, inv_diag):
  """The substitution for a Y + Y b = c, upper triangular 2 x 2 a and b."""
  # All arguments and the result entrywise, [[x00, x01], [x10, x11]], with
  # the pivots given inverted: y_ij = inv_ij (c_ij - sum_{k>i} a_ik y_kj
  # - sum_{l<j} y_il b_lj).
  y10 = inv_diag[1][0] * c[1][0]
  y00 = inv_diag[0][0] * (c[0][0] - a[0][1] * y10)
  y11 = inv_diag[1][1] * (c[1][1] - y10 * b[0][1])
  y01 = inv_diag[0][1] * (c[0][1] - a[0][1] * y11 - y00 * b[0][1])
  return [[y00, y01], [y10, y11]]


def _sylvester_leaf_entries(x: Array) -> list[list[Array]]:
  """[..., 2 h, 2 k] -> entry (i, j) of each 2 x 2 leaf, [..., h, k]."""
  *batch, m, n = x.shape
  nb = len(batch)
  x = _sylvester_reshape(x, *batch, m // 2, 2, n // 2, 2)
  entry = lambda i, j: slicing.index_in_dim(
      slicing.index_in_dim(x, j, nb + 3, keepdims=False), i, nb + 1,
      keepdims=False)
  return [[entry(i, j) for j in range(2)] for i in range(2)]


def _sylvester_leaf_assemble(y: list[list[Array]]) -> Array:
  """The inverse of _sylvester_leaf_entries."""
  *batch, h, k = y[0][0].shape
  nb = len(batch)
  rows = [lax.concatenate([lax.expand_dims(x, (nb + 1, nb + 3)) for x in row],
                          nb + 3) for row in y]
  return _sylvester_reshape(lax.concatenate(rows, nb + 1), *batch, 2 * h,
                            2 * k)


def _sylvester_diagonal_leaves(x: Array) -> list[list[Array]]:
  """[..., 2 h, 2 h] -> entry (i, j) of each diagonal 2 x 2 leaf, [..., h]."""
  return [[_sylvester_diag(e, 0) for e in row]
          for row in _sylvester_leaf_entries(x)]


def _sylvester_block_solve(a: Array, b: Array, c: Array, pivots: Array,
                           quasi: bool) -> Array:
  """Solves a Y + Y b = c for [..., s, s] blocks by a wavefront of 2 x 2s."""
  # The h x h leaves of size 2, h = s / 2, in s - 1 anti-diagonal steps of a
  # loop: each step brings the right-hand sides of all leaves up to date with
  # two batched products with the leaves solved so far (the others are zero)
  # and the off-diagonal leaves of a and b,
  #   C[k, l] - sum_{k2>k} a[k, k2] Y[k2, l] - sum_{l2<l} Y[k, l2] b[l2, l],
  # and solves the leaves on its anti-diagonal, elementwise, by substitution
  # with pivots the inverted pivots. A step is two products and one
  # elementwise loop; a loop keeps the compiled size independent of s. The
  # products spend about h times the flops of a lazy update, little at these
  # sizes. With quasi (quasi-triangular a and b with their 2 x 2 blocks at
  # even indices) the leaves are solved in closed form instead, with pivots
  # from _sylvester_pair_inverses.
  *batch, s, _ = c.shape
  nb = len(batch)
  h = s // 2
  # The entries of the diagonal leaves of a (b), broadcast over l (k), read
  # inside the loop below, where XLA fuses them into the leaf solves (read
  # outside, each would be a loop of its own per call).
  grid = lambda x, axis: [[lax.broadcast_in_dim(e, (*batch, h, h),
                                                (*range(nb), axis))
                           for e in row] for row in x]
  def solve(r, a, b, pivots):
    a_d = grid(_sylvester_diagonal_leaves(a), nb)
    b_d = grid(_sylvester_diagonal_leaves(b), nb + 1)
    p, r = _sylvester_leaf_entries(pivots), _sylvester_leaf_entries(r)
    return _sylvester_leaf_assemble(
        _sylvester_pair_apply(a_d, b_d, p, r) if quasi else
        _sylvester_pair_substitute(a_d, b_d, r, p))
  if h == 1:
    return solve(c, a, b, pivots)
  # a and b with their diagonal leaves zeroed, and the step of each entry's
  # leaf (k, l): its anti-diagonal h - 1 - k + l.
  leaf_k = _sylvester_iota(c, c.shape, nb) // 2
  leaf_l = _sylvester_iota(c, c.shape, nb + 1) // 2
  on_diag = leaf_k == leaf_l
  a_off = lax.select(on_diag, lax.full_like(a, 0), a)
  b_off = lax.select(on_diag, lax.full_like(b, 0), b)
  step_of = (h - 1) - leaf_k + leaf_l
  dims = (((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))))
  dot = lambda x, y: lax.dot_general(x, y, dims,
                                     precision=lax.Precision.HIGHEST)

  def body(e, y):
    rhs = c - dot(a_off, y) - dot(y, b_off)
    return lax.select(step_of == e, solve(rhs, a, b, pivots), y)

  return control_flow.fori_loop(0, s - 1, body, lax.full_like(c, 0))


def _sylvester_blocks(x: Array, s: int) -> Array:
  """[..., r*s, q*s] -> [..., r, q, s, s], the grid of s x s blocks."""
  *batch, m, n = x.shape
  x = _sylvester_reshape(x, *batch, m // s, s, n // s, s)
  return _sylvester_swap(x, -3, -2)


def _sylvester_unblocks(x: Array) -> Array:
  """Inverse of _sylvester_blocks."""
  *batch, r, q, s, t = x.shape
  return _sylvester_reshape(_sylvester_swap(x, -3, -2), *batch, r * s,
                            q * t)


def _sylvester_skew(x: Array, axis: int) -> Array:
  """z[K, u] = x[K, u - K] on axes (axis, axis + 1), zero elsewhere."""
  # [.., R, Q, ..] -> [.., R, Q + R - 1, ..]: with rows padded to Q + R and
  # read back as rows of Q + R - 1, row K starts K entries later.
  r, q = x.shape[axis], x.shape[axis + 1]
  pre, post = x.shape[:axis], x.shape[axis + 2:]
  pads = [(0, 0, 0)] * x.ndim
  pads[axis + 1] = (0, r, 0)
  x = _sylvester_reshape(lax.pad(x, lax._zero(x), pads), *pre, r * (q + r),
                         *post)
  x = slicing.slice_in_dim(x, 0, r * (q + r - 1), axis=axis)
  return _sylvester_reshape(x, *pre, r, q + r - 1, *post)


def _sylvester_unskew(x: Array, axis: int, width: int) -> Array:
  """z[K, u] = x[K, u + K] for u < width, on axes (axis, axis + 1)."""
  # The reverse of _sylvester_skew: rows padded to W + R and read back as
  # rows of W + R + 1, row K starts K entries earlier; x[K, u + K] beyond the
  # end of row K reads the padding.
  r, w = x.shape[axis], x.shape[axis + 1]
  pre, post = x.shape[:axis], x.shape[axis + 2:]
  zero = lax._zero(x)
  pads = [(0, 0, 0)] * x.ndim
  pads[axis + 1] = (0, r, 0)
  x = _sylvester_reshape(lax.pad(x, zero, pads), *pre, r * (w + r), *post)
  pads = [(0, 0, 0)] * x.ndim
  pads[axis] = (0, r, 0)
  x = _sylvester_reshape(lax.pad(x, zero, pads), *pre, r, w + r + 1, *post)
  return slicing.slice_in_dim(x, 0, width, axis=axis + 1)


def _sylvester_split_complex(x: Array, axis: int) -> Array:
  """[re x, im x] concatenated along axis, or x itself if x is real."""
  if not dtypes.issubdtype(x.dtype, np.complexfloating):
    return x
  return lax.concatenate([lax.real(x), lax.imag(x)], axis % x.ndim)


def _sylvester_panel_dot(x: Array, y: Array, dtype) -> Array:
  """Batched x @ y of [..., s(2), k] and [..., k, s(2)] panels, as dtype."""
  # Complex panels come split by _sylvester_split_complex, x along its rows
  # and y along its columns, so one real product gives the four products
  #   [[xr yr, xr yi], [xi yr, xi yi]]
  # of the complex one: XLA:CPU's complex products are several times slower
  # than its real ones (at n = 300, two complex products per step took 38 ms
  # of a 62 ms complex128 solve, which takes 31 ms this way).
  nb = x.ndim - 2
  batch = tuple(range(nb))
  z = lax.dot_general(x, y, (((nb + 1,), (nb,)), (batch, batch)),
                      precision=lax.Precision.HIGHEST)
  if not dtypes.issubdtype(dtype, np.complexfloating):
    return z
  s = z.shape[-1] // 2
  part = lambda i, j: slicing.slice(
      z, (0,) * nb + (i * s, j * s), (*z.shape[:nb], (i + 1) * s, (j + 1) * s))
  return lax.complex(part(0, 0) - part(1, 1), part(0, 1) + part(1, 0))


def _sylvester_wavefront(a: Array, b: Array, c: Array, pivots: Array,
                         s: int, quasi: bool = False) -> Array:
  """Solves a Y + Y b = c by wavefronts over s x s blocks, in bands of rows."""
  # a: [..., r*s, r*s] and b: [..., q*s, q*s] upper triangular with zeros
  # below the diagonal, r <= q, and pivots as _sylvester_block_solve takes
  # them. The r block rows are solved in bands of about
  # _SYLVESTER_BAND_HEIGHT, bottom band first, each by a wavefront of its
  # own after one product with the bands below:
  #   Y_k solves A_kk Y_k + Y_k B = C_k - A_k,>k Y_>k.
  # A wavefront over the whole grid leaves about half of its rows idle (its
  # anti-diagonals grow and shrink) and contracts over the zero blocks below
  # the diagonal of A; over a band of h block rows only the ramps of h steps
  # are idle, and the product with the bands below runs as one GEMM. The bands
  # have one shape (the bottom one padded with decoupled zero rows: zero
  # coefficients and pivots give zero unknowns), so one loop over them runs one
  # compiled wavefront. With quasi, a and b are quasi-triangular (see
  # _sylvester_block_solve), and the bands start at whole blocks, so none
  # cuts one of their 2 x 2 blocks.
  # Measured on CPU (2 cores, best of 5
  # blocks, float64, the real Schur forms of randn(n, n) / sqrt(n) + 3 I): the
  # real quasi-triangular solve took 6.5, 8.7, 20.2, 45.3, 107 and 223 ms with
  # bands at n = 160, 200, 300, 400, 600 and 800, against 8.9, 12.5, 28.9,
  # 73.9, 194 and 532 ms as one wavefront (LAPACK's trsyl: 3.1, 5.3, 17.3,
  # 46.5, 160 and 430 ms); with one OpenBLAS thread 23.6 against 28.2 ms at
  # n = 300 and 105 against 229 ms at n = 600; the complex triangular solve
  # 44.3 against 79.8 ms at n = 300 and 258 against 648 ms at n = 600 (ztrsyl
  # 38.6 and 313 ms). Bands of 5, 6 or 10 block rows were slower than 8 at
  # n = 160-400, and within 10% at n = 600.
  *batch, m, n = c.shape
  nb = len(batch)
  r = m // s
  bands = _sylvester_bands(r)
  if bands == 1:
    return _sylvester_band_wavefront(
        _sylvester_band_layout(b, r, s), a, c, pivots, s, quasi)
  h = -(-r // bands)
  w = h * s
  pm = bands * w - m
  zero = lax._zero(c)
  batch_pad = [(0, 0, 0)] * nb
  a = lax.pad(a, zero, [*batch_pad, (0, pm, 0), (0, pm, 0)])
  c = lax.pad(c, zero, [*batch_pad, (0, pm, 0), (0, 0, 0)])
  pivots = lax.pad(pivots, lax._zero(pivots),
                   [*batch_pad, (0, pm, 0), (0, 0, 0)])
  layout_b = _sylvester_band_layout(b, h, s)
  dims = (((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))))

  def body(k, y):
    # Band k from the bottom: rows lo .. lo + w - 1. Y is zero in the rows
    # not yet solved, these included, and a is zero left of its diagonal
    # block, so the product over all rows is the update by the bands below.
    lo = (bands - 1 - k) * w
    rows = lambda x: slicing.dynamic_slice_in_dim(
        x, lo, w, axis=nb, allow_negative_indices=False)
    a_rows = rows(a)
    rhs = rows(c) - lax.dot_general(a_rows, y, dims,
                                    precision=lax.Precision.HIGHEST)
    a_band = slicing.dynamic_slice_in_dim(a_rows, lo, w, axis=nb + 1,
                                          allow_negative_indices=False)
    y_band = _sylvester_band_wavefront(layout_b, a_band, rhs, rows(pivots),
                                       s, quasi)
    return slicing.dynamic_update_slice_in_dim(y, y_band, lo, axis=nb,
                                               allow_negative_indices=False)

  y = control_flow.fori_loop(0, bands, body, lax.full_like(c, 0))
  return slicing.slice_in_dim(y, 0, m, axis=nb)


def _sylvester_bands(r: int) -> int:
  """How many bands _sylvester_wavefront solves r block rows in."""
  return max(1, round(r / _SYLVESTER_BAND_HEIGHT))


def _sylvester_band_layout(b: Array, r: int, s: int) -> tuple[Array, Array]:
  """b's diagonal blocks and off-diagonal columns, laid out for r block rows.

  Returns (b_diag, b_col) for _sylvester_band_wavefront, which any band of r
  block rows reads: they depend on b alone.
  """
  *batch, n, _ = b.shape
  nb = len(batch)
  q = n // s
  zero = lax._zero(b)
  b_blocks = _sylvester_blocks(b, s)
  b_diag = _sylvester_reshape(_sylvester_unskew(b_blocks, nb, 1), *batch, q,
                              s, s)
  # Windows of b's diagonal blocks over L_K, padded with zeros for the blocks
  # outside the grid.
  b_diag = lax.pad(b_diag, zero, [(0, 0, 0)] * nb + [(r - 1, r - 1, 0)] +
                   [(0, 0, 0)] * 2)
  # b_col[L, i] = B[L - q + 1 + i, L], i = 0..q-2: the blocks above the
  # diagonal, farthest first (the order of the history window), as
  # [..., q + 2 (r-1), (q-1) s, s(2)], padded for the windows over L.
  b_col = _sylvester_swap(b_blocks, nb, nb + 1)
  b_col = lax.pad(b_col, zero, [(0, 0, 0)] * (nb + 1) + [(q - 1, 0, 0)] +
                  [(0, 0, 0)] * 2)
  b_col = _sylvester_reshape(_sylvester_unskew(b_col, nb, q - 1), *batch, q,
                             (q - 1) * s, s)
  b_col = _sylvester_split_complex(b_col, -1)
  b_col = lax.pad(b_col, lax._zero(b_col),
                  [(0, 0, 0)] * nb + [(r - 1, r - 1, 0)] + [(0, 0, 0)] * 2)
  return b_diag, b_col


def _sylvester_band_wavefront(layout_b: tuple[Array, Array], a: Array,
                              c: Array, pivots: Array, s: int,
                              quasi: bool = False) -> Array:
  """The wavefront of _sylvester_wavefront, b laid out in layout_b."""
  # a: [..., r*s, r*s] and b: [..., q*s, q*s] upper triangular with zeros
  # below the diagonal (with quasi, quasi-triangular), r <= q. Block (K, L)
  # of Y depends on the blocks below it in column L and left of it in row K,
  # so the r blocks
  #   (K, L_K) with L_K = d - r + 1 + K,  K = 0..r-1,
  # (anti-diagonal d when rows are counted from the bottom) are independent
  # and are solved together at step d, d = 0..r+q-2, after their right-hand
  # sides are brought up to date by two batched products over K:
  #   C[K, L_K] - sum_{j>0} A[K, K+j] Y[K+j, L_K]
  #             - sum_{j>0} Y[K, L_K-j] B[L_K-j, L_K],
  # in which Y[K+j, L_K] and Y[K, L_K-j] were solved at step d - j. The first
  # sum reads a rolling buffer ra[K, :] of Y[K+j, L_K], shifted by one block
  # each step; the second a window of the history h[K, :, d', :] of the
  # solved blocks. The coefficients are laid out once, with the off-diagonal
  # blocks of row K of A and of column L of B in the order of those buffers.
  # Only the r updated blocks are written per step (a lazy, left-looking
  # update, unlike trsyl3's eager one), and both products have long
  # contractions. Blocks with L_K outside [0, q) have c = pivots = 0 and
  # give 0 (pivots: see _sylvester_block_solve). Jonsson & Kagstrom,
  # "Recursive blocked
  # algorithms for solving triangular systems", ACM TOMS 28 (2002); LAPACK
  # trsyl3.
  *batch, m, n = c.shape
  nb = len(batch)
  r, q = m // s, n // s
  num_d = r + q - 1
  dtype = c.dtype
  is_complex = dtypes.issubdtype(dtype, np.complexfloating)
  s2 = 2 * s if is_complex else s
  # cs[K, d] = C[K, d - r + 1 + K]: row K of the block grid shifted right by
  # r - 1 - K; likewise the pivots.
  by_step = lambda x: lax.rev(
      _sylvester_skew(lax.rev(_sylvester_blocks(x, s), (nb,)), nb), (nb,))
  cs, pivots_s = by_step(c), by_step(pivots)
  a_blocks = _sylvester_blocks(a, s)
  a_diag = _sylvester_reshape(_sylvester_unskew(a_blocks, nb, 1), *batch, r,
                              s, s)
  b_diag, b_col = layout_b
  # a_row[K, i] = A[K, K + r - 1 - i], i = 0..r-2: the blocks right of the
  # diagonal, farthest first (the order of ra), as [..., r, s(2), (r-1) s].
  a_row = lax.rev(slicing.slice_in_dim(
      _sylvester_unskew(a_blocks, nb, r), 1, r, axis=nb + 1), (nb + 1,))
  a_row = _sylvester_swap(a_row, nb + 1, nb + 2)
  a_row = _sylvester_reshape(_sylvester_split_complex(a_row, nb + 1), *batch,
                             r, s2, (r - 1) * s)
  real_zero = lax._zero(a_row)
  # History h[K, :, q - 1 + d', :] = Y[K, L_K] solved at step d' (zero for
  # the q - 1 slots before the first step), rows split if complex.
  num_t = q - 1 + num_d
  h = lax.full((*batch, r, s2, num_t, s), 0, a_row.dtype,
               sharding=_sylvester_sharding(c, nb + 4))
  # ra[K, i] = Y[K + r - 1 - i, L_K] for the coming step, columns split.
  ra = lax.full((*batch, r, r - 1, s, s2), 0, a_row.dtype,
                sharding=_sylvester_sharding(c, nb + 4))

  def body(d, carry):
    h, ra = carry
    # d is in range: no wrapping of negative indices (fewer fused loops).
    rhs = slicing.dynamic_index_in_dim(cs, d, axis=nb + 1, keepdims=False,
                                       allow_negative_indices=False)
    if r > 1:
      rhs = rhs - _sylvester_panel_dot(
          a_row, _sylvester_reshape(ra, *batch, r, (r - 1) * s, s2), dtype)
    if q > 1:
      hw = slicing.dynamic_slice_in_dim(h, d, q - 1, axis=nb + 2,
                                        allow_negative_indices=False)
      bw = slicing.dynamic_slice_in_dim(b_col, d, r, axis=nb,
                                        allow_negative_indices=False)
      rhs = rhs - _sylvester_panel_dot(
          _sylvester_reshape(hw, *batch, r, s2, (q - 1) * s), bw, dtype)
    y = _sylvester_block_solve(
        a_diag, slicing.dynamic_slice_in_dim(b_diag, d, r, axis=nb,
                                             allow_negative_indices=False),
        rhs, slicing.dynamic_index_in_dim(pivots_s, d, axis=nb + 1,
                                          keepdims=False,
                                          allow_negative_indices=False),
        quasi)
    h = slicing.dynamic_update_index_in_dim(
        h, _sylvester_split_complex(y, -2), d + q - 1, axis=nb + 2,
        allow_negative_indices=False)
    if r > 1:
      # The next step needs Y[K + 1 + r - 1 - i, L_K + 1]: drop the oldest
      # block, append this step's, and move every row up one block.
      ra = lax.concatenate(
          [slicing.slice_in_dim(ra, 1, r - 1, axis=nb + 1),
           lax.expand_dims(_sylvester_split_complex(y, -1), (nb + 1,))],
          nb + 1)
      ra = lax.pad(slicing.slice_in_dim(ra, 1, r, axis=nb), real_zero,
                   [(0, 0, 0)] * nb + [(0, 1, 0)] + [(0, 0, 0)] * 3)
    return h, ra

  h, _ = control_flow.fori_loop(0, num_d, body, (h, ra))
  # Y[K, L] = h[K, :, q - 1 + L + r - 1 - K, :]: with K' = r - 1 - K, an
  # unskew of the history by K'.
  h = lax.rev(slicing.slice_in_dim(h, q - 1, num_t, axis=nb + 2), (nb,))
  y = _sylvester_unskew(_sylvester_swap(h, nb + 1, nb + 2), nb, q)
  y = lax.rev(y, (nb,))
  if is_complex:
    y = lax.complex(slicing.slice_in_dim(y, 0, s, axis=nb + 2),
                    slicing.slice_in_dim(y, s, s2, axis=nb + 2))
  return _sylvester_unblocks(y)


def _sylvester_blocked_solve(a: Array, b: Array, c: Array, inv_diag: Array,
                             block_size: int | None = None) -> Array:
  """_sylvester_triangular_solve by the blocked wavefront."""
  *batch, m, n = c.shape
  nb = len(batch)
  if m == 0 or n == 0:
    return c
  if m > n:
    # The wavefront wants fewer row blocks than column blocks.
    return _sylvester_flipped(
        lambda *x: _sylvester_blocked_solve(*x, block_size), a, b, c,
        inv_diag)
  s = _sylvester_block_size(m, block_size, c.dtype)
  # Pad to whole blocks at the bottom and right: zero coefficients and
  # inv_diag = 0 decouple the padding, whose unknowns come out 0.
  pm, pn = -m % s, -n % s
  zero = lax._zero(c)
  batch_pad = [(0, 0, 0)] * nb
  a = lax.pad(_triu(a), zero, [*batch_pad, (0, pm, 0), (0, pm, 0)])
  b = lax.pad(_triu(b), zero, [*batch_pad, (0, pn, 0), (0, pn, 0)])
  c = lax.pad(c, zero, [*batch_pad, (0, pm, 0), (0, pn, 0)])
  inv_diag = lax.pad(inv_diag, zero, [*batch_pad, (0, pm, 0), (0, pn, 0)])
  y = _sylvester_wavefront(a, b, c, inv_diag, s)
  return slicing.slice(y, (0,) * (nb + 2), (*batch, m, n))


def _sylvester_block_size(m: int, block_size: int | None = None,
                          dtype=np.float64) -> int:
  # At most block_size (by default _SYLVESTER_BLOCK_SIZE, or
  # _SYLVESTER_BLOCK_SIZE_COMPLEX for a complex dtype), and no more than m
  # rounded up to whole leaves.
  if block_size is None:
    block_size = (_SYLVESTER_BLOCK_SIZE_COMPLEX
                  if dtypes.issubdtype(dtype, np.complexfloating) else
                  _SYLVESTER_BLOCK_SIZE)
  t = _SYLVESTER_LEAF_SIZE
  return min(block_size, -(-m // t) * t)


# Sylvester solve: blocked kernel for real Schur factors

# Real Schur (quasi-triangular) coefficients of large equations are solved
# by the blocked kernel in real arithmetic (_sylvester_quasi_blocked_solve):
# their 2 x 2 diagonal blocks are moved to even indices, and the wavefront
# solves its 2 x 2 leaves in closed form. Equations that are singular, or
# whose blocks do not fit the static layout, fall back to the complex Schur
# bases (_sylvester_quasi_complex_solve), whose rotations are dense products
# up to this size, while their O(n^3) cost stays below that of the column
# solve they surround. The column kernel compiles to about a third of the
# loops of this path (no layout of the 2 x 2 blocks, no fallback branch).
_SYLVESTER_DENSE_ROTATIONS = 512


def _sylvester_pair_inverse(a, b):
  """Q with a Y + Y b = C <=> Y = Q (a C + C adj(b)), 2 x 2 a and b."""
  # All entrywise, [[x00, x01], [x10, x11]] of arrays. With t = tr b, det b
  # and adj(b) = t I - b, Cayley-Hamilton (b^2 = t b - det(b) I) gives, for
  # S(Y) = a Y + Y b,
  #   a S(Y) + S(Y) adj(b) = (a^2 + t a + det(b) I) Y = P Y,
  # so Q = P^{-1} = adj(P) / det(P), in closed form. det(P) is the product of
  # the four pivots alpha_i + beta_j over the eigenvalues of a and b: zero
  # exactly when the equation is singular (dlasy2 solves the same 4 x 4
  # system by Gaussian elimination).
  (a00, a01), (a10, a11) = a
  (b00, b01), (b10, b11) = b
  t = b00 + b11
  det_b = b00 * b11 - b01 * b10
  p00 = a00 * a00 + a01 * a10 + t * a00 + det_b
  p11 = a11 * a11 + a01 * a10 + t * a11 + det_b
  p01, p10 = a01 * (a00 + a11 + t), a10 * (a00 + a11 + t)
  inv_det = lax.full_like(p00, 1) / (p00 * p11 - p01 * p10)
  return [[p11 * inv_det, -p01 * inv_det], [-p10 * inv_det, p00 * inv_det]]


def _sylvester_pair_apply(a, b, q, c):
  """Y = q (a c + c adj(b)), all 2 x 2 and entrywise: see above."""
  adj_b = [[b[1][1], -b[0][1]], [-b[1][0], b[0][0]]]
  w = [[a[i][0] * c[0][j] + a[i][1] * c[1][j] + c[i][0] * adj_b[0][j] +
        c[i][1] * adj_b[1][j] for j in range(2)] for i in range(2)]
  return [[q[i][0] * w[0][j] + q[i][1] * w[1][j] for j in range(2)]
          for i in range(2)]


def _sylvester_pair_inverses(a: Array, b: Array) -> Array:
  """[..., m, n]: Q of _sylvester_pair_inverse for each pair of 2 x 2 blocks.

  Entry (2 k + i, 2 l + j) is Q[i, j] for the diagonal blocks k of a and l
  of b, quasi-triangular with their 2 x 2 blocks at even indices.
  """
  nb = a.ndim - 2
  h, k = a.shape[-1] // 2, b.shape[-1] // 2
  shape = (*a.shape[:nb], h, k)
  grid = lambda x, axis: [[lax.broadcast_in_dim(e, shape, (*range(nb), axis))
                           for e in row] for row in x]
  return _sylvester_leaf_assemble(_sylvester_pair_inverse(
      grid(_sylvester_diagonal_leaves(a), nb),
      grid(_sylvester_diagonal_leaves(b), nb + 1)))


def _sylvester_take(x: Array, idx: Array, axis: int) -> Array:
  """x[..., idx[...], ...] along axis, idx batched like x's leading dims."""
  # x: [..., n, ...] with the batch dimensions of idx: [..., p] in front.
  nb = idx.ndim - 1
  x = _sylvester_swap(x, axis, nb) if axis != nb else x
  dnums = slicing.GatherDimensionNumbers(
      offset_dims=tuple(range(nb + 1, x.ndim)), collapsed_slice_dims=(nb,),
      start_index_map=(nb,), operand_batching_dims=tuple(range(nb)),
      start_indices_batching_dims=tuple(range(nb)))
  out = slicing.gather(x, lax.expand_dims(idx, (idx.ndim,)), dnums,
                       slice_sizes=(*(1,) * (nb + 1), *x.shape[nb + 1:]),
                       mode=slicing.GatherScatterMode.PROMISE_IN_BOUNDS)
  return _sylvester_swap(out, axis, nb) if axis != nb else out


def _sylvester_bump_layout(t: Array, size: int) -> tuple[Array, Array, Array]:
  """Where the rows of a real Schur form go so that its 2 x 2 blocks are even.

  Returns pos [..., n], the new index of each row; src [..., size], the old
  index of each new row (n for a dummy row); and whether the n rows and the
  dummies they need fit in size.
  """
  # A bump (2 x 2 block) at rows (k, k+1) must start at an even index. After
  # an aligned bump the next index is even again, so a bump needs one dummy
  # row before it exactly when an odd number of real eigenvalues separates it
  # from the previous bump (or from the top).
  *batch, n, _ = t.shape
  nb = len(batch)
  # The number of real eigenvalues between the previous bump, starting at
  # row p (p = -2 if none), and the bump at row k is k - p - 2. Both that
  # search and the running count of dummies are O(n^2) masked reductions:
  # cheaper to compile than scans, and small next to the solve.
  start = _sylvester_bumps(t)
  shape = (*batch, n, n)
  k = _sylvester_iota(t, shape, nb)
  j = _sylvester_iota(t, shape, nb + 1)
  start_j = lax.broadcast_in_dim(start, shape, (*range(nb), nb + 1))
  prev = lax.reduce_max(lax.select(start_j & (j < k), j, lax.full_like(j, -2)),
                        (nb + 1,))
  row = _sylvester_iota(t, (*batch, n), nb)
  need = start & ((row - prev) % 2 == 1)
  need_j = lax.broadcast_in_dim(need, shape, (*range(nb), nb + 1))
  pos = row + lax.reduce_sum(
      lax.convert_element_type(need_j & (j <= k), np.int32), (nb + 1,))
  fits = slicing.index_in_dim(pos, n - 1, nb, keepdims=False) < size
  # src by comparison, O(n size): src[p] = i where pos[i] == p, else n.
  shape = (*batch, size, n)
  hit = (lax.broadcast_in_dim(pos, shape, (*range(nb), nb + 1)) ==
         _sylvester_iota(t, shape, nb))
  i = _sylvester_iota(t, shape, nb + 1)
  src = lax.reduce_min(lax.select(hit, i, lax.full_like(i, n)), (nb + 1,))
  return pos, src, fits


def _sylvester_pad_quasi(t: Array, src: Array, dummy: Array) -> Array:
  """t with rows and columns moved to src's layout, dummy on new diagonals."""
  *batch, n, _ = t.shape
  nb = len(batch)
  zero = lax._zero(t)
  t = lax.pad(t, zero, [(0, 0, 0)] * nb + [(0, 1, 0), (0, 1, 0)])
  t = _sylvester_take(_sylvester_take(t, src, nb), src, nb + 1)
  # The dummies' rows and columns are zero, and their diagonal entries are
  # added as a diagonal matrix: the vector of them padded with size zeros
  # between entries, read as [size, size] (entry p lands at p (size + 1)).
  # Built by comparing iotas, the same diagonal made XLA:CPU's fused loop
  # take 4x the LLVM time (195 against 47 ms at n = 300).
  size = src.shape[-1]
  diag = lax.select(src == n, lax.broadcast_in_dim(dummy, src.shape,
                                                   tuple(range(nb))),
                    lax.full_like(src, 0, t.dtype))
  diag = lax.pad(diag, zero, [(0, 0, 0)] * nb + [(0, 0, size)])
  return t + _sylvester_reshape(diag, *batch, size, size)


def _sylvester_quasi_triangular_solve(a: Array, b: Array, c: Array,
                                      layout_a: tuple[Array, Array],
                                      layout_b: tuple[Array, Array]) -> Array:
  """Y with a Y + Y b = c for real quasi-triangular (real Schur) a and b.

  a and b must have no entries below the bumps, and layout_a and layout_b
  are (pos, src) from _sylvester_bump_layout, whose layouts must fit. The
  equation must be nonsingular.
  """
  # Each 2 x 2 diagonal block (bump) is moved to an even index by inserting
  # decoupled dummy rows and columns (zero off the diagonal, zero right-hand
  # side, so zero unknowns) in front of it, to sizes size_a and size_b, which
  # must be multiples of the block size used (see _sylvester_quasi_sizes); the
  # wavefront then solves 2 x 2 blocks of unknowns in closed form. The
  # dummies' diagonal value exceeds every eigenvalue's modulus (bounded by
  # twice the largest entry of the tridiagonal band), so that no dummy pivot
  # vanishes.
  nb = c.ndim - 2
  band = lambda x: lax.reduce_max(abs(x - _triu(x, 2)), (nb, nb + 1))
  dummy = lax.convert_element_type(1 + 2 * (band(a) + band(b)), a.dtype)
  (pos_a, src_a), (pos_b, src_b) = layout_a, layout_b
  size_a, size_b = src_a.shape[-1], src_b.shape[-1]
  a_p = _sylvester_pad_quasi(a, src_a, dummy)
  b_p = _sylvester_pad_quasi(b, src_b, dummy)
  zero = lax._zero(c)
  c_p = lax.pad(c, zero, [(0, 0, 0)] * nb + [(0, 1, 0), (0, 1, 0)])
  c_p = _sylvester_take(_sylvester_take(c_p, src_a, nb), src_b, nb + 1)
  s = _sylvester_block_size(min(size_a, size_b))
  wavefront = lambda a, b, c: _sylvester_wavefront(
      a, b, c, _sylvester_pair_inverses(a, b), s, quasi=True)
  y_p = (_sylvester_flipped(wavefront, a_p, b_p, c_p) if size_a > size_b else
         wavefront(a_p, b_p, c_p))
  return _sylvester_take(_sylvester_take(y_p, pos_a, nb), pos_b, nb + 1)


def _sylvester_quasi_sizes(m: int, n: int) -> tuple[int, int]:
  """Static sizes for _sylvester_quasi_triangular_solve."""
  # Room for 1.3 sqrt(k) + 1 dummies, rounded up to whole blocks. At most one
  # dummy per real eigenvalue is needed, and a random real k x k matrix has
  # about sqrt(2 k / pi) of them; measured on randn(k, k) / sqrt(k) + 3 I,
  # 8 seeds each, at most 8, 15 and 26 dummies at k = 100, 300 and 600 (the
  # room is 28, 36 and 40 after rounding to blocks of 16). The caller falls
  # back to the complex Schur forms when a layout does not fit.
  room = lambda k: k + math.ceil(1.3 * math.sqrt(k)) + 1
  s = _sylvester_block_size(room(min(m, n)))
  size = lambda k: -(-room(k) // s) * s
  return size(m), size(n)


def _sylvester_quasi_blocked_solve(ab: Array, c: Array, tol: Array,
                                   terms: Array) -> Array:
  """_sylvester_quasi_solve of a large equation, from what it computed.

  ab, tol and terms as _sylvester_quasi_complex_solve takes them.
  """
  *batch, m, n = c.shape
  nb = len(batch)
  size_a, size_b = _sylvester_quasi_sizes(m, n)
  pos, src, _ = _sylvester_bump_layout(ab, max(size_a, size_b))
  # The rows of the padding come last, as dummies (index m or n).
  layout = lambda i, size, rows: (
      _sylvester_unstack(pos, i, rows, 1),
      lax.min(_sylvester_unstack(src, i, size, 1), np.int32(rows)))
  layout_a, layout_b = layout(0, size_a, m), layout(1, size_b, n)
  fits = ((slicing.index_in_dim(layout_a[0], m - 1, nb, False) < size_a) &
          (slicing.index_in_dim(layout_b[0], n - 1, nb, False) < size_b))
  lam = slicing.index_in_dim(terms, 3, nb + 1, keepdims=False)
  pivots = (lax.broadcast_in_dim(_sylvester_unstack(lam, 0, m, 1),
                                 (*batch, m, n), (*range(nb), nb)) +
            lax.broadcast_in_dim(_sylvester_unstack(lam, 1, n, 1),
                                 (*batch, m, n), (*range(nb), nb + 1)))
  # Whether each equation of the batch takes the real wavefront: its layout
  # fits and it has no singular pivot.
  fast = fits & ~lax.reduce_or(lax.abs(pivots) <= tol, (nb, nb + 1))
  real_solve = lambda ab, c, layout_a, layout_b: (
      _sylvester_quasi_triangular_solve(
          _sylvester_unstack(ab, 0, m, 2), _sylvester_unstack(ab, 1, n, 2), c,
          layout_a, layout_b))
  complex_solve = lambda ab, c, *_: _sylvester_quasi_complex_solve(
      ab, c, tol, terms, dense=max(m, n) <= _SYLVESTER_DENSE_ROTATIONS)
  if nb == 0:
    return control_flow.cond(fast, real_solve, complex_solve, ab, c,
                             layout_a, layout_b)
  if math.prod(batch) == 1:  # One equation: decided as unbatched.
    one = lambda x: lax.reshape(x, x.shape[nb:])
    # ab and terms stack a's and b's along their leading axis.
    stacked = lambda x: lax.reshape(x, x.shape[:1] + x.shape[nb + 1:])
    tol_1, terms_1 = one(tol), stacked(terms)
    out = control_flow.cond(
        one(fast), real_solve,
        lambda ab, c, *_: _sylvester_quasi_complex_solve(
            ab, c, tol_1, terms_1,
            dense=max(m, n) <= _SYLVESTER_DENSE_ROTATIONS),
        stacked(ab), one(c),
        *[tuple(map(one, l)) for l in (layout_a, layout_b)])
    return lax.reshape(out, c.shape)
  # A batch takes both and selects per equation, as vmap does with a cond of
  # a batched predicate: a singular equation leaves the solutions of the
  # others as they are alone, and a batch split across devices needs no
  # collective (one predicate for the whole batch compiled to all-reduces).
  # The real solve of an equation whose layout does not fit is discarded;
  # its row positions are clamped so that it reads within bounds.
  clamp = lambda layout, size: (lax.min(layout[0], np.int32(size - 1)),
                                layout[1])
  fast = lax.broadcast_in_dim(fast, c.shape, tuple(range(nb)))
  return lax.select(
      fast, real_solve(ab, c, clamp(layout_a, size_a), clamp(layout_b, size_b)),
      complex_solve(ab, c))


# Lorentzian broadening (a smooth replacement of the reciprocal pivots),
# which stays in this package (ci/stack.py, PACKAGE_ONLY_SYLVESTER): its
# argument check, reciprocal pivots and JVP rule.
def _check_sylvester_broadening(broadening, quasi_triangular):
  if not _sylvester_is_tolerance(broadening):
    raise ValueError(
        "sylvester_solve: broadening must be None or a finite nonnegative "
        f"Python number, got {broadening!r}.")
  if quasi_triangular:
    raise ValueError(
        "sylvester_solve: quasi_triangular=True needs broadening=None, got "
        f"broadening={broadening}.")


def _sylvester_lorentzian_inverses(d, broadening):
  # conj(d) / (|d|^2 + broadening) for each pivot d: smooth in d.
  d2 = (d * d.conj()).real
  return d.conj() / (d2 + broadening).astype(d.dtype)


def _sylvester_broadened_jvp_rule(primals, tangents, **params):
  # With broadening, the substitution is y_k = g(d_k) r_k with
  # r = C - S_off(Y), S_off the off-diagonal part of S, and
  # g(d) = conj(d) / (|d|^2 + β), so ẏ_k = g(d_k) ṙ_k + ġ_k r_k with
  # ġ = -g^2 ḋ + β conj(ḋ) / (|d|^2 + β)^2 (g is not holomorphic). Writing
  # z = ġ ∘ r, Ẏ - z is the same substitution applied to
  # Ċ - Ṡ_off(Y) - S_off(z), which is finite also where g(d) = 0. Broadening
  # needs triangular factors: quasi-triangular ones never get here.
  a, b, c = primals
  a_dot, b_dot, c_dot = tangents
  broadening = params["broadening"]
  apply = partial(_sylvester_triangular_apply, (a, b), **params)
  y = triangular_sylvester_solve_p.bind(a, b, c, **params)
  if type(a_dot) is ad_util.Zero and type(b_dot) is ad_util.Zero:
    if type(c_dot) is ad_util.Zero:
      return y, c_dot
    return y, triangular_sylvester_solve_p.bind(a, b, c_dot, **params)
  da, db = _extract_diagonal(a), _extract_diagonal(b)
  d = da[..., :, None] + db[..., None, :]
  da_dot, db_dot = (
      lax.full_like(x, 0) if type(x_dot) is ad_util.Zero else
      _extract_diagonal(x_dot)
      for x, x_dot in ((da, a_dot), (db, b_dot)))
  d_dot = da_dot[..., :, None] + db_dot[..., None, :]
  g = _sylvester_triangular_inverses(
      a, b, rtol=params["rtol"], broadening=broadening)
  d2 = (d * d.conj()).real.astype(d.dtype)
  g_dot = -g * g * d_dot + broadening * d_dot.conj() / (
      (d2 + broadening) * (d2 + broadening))
  z = g_dot * (c - apply(a, b, y) + d * y)
  rhs = ad.add_tangents(c_dot, d_dot * y - apply(a_dot, b_dot, y))
  rhs = rhs - (apply(a, b, z) - d * z)
  return y, z + triangular_sylvester_solve_p.bind(a, b, rhs, **params)
