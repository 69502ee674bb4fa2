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

import numpy as np

from jax._src import dtypes
from jax._src.lax import control_flow
from jax._src.lax import lax
from jax._src.lax.linalg import _tril, _triu, triangular_solve
from jax._src.lax import slicing
from jax._src.typing import Array


# Sylvester solve: triangular kernel

# Block sizes of the two-level wavefront below, outermost first. Each divides
# the one before it; the last is the size of the leaves solved by one
# triangular_solve on their Kronecker form. The outer blocks trade the number
# of sequential steps (about 2 n / s outer times 2 s / 4 inner ones, each with
# a fixed cost) against the size of the GEMM updates; on CPU, 16 is faster
# below n ~ 450 (20.1 vs 21.7 ms at n = 300, float64) and 32 above it (142
# vs 181 ms at n = 600).
_SYLVESTER_BLOCK_SIZES = (16, 4)
_SYLVESTER_LARGE_BLOCK_SIZES = (32, 4)
_SYLVESTER_LARGE = 448


def _sylvester_bmm(x: Array, y: Array) -> Array:
  """Matrix product batched over all (identical) leading dimensions."""
  batch = tuple(range(x.ndim - 2))
  dims = (((x.ndim - 1,), (y.ndim - 2,)), (batch, batch))
  dot = lambda x, y: lax.dot_general(x, y, dims,
                                     precision=lax.Precision.HIGHEST)
  if (not dtypes.issubdtype(x.dtype, np.complexfloating) or
      x.shape[-1] >= 32):
    return dot(x, y)
  # Three real products instead of one complex one (Gauss; the 3M method of
  # zgemm3m): with x = xr + i xi and y = yr + i yi,
  #   x y = (xr yr - xi yi) + i ((xr + xi)(yr + yi) - xr yr - xi yi).
  # The imaginary part's error is bounded by eps (|xr| + |xi|)(|yr| + |yi|)
  # instead of eps |x| |y|. XLA:CPU's batched complex products with short
  # contractions are several times slower than real ones: this makes the
  # complex128 kernel 1.5x faster at n = 300 (58 vs 90 ms). From a
  # contraction of 32 on, the complex product is the faster one (395 vs 469
  # ms at n = 600).
  xr, xi, yr, yi = lax.real(x), lax.imag(x), lax.real(y), lax.imag(y)
  t1, t2 = dot(xr, yr), dot(xi, yi)
  return lax.complex(t1 - t2, dot(xr + xi, yr + yi) - t1 - t2)


def _sylvester_swap(x: Array, i: int, j: int) -> Array:
  perm = list(range(x.ndim))
  perm[i], perm[j] = perm[j], perm[i]
  return lax.transpose(x, perm)


def _sylvester_flip_t(x: Array) -> Array:
  """J x^T J, with J the exchange matrix."""
  return lax.rev(_sylvester_swap(x, -1, -2), (x.ndim - 2, x.ndim - 1))


def _sylvester_block_diag(x: Array, s: int) -> Array:
  """[..., r*s, r*s] -> [..., r, s, s], the diagonal s x s blocks."""
  *batch, rs, _ = x.shape
  r = rs // s
  x = x.reshape(*batch, r, s, r, s)
  x = _sylvester_swap(x, -3, -2).reshape(*batch, r * r, s, s)
  return slicing.slice_in_dim(x, 0, r * r, stride=r + 1, axis=len(batch))


def _sylvester_kron_leaf(a: Array, b: Array, c: Array, inv_diag: Array
                         ) -> Array:
  """Leaf solve of a Y + Y b = c, all [..., s, s], by one triangular solve."""
  # Number the unknowns y[i, j] by (s-1-i, j) in row-major order. Then
  #   (a y + y b)[i, j] = sum_k a[i, k] y[k, j] + sum_l y[i, l] b[l, j]
  # is M vec(y) with M = kron(J a J, I) + kron(I, b^T), lower triangular.
  # Scaling row (i, j) by inv_diag[i, j] and putting ones on the diagonal
  # gives the substitution
  #   y[i,j] = inv[i,j] c[i,j] - sum_{k>i} inv[i,j] a[i,k] y[k,j]
  #                            - sum_{l<j} inv[i,j] y[i,l] b[l,j],
  # so inv_diag[i, j] == 0 zeroes y[i, j] with no special casing.
  *batch, s, _ = a.shape
  nb = len(batch)
  ar = _tril(lax.rev(a, (nb, nb + 1)), -1)
  bt = _tril(_sylvester_swap(b, -1, -2), -1)
  eye = lax._eye(a.dtype, (s, s))
  shape = (*batch, s, s, s, s)
  m = (lax.broadcast_in_dim(ar, shape, (*range(nb), nb, nb + 2)) *
       lax.broadcast_in_dim(eye, shape, (nb + 1, nb + 3)) +
       lax.broadcast_in_dim(eye, shape, (nb, nb + 2)) *
       lax.broadcast_in_dim(bt, shape, (*range(nb), nb + 1, nb + 3)))
  scale = lax.rev(inv_diag, (nb,)).reshape(*batch, s * s, 1)
  m = m.reshape(*batch, s * s, s * s) * scale
  rhs = lax.rev(c, (nb,)).reshape(*batch, s * s, 1) * scale
  y = triangular_solve(m, rhs, left_side=True, lower=True,
                       unit_diagonal=True)
  return lax.rev(y.reshape(*batch, s, s), (nb,))


