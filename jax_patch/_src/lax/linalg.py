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

# This module mirrors jax/_src/lax/linalg.py. It holds only what the upstream
# patch adds or replaces there; ci/make_patches.py merges it into that file.

from __future__ import annotations

from functools import partial

import numpy as np

from jax._src import ad_util
from jax._src import config
from jax._src import core
from jax._src import dispatch
from jax._src import dtypes
from jax._src.debugging import debug_callback
from jax._src.interpreters import ad
from jax._src.interpreters import batching
from jax._src.interpreters import mlir
from jax._src.lax import lax
# cholesky, eigh, schur, triangular_solve and _real_schur_to_complex are
# re-exported: upstream they are names of this module, which
# jax_patch/_src/scipy/linalg.py uses.
from jax._src.lax.linalg import (  # noqa: F401
    _H, _T, _broadcast_to, _extract_diagonal, _triu, cholesky, eigh, eigh_p,
    schur, symmetrize, triangular_solve)
from jax._src.typing import Array, ArrayLike

from jax_patch._src.lax.sylvester_triangular import (  # noqa: F401
    _real_schur_eigenvalues, _real_schur_to_complex, _sylvester_quasi_mask,
    _sylvester_quasi_solve, _sylvester_triangular_solve)


# Top-level functions in alphabetical order.