def _sylvester_wavefront(a: Array, b: Array, c: Array, inv_diag: Array,
                         sizes: tuple[int, ...]) -> Array:
  """Solves a Y + Y b = c by anti-diagonal sweeps over sizes[0] blocks."""
  # a: [..., r*s, r*s] and b: [..., q*s, q*s] upper triangular with zeros
  # below the diagonal, r <= q. Block (K, L) of Y depends on the blocks below
  # it in column L and left of it in row K, so the r blocks
  #   (K, d - r + 1 + K), K = 0..r-1,
  # (the anti-diagonal d when rows are counted from the bottom) are
  # independent: one batched leaf solve per d, then eager level-3 updates
  #   C[:, L_K] -= A[:, K] Y_K,    C[K, :] -= Y_K B[L_K, :]
  # as in LAPACK trsyl3. Padding C and B with r-1 zero column blocks on each
  # side makes every window a dynamic_slice; padded slots have inv_diag = 0
  # and give 0. Updates that land on already-solved blocks are never read.
  if not sizes:
    return _sylvester_kron_leaf(a, b, c, inv_diag)
  s, *inner = sizes
  *batch, m, n = c.shape
  nb = len(batch)
  r, q = m // s, n // s
  if r == 1 and q == 1:
    return _sylvester_wavefront(a, b, c, inv_diag, tuple(inner))
  p = (r - 1) * s
  zero = lax._zero(c)
  pad_cols = [(0, 0, 0)] * (nb + 1) + [(p, p, 0)]
  cp = lax.pad(c, zero, pad_cols)
  ip = lax.pad(inv_diag, zero, pad_cols)
  bp = lax.pad(b, zero, [(0, 0, 0)] * nb + [(p, p, 0), (0, 0, 0)])
  a_diag = _sylvester_block_diag(a, s)
  b_diag = lax.pad(_sylvester_block_diag(b, s), zero,
                   [(0, 0, 0)] * nb + [(r - 1, r - 1, 0)] + [(0, 0, 0)] * 2)
  # Column panels of a as [..., r, m, s].
  a_cols = lax.transpose(a.reshape(*batch, m, r, s),
                         (*range(nb), nb + 1, nb, nb + 2))
  num_d = r + q - 1

  def body(d, carry):
    cp, ys = carry
    cw = slicing.dynamic_slice_in_dim(cp, d * s, r * s, axis=nb + 1)
    iw = slicing.dynamic_slice_in_dim(ip, d * s, r * s, axis=nb + 1)
    bw = slicing.dynamic_slice_in_dim(bp, d * s, r * s, axis=nb)
    bd = slicing.dynamic_slice_in_dim(b_diag, d, r, axis=nb)
    y = _sylvester_wavefront(a_diag, bd, _sylvester_block_diag(cw, s),
                             _sylvester_block_diag(iw, s), tuple(inner))
    # C[:, L_K] -= A[:, K] Y_K for the window of column blocks L_K = d - r+1+K.
    upd = _sylvester_bmm(a_cols, y)
    upd = lax.transpose(upd, (*range(nb), nb + 1, nb, nb + 2))
    cw = cw - upd.reshape(*batch, m, r * s)
    cp = slicing.dynamic_update_slice_in_dim(cp, cw, d * s, axis=nb + 1)
    # C[K, :] -= Y_K B[L_K, :] on the unpadded columns.
    upd = _sylvester_bmm(y, bw.reshape(*batch, r, s, n)).reshape(*batch, m, n)
    cc = slicing.slice_in_dim(cp, p, p + n, axis=nb + 1) - upd
    cp = slicing.dynamic_update_slice_in_dim(cp, cc, p, axis=nb + 1)
    ys = slicing.dynamic_update_index_in_dim(ys, y, d, axis=nb)
    return cp, ys

  ys = lax.full((*batch, num_d, r, s, s), 0, c.dtype)
  _, ys = control_flow.fori_loop(0, num_d, body, (cp, ys))
  # Unskew: Y[K, L] = ys[L + r - 1 - K, K]. With K' = r - 1 - K and x[K', d]
  # the flat index of x[K', K' + L] is K' (num_d + 1) + L.
  x = lax.rev(lax.transpose(ys, (*range(nb), nb + 1, nb, nb + 2, nb + 3)),
              (nb,))
  x = x.reshape(*batch, r * num_d, s, s)
  x = lax.pad(x, zero, [(0, 0, 0)] * nb + [(0, r, 0), (0, 0, 0), (0, 0, 0)])
  x = x.reshape(*batch, r, num_d + 1, s, s)
  x = lax.rev(slicing.slice_in_dim(x, 0, q, axis=nb + 1), (nb,))
  x = lax.transpose(x, (*range(nb), nb, nb + 2, nb + 1, nb + 3))
  return x.reshape(*batch, m, n)


def _sylvester_triangular_solve(a: Array, b: Array, c: Array,
                                inv_diag: Array) -> Array:
  """Y with a Y + Y b = c, a and b upper triangular, pivots given inverted."""
  # Computes exactly the substitution
  #   y[i,j] = inv_diag[i,j] (c[i,j] - sum_{k>i} a[i,k] y[k,j]
  #                                  - sum_{k<j} y[i,k] b[k,j]),
  # ignoring a and b below the diagonal, with level-3 blocking: a two-level
  # wavefront over _SYLVESTER_BLOCK_SIZES blocks (see _sylvester_wavefront)
  # with leaves solved by triangular_solve. Jonsson & Kagstrom, "Recursive
  # blocked algorithms for solving triangular systems", ACM TOMS 28 (2002);
  # LAPACK trsyl3.
  *batch, m, n = c.shape
  nb = len(batch)
  if m == 0 or n == 0:
    return c
  if m > n:
    # Y' = J Y^T J solves (J b^T J) Y' + Y' (J a^T J) = J c^T J, with upper
    # triangular coefficients and the same substitution; the wavefront wants
    # fewer row blocks than column blocks.
    return _sylvester_flip_t(_sylvester_triangular_solve(
        _sylvester_flip_t(b), _sylvester_flip_t(a), _sylvester_flip_t(c),
        _sylvester_flip_t(inv_diag)))
  sizes = (_SYLVESTER_LARGE_BLOCK_SIZES if n > _SYLVESTER_LARGE else
           _SYLVESTER_BLOCK_SIZES)
  while len(sizes) > 1 and sizes[0] >= 2 * n:
    sizes = sizes[1:]
  # Pad to whole blocks at the bottom and right: zero coefficients and
  # inv_diag = 0 decouple the padding, whose unknowns come out 0.
  pm, pn = -m % sizes[0], -n % sizes[0]
  zero = lax._zero(c)
  batch_pad = [(0, 0, 0)] * nb
  a = lax.pad(_triu(a), zero, [*batch_pad, (0, pm, 0), (0, pm, 0)])
  b = lax.pad(_triu(b), zero, [*batch_pad, (0, pn, 0), (0, pn, 0)])
  c = lax.pad(c, zero, [*batch_pad, (0, pm, 0), (0, pn, 0)])
  inv_diag = lax.pad(inv_diag, zero, [*batch_pad, (0, pm, 0), (0, pn, 0)])
  y = _sylvester_wavefront(a, b, c, inv_diag, sizes)
  return slicing.slice(y, (0,) * (nb + 2), (*batch, m, n))


def _sylvester_diag(x: Array, offset: int) -> Array:
  """[..., n, n] -> [..., n - |offset|], the diagonal x[i, i + offset]."""
  *batch, n, _ = x.shape
  nb = len(batch)
  mask = (lax.broadcasted_iota('int32', x.shape, nb) + offset ==
          lax.broadcasted_iota('int32', x.shape, nb + 1))
  d = lax.reduce_sum(lax.select(mask, x, lax.full_like(x, 0)), (nb + 1,))
  return (slicing.slice_in_dim(d, 0, n - offset, axis=nb) if offset >= 0 else
          slicing.slice_in_dim(d, -offset, n, axis=nb))