def sylvester_solve(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    *,
    diagonal: bool = False,
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

  The solve is the back-substitution of Bartels and Stewart, blocked so that
  most of its work is matrix multiplication: independent blocks on each
  anti-diagonal are solved together after their right-hand sides are
  updated by batched products with the solved blocks (as in Jonsson and
  Kågström's RECSY and LAPACK's ``trsyl3``). With ``diagonal=True`` the
  coefficients are diagonal, given as vectors (e.g. eigenvalues from
  :func:`eigh`), and the solve is elementwise:
  :math:`Y_{ij} = C_{ij} / (a_i + b_j)`. With ``quasi_triangular=True`` the
  coefficients are real Schur forms (upper quasi-triangular, with a
  :math:`2 \times 2` diagonal block per complex conjugate pair of
  eigenvalues, as :func:`schur` returns for real input) and the solve runs in
  real arithmetic, with those blocks solved in closed form; this avoids the
  complex Schur form, which costs several times more to compute and to use.

  Singular pairs: a pivot :math:`d_{ij} = a_{ii} + b_{jj}` (for
  ``quasi_triangular``, a sum of eigenvalues of the diagonal blocks) with
  :math:`|d_{ij}| \le \mathrm{rtol} \cdot (\max|A| + \max|B|)` (maxima over
  the triangles of each matrix in the batch) is treated as exactly zero and
  its component of :math:`Y` is set to zero instead of :math:`\pm\infty`: the
  result is a generalized-inverse solution, and for ``diagonal=True`` exactly
  the Moore–Penrose one. This is what makes the degenerate-aware
  :func:`eigh` derivative possible. (For ``quasi_triangular``, an equation
  with singular pairs is solved in the complex Schur bases obtained from the
  real ones by a rotation per :math:`2 \times 2` block, at the cost of
  complex arithmetic, and the real part of the result is returned.)
  Alternatively, ``broadening`` replaces every reciprocal pivot :math:`1/d`
  by the Lorentzian :math:`\bar d / (|d|^2 + \mathrm{broadening})`, which is
  smooth in the coefficients; ``rtol`` is then unused.

  Args:
    a: A batch of upper triangular matrices with shape ``[..., m, m]``, or of
      their diagonals with shape ``[..., m]`` if ``diagonal`` is ``True``.
      Entries below the diagonal are ignored.
    b: A batch of upper triangular matrices with shape ``[..., n, n]``, or of
      their diagonals with shape ``[..., n]`` if ``diagonal`` is ``True``.
      Entries below the diagonal are ignored.
    c: The right-hand sides, with shape ``[..., m, n]``. ``a``, ``b`` and
      ``c`` must have the same batch dimensions and the same floating-point
      or complex dtype.
    diagonal: If ``True``, ``a`` and ``b`` hold diagonals.
    quasi_triangular: If ``True``, ``a`` and ``b`` are real upper
      quasi-triangular: entries below the subdiagonal, and subdiagonal
      entries that are zero to working precision, are ignored. Requires a
      real dtype, ``diagonal=False`` and no ``broadening``.
    transpose: If ``True``, solves :math:`A^T Y + Y B^T = C` instead (not
      conjugated: this is the linear transpose of the solve).
    rtol: Relative tolerance below which a pivot counts as zero. Defaults to
      :math:`\max(m, n)\,\varepsilon` for the dtype's machine epsilon
      :math:`\varepsilon`, the size of the rounding error of a backward-stable
      Schur or eigenvalue decomposition.
    broadening: If given, a nonnegative Lorentzian broadening, in the units
      of the square of the pivots, used instead of truncation.

  Returns:
    An array ``y`` with the shape and dtype of ``c``.
  """
  return sylvester_solve_p.bind(
      lax.asarray(a), lax.asarray(b), lax.asarray(c), diagonal=diagonal,
      quasi_triangular=quasi_triangular, transpose=transpose, rtol=rtol,
      broadening=broadening)


# Primitive registration helper functions

def _batch_dims_at_front_rule(prim, batched_args, batch_dims, **params):
  # For primitives that take any number of leading batch dimensions, equal
  # across operands: move (or broadcast) every batch dimension to the front.
  size = next(x.shape[d] for x, d in zip(batched_args, batch_dims)
              if d is not None)
  args = (batching.bdim_at_front(x, d, size)
          for x, d in zip(batched_args, batch_dims))
  return prim.bind(*args, **params), 0


# Symmetric/Hermitian eigendecomposition

def _eigh_degenerate_mask(w):
  # The pairs (i, j), i != j, that the eigh JVP treats as degenerate:
  #
  #   |w_i - w_j| <= max(sqrt(eps) (max(w) - min(w)), 2 n eps max|w|).
  #
  # Why sqrt(eps) of the spread (issue #669; Kasim, arXiv:2011.04366, uses
  # eps^0.6 and eps^0.4 for the same trade-off). For a loss that depends on
  # the eigenvectors only through projectors onto whole clusters, the
  # within-cluster coefficients K_ij / (w_j - w_i) cancel exactly, but in
  # floating point only to eps |K| / |w_j - w_i|, which relative to the
  # derivative, of size |K| / (gap between clusters) <= |K| / spread, is an
  # error of about eps spread / |w_j - w_i|. Zeroing a pair is exact for such
  # losses. So pairs closer than tau spread are zeroed and the others carry an
  # error below eps / tau; measured over random clustered spectra (n <= 12),
  # 0.7 eps / tau for all four dtypes. tau = sqrt(eps) bounds it by about
  # 1e-8 (float64) and 3e-4 (float32). Below the threshold a loss that does
  # depend on the basis of a cluster gets the gauge-fixed derivative, which
  # the gauge check (jax_linalg_gauge_check) flags; there its exact
  # derivative is itself no more accurate than sqrt(eps) max|w| / spread,
  # since the eigenvectors of such a pair are only determined to
  # eps max|w| / |w_i - w_j| by a backward-stable eigensolver. The second
  # term treats eigenvalues that agree to rounding (a margin of n over the
  # eps max|w| backward error of eigh) as degenerate also when the spread is
  # tiny compared with max|w|. The spread, not max|w|, sets the scale so that
  # adding a multiple of the identity to A changes nothing. NaN eigenvalues
  # give no degenerate pairs, so NaN propagates.
  n = w.shape[-1]
  eps = float(np.finfo(w.dtype).eps)
  axis = (w.ndim - 1,)
  w_max, w_min = lax.reduce_max(w, axes=axis), lax.reduce_min(w, axes=axis)
  tol = lax.max(float(np.sqrt(eps)) * (w_max - w_min),
                2 * n * eps * lax.max(abs(w_max), abs(w_min)))
  gap = abs(w[..., :, None] - w[..., None, :])
  off_diagonal = _broadcast_to(~lax._eye(np.bool_, (n, n)), gap.shape)
  return (gap <= tol[..., None, None]) & off_diagonal

def _eigh_inverse_gaps(w):
  # F_ij = 1 / (w_j - w_i), and 0 on the diagonal and on degenerate pairs:
  # the pseudo-inverse of the diagonal Sylvester operator Y -> Y Λ - Λ Y.
  n = w.shape[-1]
  degenerate = _eigh_degenerate_mask(w)
  zero = degenerate | _broadcast_to(lax._eye(np.bool_, (n, n)),
                                    degenerate.shape)
  gap = w[..., None, :] - w[..., :, None]
  one = lax.full_like(gap, 1)
  return lax.select(zero, lax.full_like(gap, 0),
                    one / lax.select(zero, one, gap))

def _eigh_gauge_check_abstract_eval(w, y, **_):
  return y

def _eigh_gauge_check_jvp_rule(primals, tangents, **params):
  w, y = primals
  _, y_dot = tangents
  out = _eigh_gauge_check_p.bind(w, y, **params)
  if type(y_dot) is ad_util.Zero:
    return out, y_dot
  return out, _eigh_gauge_check_p.bind(w, y_dot, **params)

def _eigh_gauge_violations(w, ct):
  # Reverse mode sees ct = V^T V̄ = conj(V^H G), G the gradient of the loss
  # with respect to V. The loss is invariant under V -> V exp(K), K
  # skew-Hermitian within a degenerate cluster, iff V^H G is Hermitian there
  # (Kasim, arXiv:2011.04366, eq. 2.13). On the diagonal this asks for a real
  # V^H G: the phase gauge of complex eigenvectors (PyTorch checks the same
  # in linalg_eig_backward). A violation above sqrt(eps) times the
  # cotangent's scale means the loss depends on the arbitrary basis.
  n = w.shape[-1]
  degenerate = _eigh_degenerate_mask(w) | _broadcast_to(
      lax._eye(np.bool_, (n, n)), ct.shape)
  ct_scale = lax.reduce_max(abs(ct), axes=(ct.ndim - 2, ct.ndim - 1))
  eps = float(np.finfo(w.dtype).eps)
  skew = abs(ct - _H(ct))
  return degenerate & (skew > float(np.sqrt(eps)) * ct_scale[..., None, None])

def _eigh_gauge_check_transpose_rule(ct, w, y, *, mode):
  assert ad.is_undefined_primal(y) and not ad.is_undefined_primal(w)
  if type(ct) is ad_util.Zero:
    return [None, ct]
  bad = _eigh_gauge_violations(w, ct)
  if mode == "nan":
    # Through the eigh JVP's transpose, 0 * NaN keeps these entries NaN.
    ct = lax.select(bad, lax.full_like(ct, np.nan), ct)
  elif mode == "raise":
    debug_callback(_raise_eigh_gauge_error, bad, w)
  return [None, ct]

def _raise_eigh_gauge_error(bad, w):
  bad = np.asarray(bad)
  if not bad.any():
    return
  pairs = sorted({(*map(int, i[:-2]), *sorted(map(int, i[-2:])))
                  for i in np.argwhere(bad)})
  w = np.asarray(w)
  shown = "; ".join(
      (f"batch index {p[:-2]}: " if len(p) > 2 else "")
      + (f"eigenpair {p[-1]} (phase, eigenvalue {w[p[:-2]][p[-1]]:.6g})"
         if p[-1] == p[-2] else
         f"eigenpairs {p[-2]} and {p[-1]} (eigenvalues "
         f"{w[p[:-2]][p[-2]]:.6g} and {w[p[:-2]][p[-1]]:.6g})")
      for p in pairs[:10])
  raise ValueError(
      "eigh: the gradient of this loss depends on the arbitrary choice of "
      "eigenvectors within a degenerate eigenspace, so it is undefined. "
      "These eigenvectors' cotangent V^H dL/dV is not Hermitian: "
      f"{shown}{' ...' if len(pairs) > 10 else ''}. A loss that depends on "
      "eigenvectors only through the spaces spanned by whole degenerate "
      "clusters (projectors, density matrices) has a well-defined gradient; "
      "with jax_linalg_gauge_check='ignore' (the default) it returns the "
      "gauge-fixed gradient.")

# The identity on the eigenvector coefficients Y of dV = V Y, whose transpose
# checks the cotangent for gauge dependence (jax_linalg_gauge_check).
_eigh_gauge_check_p = core.Primitive("eigh_gauge_check")
_eigh_gauge_check_p.def_impl(lambda w, y, **_: y)
_eigh_gauge_check_p.def_abstract_eval(_eigh_gauge_check_abstract_eval)
ad.primitive_jvps[_eigh_gauge_check_p] = _eigh_gauge_check_jvp_rule
ad.primitive_transposes[_eigh_gauge_check_p] = _eigh_gauge_check_transpose_rule
batching.primitive_batchers[_eigh_gauge_check_p] = partial(
    _batch_dims_at_front_rule, _eigh_gauge_check_p)
mlir.register_lowering(_eigh_gauge_check_p, lambda ctx, w, y, **_: [y])


def _eigh_coupling_abstract_eval(a, v, w, y, **_):
  return y

def _eigh_coupling_impl(a, v, w, y, **_):
  return lax.full_like(y, 0)

def _eigh_coupling_tangent(a_dot, v, w, y, *, transpose):
  dot = partial(lax.dot if v.ndim == 2 else lax.batch_matmul,
                precision=lax.Precision.HIGHEST)
  n_dot = dot(dot(_H(v), a_dot), v)
  n_dot = lax.select(_eigh_degenerate_mask(w), n_dot, lax.full_like(n_dot, 0))
  n_dot = _T(n_dot) if transpose else n_dot
  return dot(n_dot, y) - dot(y, n_dot)

def _eigh_coupling_jvp_rule(primals, tangents, **params):
  a, v, w, y = primals
  a_dot, _, _, y_dot = tangents
  out = _eigh_coupling_p.bind(a, v, w, y, **params)
  out_dot = [_eigh_coupling_p.bind(a, v, w, y_dot, **params)
             if type(y_dot) is not ad_util.Zero else None,
             _eigh_coupling_tangent(a_dot, v, w, y, **params)
             if type(a_dot) is not ad_util.Zero else None]
  out_dot = [t for t in out_dot if t is not None]
  if not out_dot:  # Only tangents of v and w, which N does not depend on.
    return out, lax.full_like(out, 0)
  return out, out_dot[0] if len(out_dot) == 1 else out_dot[0] + out_dot[1]

def _eigh_coupling_transpose_rule(ct, a, v, w, y, *, transpose):
  assert ad.is_undefined_primal(y)
  if type(ct) is ad_util.Zero:
    return [None, None, None, ct]
  return [None, None, None, _eigh_coupling_p.bind(
      a, v, w, ct, transpose=not transpose)]

# Degenerate perturbation theory, to second order. Within a degenerate
# cluster D the eigenvalue tangent is the whole block K_DD = V_D^H Ȧ V_D, not
# just its diagonal: Y solves M Y - Y M = -K with M the cluster-block-diagonal
# part of V^H A V, which is Λ at the primal point but whose tangent has the
# off-diagonal part N' = K_DD - diag(K_DD). Expanding to first order in
# N = M - Λ, Y = S⁺(K + N Y - Y N). N vanishes at the primal point, so this
# primitive's value N Y - Y N is zero and it costs nothing to first order;
# its tangent N' Y - Y N' makes second derivatives of losses that depend on
# whole degenerate eigenspaces (projectors) exact under perturbations that
# split a cluster. It is linear in y; its transpose is the same map with N
# transposed.
_eigh_coupling_p = core.Primitive("eigh_degenerate_coupling")
_eigh_coupling_p.def_impl(_eigh_coupling_impl)
_eigh_coupling_p.def_abstract_eval(_eigh_coupling_abstract_eval)
ad.primitive_jvps[_eigh_coupling_p] = _eigh_coupling_jvp_rule
ad.primitive_transposes[_eigh_coupling_p] = _eigh_coupling_transpose_rule
batching.primitive_batchers[_eigh_coupling_p] = partial(
    _batch_dims_at_front_rule, _eigh_coupling_p)
mlir.register_lowering(_eigh_coupling_p, mlir.lower_fun(
    _eigh_coupling_impl, multiple_results=False))


def _eigh_jvp_rule(
    primals, tangents, *, lower, sort_eigenvalues, subset_by_index, algorithm
):
  (a,) = primals
  n = a.shape[-1]
  if not (subset_by_index is None or subset_by_index == (0, n)):
    raise NotImplementedError(
        "Derivatives not defined for partial eigen decomposition."
    )
  # With A = V Λ V^H and K = V^H Ȧ V, first-order perturbation theory gives
  #   Λ̇ = Re diag(K),  V̇ = V Y,  Y_ij = K_ij / (λ_j - λ_i)  (i != j),
  # see https://people.maths.ox.ac.uk/gilesm/files/NA-08-01.pdf. Pairs that
  # _eigh_degenerate_mask treats as degenerate get Y_ij = 0 (the
  # pseudo-inverse), which is the derivative of V_D V_D^H, the projector onto
  # each degenerate eigenspace D, and of any loss that depends on the
  # eigenvectors only through such projectors, and the exact derivative for
  # perturbations that do not split a degenerate cluster (Kasim,
  # arXiv:2011.04366, eqs. 2.8 and 2.13-2.15; JAX issues #669 and #4646).
  # The rule is linear in Ȧ, so reverse mode is its transpose.
  a_dot, = tangents

  v, w_real = eigh_p.bind(
      symmetrize(a),
      lower=lower,
      sort_eigenvalues=sort_eigenvalues,
      subset_by_index=subset_by_index,
      algorithm=algorithm,
  )

  # for complex numbers we need eigenvalues to be full dtype of v, a:
  Fmat = _eigh_inverse_gaps(w_real).astype(a.dtype)
  # eigh impl doesn't support batch dims, but future-proof the grad.
  dot = partial(lax.dot if a.ndim == 2 else lax.batch_matmul,
                precision=lax.Precision.HIGHEST)
  vdag_adot_v = dot(dot(_H(v), a_dot), v)
  y = Fmat * vdag_adot_v
  y = y + Fmat * _eigh_coupling_p.bind(a, v, w_real, y, transpose=False)
  mode = config.linalg_gauge_check.value
  if mode != "ignore":
    y = _eigh_gauge_check_p.bind(w_real, y, mode=mode)
  dv = dot(v, y)
  dw = _extract_diagonal(vdag_adot_v.real)
  return (v, w_real), (dv, dw)


# Sylvester solve

def _sylvester_solve_abstract_eval(a, b, c, *, diagonal, quasi_triangular,
                                   broadening, **_):
  if quasi_triangular and (diagonal or broadening is not None or
                           dtypes.issubdtype(c.dtype, np.complexfloating)):
    raise ValueError(
        "sylvester_solve: quasi_triangular=True needs real a, b and c, "
        f"diagonal=False and broadening=None, got dtype {c.dtype}, "
        f"diagonal={diagonal} and broadening={broadening}.")
  rank = 1 if diagonal else 2
  for name, x in (("a", a), ("b", b)):
    if x.ndim < rank or (not diagonal and x.shape[-1] != x.shape[-2]):
      raise ValueError(
          f"sylvester_solve: argument {name} must have shape "
          f"{'[..., k]' if diagonal else '[..., k, k]'} "
          f"(diagonal={diagonal}), got shape {x.shape}.")
  if c.ndim < 2:
    raise ValueError(
        "sylvester_solve: argument c must have shape [..., m, n], got shape "
        f"{c.shape}.")
  m, n = a.shape[-1], b.shape[-1]
  if c.shape[-2:] != (m, n):
    raise ValueError(
        "sylvester_solve: argument c must have shape [..., m, n] = "
        f"[..., {m}, {n}] to match a with shape {a.shape} and b with shape "
        f"{b.shape}, got shape {c.shape}.")
  batch = c.shape[:-2]
  if a.shape[:a.ndim - rank] != batch or b.shape[:b.ndim - rank] != batch:
    raise ValueError(
        "sylvester_solve: arguments must have equal batch dimensions, got "
        f"a with shape {a.shape}, b with shape {b.shape} and c with shape "
        f"{c.shape}.")
  for name, x in (("a", a), ("b", b), ("c", c)):
    if not dtypes.issubdtype(x.dtype, np.inexact) or x.dtype != c.dtype:
      raise TypeError(
          "sylvester_solve: arguments must have the same floating-point or "
          f"complex dtype, got a: {a.dtype}, b: {b.dtype} and c: {c.dtype} "
          f"(argument {name}).")
  return c.update(shape=c.shape, dtype=c.dtype, weak_type=False)

def _sylvester_diagonals(a, b, diagonal):
  if diagonal:
    return a, b
  return _extract_diagonal(a), _extract_diagonal(b)

def _sylvester_inverse_pivots(a, b, *, diagonal, transpose, rtol, broadening,
                              quasi_triangular=False):
  # The reciprocals of the pivots d_ij = a_ii + b_jj, with zero for singular
  # pairs: |d_ij| <= rtol (max|A| + max|B|), where the maxima run over the
  # referenced triangles so that the tolerance scales with the coefficients.
  # The pivots of op(A) Y + Y op(B) do not depend on op; quasi_triangular
  # excludes broadening, the only caller of this with it set.
  del transpose, quasi_triangular
  da, db = _sylvester_diagonals(a, b, diagonal)
  d = da[..., :, None] + db[..., None, :]
  if broadening is not None:
    # Lorentzian broadening: 1/d -> conj(d) / (|d|^2 + broadening).
    d2 = (d * d.conj()).real
    return d.conj() / (d2 + broadening).astype(d.dtype)
  m, n = da.shape[-1], db.shape[-1]
  if rtol is None:
    rtol = max(m, n) * float(np.finfo(dtypes.to_inexact_dtype(d.dtype)).eps)
  if diagonal:
    scale_a, scale_b = abs(a), abs(b)
  else:
    scale_a, scale_b = abs(_triu(a)), abs(_triu(b))
  red = lambda x: lax.reduce_max(x, axes=tuple(range(d.ndim - 2, x.ndim)))
  tol = rtol * (red(scale_a) + red(scale_b))
  singular = abs(d) <= tol[..., None, None]
  one = lax.full_like(d, 1)
  return lax.select(singular, lax.full_like(d, 0),
                    one / lax.select(singular, one, d))

def _sylvester_solve_impl(a, b, c, *, diagonal, quasi_triangular, transpose,
                          rtol, broadening):
  if quasi_triangular:
    if transpose:
      return _T(_sylvester_quasi_solve(b, a, _T(c), rtol))
    return _sylvester_quasi_solve(a, b, c, rtol)
  inv = _sylvester_inverse_pivots(a, b, diagonal=diagonal, transpose=transpose,
                                  rtol=rtol, broadening=broadening)
  if diagonal:
    # A product, not a quotient: a singular component is 0 * c, so NaN in
    # c stays visible.
    return c * inv
  if transpose:
    # A^T Y + Y B^T = C  <=>  B Y^T + Y^T A = C^T.
    return _T(_sylvester_triangular_solve(b, a, _T(c), _T(inv)))
  return _sylvester_triangular_solve(a, b, c, inv)

def _sylvester_apply(a, b, y, *, diagonal, transpose, masks=None):
  # op(A) Y + Y op(B), reading only the referenced triangles of A and B, or
  # the entries that masks select (quasi-triangular coefficients). Either
  # coefficient may be a symbolic zero (a tangent); not both.
  dot = partial(lax.dot if y.ndim == 2 else lax.batch_matmul,
                precision=lax.Precision.HIGHEST)
  if masks is None:
    part_a, part_b = _triu, _triu
  else:
    part = lambda mask, x: lax.select(mask, x, lax.full_like(x, 0))
    part_a, part_b = partial(part, masks[0]), partial(part, masks[1])
  out = []
  if type(a) is not ad_util.Zero:
    if diagonal:
      out.append(a[..., :, None] * y)
    else:
      out.append(dot(_T(part_a(a)) if transpose else part_a(a), y))
  if type(b) is not ad_util.Zero:
    if diagonal:
      out.append(y * b[..., None, :])
    else:
      out.append(dot(y, _T(part_b(b)) if transpose else part_b(b)))
  return out[0] if len(out) == 1 else out[0] + out[1]

def _sylvester_pivot_tangent(a_dot, b_dot, y, diagonal):
  # ḋ_ij = ȧ_ii + ḃ_jj, the tangent of the pivots.
  da_dot, db_dot = (
      lax.full_like(y[..., :, 0] if i == 0 else y[..., 0, :], 0)
      if type(x) is ad_util.Zero else
      (x if diagonal else _extract_diagonal(x))
      for i, x in enumerate((a_dot, b_dot)))
  return da_dot[..., :, None] + db_dot[..., None, :]

def _sylvester_solve_jvp_rule(primals, tangents, **params):
  # With S(Y) = op(A) Y + Y op(B) and Y = S⁺(C), where S⁺ zeroes the singular
  # components, Ẏ = S⁺(Ċ - op(Ȧ) Y - Y op(Ḃ)): the singular set is locally
  # constant and Y vanishes on it, so this is exact. (For quasi-triangular
  # coefficients with singular pairs, the generalized solution is taken in
  # complex Schur bases that move with A and B, and the rule omits that
  # motion; it is exact for nonsingular equations.)
  #
  # With broadening, the substitution is y_k = g(d_k) r_k with
  # r = C - S_off(Y), S_off the strictly triangular part of S, and
  # g(d) = conj(d) / (|d|^2 + β), so ẏ_k = g(d_k) ṙ_k + ġ_k r_k with
  # ġ = -g^2 ḋ + β conj(ḋ) / (|d|^2 + β)^2 (g is not holomorphic). Writing
  # z = ġ ∘ r, Ẏ - z is the same substitution applied to
  # Ċ - Ṡ_off(Y) - S_off(z), which is finite also where g(d) = 0.
  a, b, c = primals
  a_dot, b_dot, c_dot = tangents
  diagonal, transpose = params["diagonal"], params["transpose"]
  broadening = params["broadening"]
  masks = ((_sylvester_quasi_mask(a), _sylvester_quasi_mask(b))
           if params["quasi_triangular"] else None)
  apply = partial(_sylvester_apply, diagonal=diagonal, transpose=transpose,
                  masks=masks)
  y = sylvester_solve_p.bind(a, b, c, **params)
  if type(a_dot) is ad_util.Zero and type(b_dot) is ad_util.Zero:
    rhs, z = c_dot, None
  elif broadening is None:
    rhs, z = ad.add_tangents(c_dot, -apply(a_dot, b_dot, y)), None
  else:
    da, db = _sylvester_diagonals(a, b, diagonal)
    d = da[..., :, None] + db[..., None, :]
    d_dot = _sylvester_pivot_tangent(a_dot, b_dot, y, diagonal)
    g = _sylvester_inverse_pivots(a, b, **params)
    d2 = (d * d.conj()).real.astype(d.dtype)
    g_dot = -g * g * d_dot + broadening * d_dot.conj() / (
        (d2 + broadening) * (d2 + broadening))
    if diagonal:  # S_off = 0 and r = C.
      return y, ad.add_tangents(
          g_dot * c, c_dot if type(c_dot) is ad_util.Zero else
          sylvester_solve_p.bind(a, b, c_dot, **params))
    z = g_dot * (c - apply(a, b, y) + d * y)
    rhs = ad.add_tangents(c_dot, d_dot * y - apply(a_dot, b_dot, y))
    rhs = rhs - (apply(a, b, z) - d * z)
  if type(rhs) is ad_util.Zero:
    return y, rhs
  y_dot = sylvester_solve_p.bind(a, b, rhs, **params)
  return y, y_dot if z is None else z + y_dot

def _sylvester_solve_transpose_rule(ct, a, b, c, *, transpose, **params):
  # The solve is linear in c. Its transpose solves the transposed equation
  # op(A)^T Z + Z op(B)^T = ct with the same pivots (and the same zeroed
  # singular components), analogous to triangular_solve's transpose rule.
  assert not ad.is_undefined_primal(a) and not ad.is_undefined_primal(b)
  assert ad.is_undefined_primal(c)
  if type(ct) is ad_util.Zero:
    return [None, None, ad_util.Zero(c.aval)]
  return [None, None,
          sylvester_solve_p.bind(a, b, ct, transpose=not transpose, **params)]

# The rank of a and b depends on the `diagonal` parameter, so this primitive
# has its own abstract evaluation rule instead of linalg_primitive's.
sylvester_solve_p = core.Primitive("sylvester_solve")
sylvester_solve_p.def_impl(partial(dispatch.apply_primitive, sylvester_solve_p))
sylvester_solve_p.def_abstract_eval(_sylvester_solve_abstract_eval)
ad.primitive_jvps[sylvester_solve_p] = _sylvester_solve_jvp_rule
ad.primitive_transposes[sylvester_solve_p] = _sylvester_solve_transpose_rule
batching.primitive_batchers[sylvester_solve_p] = partial(
    _batch_dims_at_front_rule, sylvester_solve_p)
mlir.register_lowering(sylvester_solve_p, mlir.lower_fun(
    _sylvester_solve_impl, multiple_results=False))