def _sylvester_tridiag_apply(x: Array, lo: Array, dg: Array, up: Array,
                             axis: int) -> Array:
  """Q x along axis (-2: rows) with Q tridiagonal given by its diagonals."""
  # (Q x)[i] = lo[i-1] x[i-1] + dg[i] x[i] + up[i] x[i+1], lo and up of
  # length n - 1; along axis -1 the same with x[..., i] in place of x[i].
  nb = x.ndim - 2
  ax = x.ndim + axis
  n = x.shape[ax]
  zero = lax._zero(x)
  no_pad = [(0, 0, 0)] * x.ndim
  def shifted(v, lo_pad, hi_pad):
    v = lax.pad(v, zero, [(0, 0, 0)] * nb + [(lo_pad, hi_pad, 0)])
    return lax.expand_dims(v, (nb + 1,) if axis == -2 else (nb,))
  def shift_x(lo_pad, hi_pad, start, stop):
    pads = list(no_pad)
    pads[ax] = (lo_pad, hi_pad, 0)
    return lax.pad(slicing.slice_in_dim(x, start, stop, axis=ax), zero, pads)
  return (shifted(dg, 0, 0) * x +
          shifted(lo, 1, 0) * shift_x(1, 0, 0, n - 1) +
          shifted(up, 0, 1) * shift_x(0, 1, 1, n))


def _real_schur_to_complex(t: Array, z: Array) -> tuple[Array, Array]:
  """Complex Schur pair (t_c, z_c) from a real one, z t z^T = z_c t_c z_c^H."""
  # As scipy.linalg.rsf2csf: for each 2 x 2 bump [[a, b], [c, d]] at rows
  # (k, k+1) of the quasi-triangular t, with eigenvalue lam and
  #   mu = lam - d,  rho = hypot(|mu|, c),  G = [[conj(mu), c], [-c, mu]] / rho,
  # the unitary G zeroes the bump: t <- G t G^H, z <- z G^H. Bumps never touch
  # (the real Schur form has no adjacent ones), so the rotations act on
  # disjoint pairs of rows and columns, commute, and each sees its bump as in
  # the input. They are therefore all applied at once as one block diagonal
  # Q with 2 x 2 blocks G: t_c = Q t Q^H, z_c = z Q^H, in O(n^2) with no loop
  # (a fori_loop over the bumps, as jax.scipy.linalg.rsf2csf does, makes XLA
  # copy t on every step).
  *batch, n, _ = t.shape
  nb = len(batch)
  dtype = dtypes.to_complex_dtype(t.dtype)
  t = lax.convert_element_type(t, dtype)
  z = lax.convert_element_type(z, dtype)
  if n < 2:
    return t, z
  eps = dtypes.finfo(dtype).eps
  diag = _sylvester_diag(t, 0)
  a = slicing.slice_in_dim(diag, 0, n - 1, axis=nb)
  d = slicing.slice_in_dim(diag, 1, n, axis=nb)
  b, c = _sylvester_diag(t, 1), _sylvester_diag(t, -1)
  # lam = (a + d) / 2 + sqrt(((a - d) / 2)^2 + b c), so mu = lam - d is
  half = (a - d) / 2
  mu = half + lax.sqrt(half * half + b * c)
  rho = lax.sqrt(lax.real(mu * lax.conj(mu)) + lax.real(c * lax.conj(c)))
  bump = lax.abs(c) > eps * (lax.abs(a) + lax.abs(d))
  # Guard against adjacent flags, which a real Schur form does not have.
  after = lax.pad(bump, False, [(0, 0, 0)] * nb + [(1, 0, 0)])
  bump = bump & ~slicing.slice_in_dim(after, 0, n - 1, axis=nb)
  rho = lax.convert_element_type(rho, dtype)
  cs = lax.select(bump, mu / rho, lax.full_like(mu, 1))
  sn = lax.select(bump, c / rho, lax.full_like(mu, 0))
  # Diagonal of Q: conj(cs_k) at k and cs_k at k + 1 for each bump k.
  one = lax.full((*batch, 1), 1, dtype)
  dg = (lax.concatenate([lax.conj(cs), one], nb) *
        lax.concatenate([one, cs], nb))
  # t <- Q t on the rows, then t <- t Q^H and z <- z Q^H on the columns:
  # (x Q^H)[:, j] = sum_l x[:, l] conj(Q[j, l]).
  t = _sylvester_tridiag_apply(t, -sn, dg, sn, axis=-2)
  lo, dg, up = lax.conj(-sn), lax.conj(dg), lax.conj(sn)
  t = _sylvester_tridiag_apply(t, lo, dg, up, axis=-1)
  z = _sylvester_tridiag_apply(z, lo, dg, up, axis=-1)
  # The bumps are zero up to rounding; make t_c exactly upper triangular.
  return _triu(t), z
