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

"""Tests for the generalized Hermitian eigenproblem, jax.scipy.linalg.eigh."""

from functools import partial

from absl.testing import absltest
import numpy as np
import scipy.linalg as osp_linalg

import jax
from jax import numpy as jnp
from jax.scipy import linalg as jsp_linalg
from jax._src import config
from jax._src import test_util as jtu

config.parse_flags_with_absl()
jtu.request_cpu_devices(4)

float_types = jtu.dtypes.floating
complex_types = jtu.dtypes.complex


def _batch_sharded(fun, args):
  """jit(fun) compiled with args split along their batch axis on 4 devices,
  with in_shardings on a mesh of Auto axes. Returns the output shardings,
  the compiled HLO text and the sharding of the inputs."""
  mesh = jax.make_mesh((4,), ("batch",),
                       axis_types=(jax.sharding.AxisType.Auto,))
  sharding = jax.sharding.NamedSharding(
      mesh, jax.sharding.PartitionSpec("batch"))
  args = [jax.device_put(x, sharding) for x in args]
  compiled = jax.jit(fun, in_shardings=sharding).lower(*args).compile()
  return compiled.output_shardings, compiled.as_text(), sharding


_COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter",
                "collective-permute", "all-to-all")


def _H(x):
  return np.conj(np.swapaxes(x, -1, -2))


def _random_hermitian(rng, shape, dtype):
  x = rng.randn(*shape)
  if np.issubdtype(dtype, np.complexfloating):
    x = x + 1j * rng.randn(*shape)
  return ((x + _H(x)) / 2).astype(dtype)


def _random_pd(rng, shape, dtype):
  # Eigenvalues in [1, 1 + n / 4]: condition number below about 1 + n / 4.
  x = _random_hermitian(rng, shape, dtype)
  n = shape[-1]
  return (x @ _H(x) / (4 * n) + np.eye(n)).astype(dtype)


def _methane(dtype=np.float64):
  """An extended-Hueckel model of methane, CH4: H C = S C diag(e).

  A minimal basis, C 2s and 2p and four H 1s at the corners of a
  tetrahedron; overlaps S of the size of real ones (condition number 15);
  Wolfsberg-Helmholz H_ij = 1.75 (H_ii + H_jj) / 2 S_ij with valence
  ionization energies (eV). The tetrahedral symmetry makes the bonding and
  antibonding t2 levels exactly threefold degenerate:
  -24.83, -15.14 (x3), 3.54 (x3), 55.58. A complex dtype gets complex
  orbital phases, H -> D H D^H and S -> D S D^H, D diagonal unitary.
  """
  u = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
  u = u / np.sqrt(3)
  s = np.eye(8)
  s[0, 4:] = s[4:, 0] = 0.55
  s[1:4, 4:] = 0.45 * u.T
  s[4:, 1:4] = 0.45 * u
  s[4:, 4:] += 0.2 * (np.ones((4, 4)) - np.eye(4))
  h_ii = np.array([-21.4, -11.4, -11.4, -11.4, -13.6, -13.6, -13.6, -13.6])
  h = 1.75 * (h_ii[:, None] + h_ii[None, :]) / 2 * s
  np.fill_diagonal(h, h_ii)
  if np.issubdtype(dtype, np.complexfloating):
    d = np.exp(1j * np.linspace(0.3, 2.9, 8))
    h = d[:, None] * h * d.conj()[None, :]
    s = d[:, None] * s * d.conj()[None, :]
  return h.astype(dtype), s.astype(dtype)


def _degenerate_random(rng, dtype, type=1, n=6):
  """A random b and an a whose eigenvalues are (1, 1, 1, 2, 3, 3)."""
  b = _random_pd(rng, (n, n), dtype)
  q, _ = np.linalg.qr(_random_hermitian(rng, (n, n), dtype) + 3 * np.eye(n))
  x = (q * np.array([1., 1., 1., 2., 3., 3.])) @ _H(q)
  # b = L L^H. Type 1 reduces to L^-1 a L^-H, types 2 and 3 to L^H a L.
  l = np.linalg.cholesky(b)
  if type == 1:
    a = l @ x @ _H(l)
  else:
    l_inv = np.linalg.inv(l)
    a = _H(l_inv) @ x @ l_inv
  return ((a + _H(a)) / 2).astype(dtype), b


def _problem(name, dtype, rng, type=1):
  if name == "methane":
    return _methane(dtype)
  if name == "degenerate":
    return _degenerate_random(rng, dtype, type)
  assert name == "random"
  return (_random_hermitian(rng, (6, 6), dtype),
          _random_pd(rng, (6, 6), dtype))


def _clusters(w, tol=1e-6):
  """Cluster labels of sorted eigenvalues: equal where they are degenerate."""
  return np.concatenate([[0], np.cumsum(np.diff(w) > tol * np.ptp(w))])


def _occupied(w):
  """The number of lowest eigenvalues closest to half that splits no cluster."""
  labels = _clusters(w)
  bounds = [k for k in range(1, len(w)) if labels[k] != labels[k - 1]]
  return min(bounds, key=lambda k: abs(k - len(w) / 2))


def _column_projectors(v):
  """v_i v_i^H for each column i: the eigenvectors up to their phase."""
  return v[..., :, None, :] * np.conj(v[..., None, :, :])


def _observables(v, w, f, k, xp=np):
  """Gauge-invariant functions of a generalized eigendecomposition, flattened.

  The density matrix V_k V_k^H of the k lowest (whole levels), the matrix
  function V diag(f) V^H with weights f constant on levels, and the sum of
  the k lowest eigenvalues, weighted by f.
  """
  vk = v[:, :k]
  density = vk @ xp.conj(vk.T)
  weighted = (v * f.astype(v.dtype)[None, :]) @ xp.conj(v.T)
  level_sum = xp.sum(f[:k].astype(w.dtype) * w[:k])
  return xp.concatenate([xp.ravel(density), xp.ravel(weighted),
                         xp.reshape(level_sum, (1,)).astype(v.dtype)])


def _scipy_observables(a, b, type, f, k):
  w, v = osp_linalg.eigh(a, b, type=type)
  return _observables(v, w, f, k)


def _central_difference(f, x, dx, h):
  # Richardson-extrapolated central difference: error O(h^4) + O(eps / h).
  d = lambda h: (f(x + h * dx) - f(x - h * dx)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


class EighGeneralizedTest(jtu.JaxTestCase):

  def _tol(self, dtype, cond=1.):
    # The reduction is backward stable: eigenvalues and projectors of
    # well-separated eigenvalues carry errors of about n eps cond(b) in
    # units of |w|; with n <= 8 and cond(b) <= 15, 1e3 eps with room.
    eps = np.finfo(dtype).eps
    return 1e3 * eps * cond

  @jtu.sample_product(
      shape=[(1, 1), (5, 5), (2, 4, 4)],
      dtype=float_types + complex_types,
      type=[1, 2, 3],
  )
  def testValuesAgainstScipy(self, shape, dtype, type):
    rng = self.rng()
    a = _random_hermitian(rng, shape, dtype)
    b = _random_pd(rng, shape, dtype)
    w, v = jsp_linalg.eigh(a, b, type=type)
    self.assertEqual(w.dtype, np.finfo(dtype).dtype)
    self.assertEqual(v.dtype, dtype)
    self.assertEqual(w.shape, shape[:-1])
    self.assertEqual(v.shape, shape)
    expected = [osp_linalg.eigh(x, y, type=type)
                for x, y in zip(a.reshape((-1,) + shape[-2:]),
                                b.reshape((-1,) + shape[-2:]))]
    w_expected = np.stack([e[0] for e in expected]).reshape(w.shape)
    v_expected = np.stack([e[1] for e in expected]).reshape(v.shape)
    tol = self._tol(dtype, cond=10)
    scale = np.max(np.abs(w_expected))
    self.assertAllClose(w, w_expected, atol=tol * scale, rtol=tol)
    # Random problems have distinct eigenvalues: each eigenvector is fixed
    # up to its phase, which its projector v_i v_i^H does not see.
    self.assertAllClose(_column_projectors(np.asarray(v)),
                        _column_projectors(v_expected), atol=tol, rtol=tol)
    # SciPy's normalization: v^H b v = I (types 1, 2), v^H b^-1 v = I (3).
    metric = b if type != 3 else np.linalg.inv(b)
    gram = _H(np.asarray(v)) @ metric @ np.asarray(v)
    self.assertAllClose(gram, np.broadcast_to(np.eye(shape[-1]), gram.shape),
                        atol=tol, rtol=tol, check_dtypes=False)

  @jtu.sample_product(dtype=float_types + complex_types, type=[1, 2, 3])
  def testMethaneDegenerateLevels(self, dtype, type):
    # Threefold degenerate levels: eigenvalues against SciPy; eigenvectors
    # through the projector onto each degenerate level, which, unlike the
    # vectors, does not depend on the basis eigh picks within the level.
    h, s = _methane(dtype)
    w, v = jsp_linalg.eigh(h, s, type=type)
    w_expected, v_expected = osp_linalg.eigh(h, s, type=type)
    tol = self._tol(dtype, cond=15)
    self.assertAllClose(w, w_expected, atol=tol * np.max(np.abs(w_expected)),
                        rtol=tol)
    labels = _clusters(w_expected)
    if type == 1:
      self.assertEqual(np.bincount(labels).tolist(), [1, 3, 3, 1])
    for label in np.unique(labels):
      idx = labels == label
      p = np.asarray(v)[:, idx] @ _H(np.asarray(v)[:, idx])
      p_expected = v_expected[:, idx] @ _H(v_expected[:, idx])
      self.assertAllClose(p, p_expected, atol=tol, rtol=tol,
                          check_dtypes=False)

  @jtu.sample_product(dtype=float_types + complex_types)
  def testSubsetByIndexAndEigvalsOnly(self, dtype):
    rng = self.rng()
    a = _random_hermitian(rng, (6, 6), dtype)
    b = _random_pd(rng, (6, 6), dtype)
    tol = self._tol(dtype, cond=10)
    for type in (1, 2, 3):
      w_all, v_all = jsp_linalg.eigh(a, b, type=type)
      for lo, hi in [(0, 0), (1, 4), (5, 5), (0, 5)]:
        w, v = jsp_linalg.eigh(a, b, type=type, subset_by_index=(lo, hi))
        w_expected, v_expected = osp_linalg.eigh(
            a, b, type=type, subset_by_index=[lo, hi])
        self.assertEqual(w.shape, (hi - lo + 1,))
        self.assertEqual(v.shape, (6, hi - lo + 1))
        self.assertAllClose(w, w_expected, atol=tol * np.max(np.abs(w_all)),
                            rtol=tol)
        self.assertAllClose(_column_projectors(np.asarray(v)),
                            _column_projectors(v_expected), atol=tol,
                            rtol=tol)
        self.assertArraysEqual(w, w_all[lo:hi + 1])
        self.assertArraysEqual(v, v_all[:, lo:hi + 1])
        w_only = jsp_linalg.eigh(a, b, type=type, eigvals_only=True,
                                 subset_by_index=(lo, hi))
        self.assertAllClose(w_only, w, atol=tol * np.max(np.abs(w_all)),
                            rtol=tol)
    # Positional eigvals_only, as in stock JAX's signature.
    self.assertAllClose(jsp_linalg.eigh(a, b, True, True),
                        osp_linalg.eigh(a, b, eigvals_only=True),
                        atol=tol * np.max(np.abs(w_all)), rtol=tol,
                        check_dtypes=False)

  @jtu.sample_product(dtype=float_types + complex_types)
  def testWithoutBUnchanged(self, dtype):
    # b=None is jax.lax.linalg.eigh, as before; every type is that problem.
    rng = self.rng()
    a = _random_hermitian(rng, (2, 5, 5), dtype)
    v_lax, w_lax = jax.lax.linalg.eigh(a)
    for type in (1, 2, 3):
      w, v = jsp_linalg.eigh(a, type=type)
      self.assertArraysEqual(w, w_lax)
      self.assertArraysEqual(v, v_lax)
    self.assertArraysEqual(jsp_linalg.eigh(a, eigvals_only=True), w_lax)
    self.assertArraysEqual(jsp_linalg.eigh(a, subset_by_index=(1, 3))[1],
                           v_lax[..., 1:4])

  @jtu.sample_product(dtype=float_types + complex_types, type=[1, 2, 3])
  def testJitAndBroadcasting(self, dtype, type):
    rng = self.rng()
    args_maker = lambda: [_random_hermitian(rng, (3, 5, 5), dtype),
                          _random_pd(rng, (5, 5), dtype)]
    f = partial(jsp_linalg.eigh, type=type, eigvals_only=True)
    tol = self._tol(dtype, cond=10) * 10  # |w| is at most about 10 here.
    self._CompileAndCheck(f, args_maker, atol=tol, rtol=tol)
    a, b = args_maker()
    self.assertAllClose(f(a, b), np.stack([f(x, b) for x in a]), atol=tol,
                        rtol=tol)
    self.assertAllClose(f(a, b), jax.vmap(f, (0, None))(a, b), atol=tol,
                        rtol=tol)

  @jtu.sample_product(dtype=float_types + complex_types, jit=[False, True])
  def testNotPositiveDefiniteIsNan(self, dtype, jit):
    # SciPy raises LinAlgError; jax.scipy.linalg.eigh returns NaN, as
    # jax.scipy.linalg.cholesky does, for the failing batch members only.
    rng = self.rng()
    a = _random_hermitian(rng, (2, 4, 4), dtype)
    b = np.stack([_random_pd(rng, (4, 4), dtype),
                  np.diag([1., -1., 2., 3.]).astype(dtype)])
    with self.assertRaises(np.linalg.LinAlgError):
      osp_linalg.eigh(a[1], b[1])
    for type in (1, 2, 3):
      f = partial(jsp_linalg.eigh, type=type)
      w, v = (jax.jit(f) if jit else f)(a, b)
      self.assertTrue(np.all(np.isfinite(w[0])))
      self.assertTrue(np.all(np.isfinite(v[0])))
      self.assertTrue(np.all(np.isnan(w[1])))
      self.assertTrue(np.all(np.isnan(v[1])))

  def testBadInputs(self):
    a, b = jnp.eye(3), 2 * jnp.eye(3)
    for f in (jsp_linalg.eigh, jax.jit(jsp_linalg.eigh)):
      with self.assertRaisesRegex(ValueError, r"argument a .* shape \(3, 4\)"):
        f(jnp.ones((3, 4)), b)
      with self.assertRaisesRegex(ValueError, r"argument a .* shape \(3,\)"):
        f(jnp.ones(3))
      with self.assertRaisesRegex(ValueError,
                                  r"argument b .* shape \(2, 3, 4\)"):
        f(a, jnp.ones((2, 3, 4)))
      with self.assertRaisesRegex(ValueError,
                                  r"a with shape \(3, 3\) and b with shape "
                                  r"\(4, 4\)"):
        f(a, jnp.eye(4))
      with self.assertRaisesRegex(ValueError,
                                  r"a with shape \(2, 3, 3\) and b with "
                                  r"shape \(4, 3, 3\)"):
        f(jnp.ones((2, 3, 3)), jnp.ones((4, 3, 3)))
    with self.assertRaisesRegex(ValueError, "type must be 1, 2 or 3, got "
                                "type=4"):
      jsp_linalg.eigh(a, b, type=4)
    with self.assertRaisesRegex(ValueError, "type must be 1, 2 or 3"):
      jsp_linalg.eigh(a, type=0)
    for subset in [(2, 1), (-1, 1), (0, 3), (1, 5)]:
      with self.assertRaisesRegex(ValueError,
                                  r"0 <= lo <= hi < n = 3, got "
                                  rf"subset_by_index=\({subset[0]}, "):
        jsp_linalg.eigh(a, b, subset_by_index=subset)
    for subset in [(0,), (0, 1, 2), (0.5, 1), "ab"]:
      with self.assertRaisesRegex(ValueError, "pair of integers"):
        jsp_linalg.eigh(a, b, subset_by_index=subset)
    with self.assertRaisesRegex(NotImplementedError, "subset_by_index"):
      jsp_linalg.eigh(a, b, eigvals=(0, 1))


def _derivative_case(name, dtype, type, rng):
  a, b = _problem(name, dtype, rng, type)
  w = osp_linalg.eigh(a, b, type=type, eigvals_only=True)
  labels = _clusters(w)
  f = (1. + labels).astype(np.finfo(dtype).dtype)
  da = _random_hermitian(rng, a.shape, dtype)
  db = 0.1 * _random_hermitian(rng, b.shape, dtype)
  # Central-difference step: small against the gaps between levels, which
  # set the scale on which the observables vary.
  gap = np.min(np.diff(w)[np.diff(labels) > 0])
  return a, b, f, _occupied(w), da, db, 1e-3 * min(1., gap)


def _jax_observables(type, f, k):
  def observables(a, b):
    w, v = jsp_linalg.eigh(a, b, type=type)
    return _observables(v, w, f, k, xp=jnp)
  return observables


class EighGeneralizedDerivativeTest(jtu.JaxTestCase):

  def _tol(self, dtype):
    # Against float64 central differences of SciPy's eigh, with a step of
    # 1e-3 times the smallest gap between levels (>= 0.1 here) and one
    # Richardson step: error about 1e-11 in units of the observables.
    # Derivatives of these gauge-invariant observables are exact at and near
    # degeneracy (issue #669), up to rounding amplified by cond(b) (<= 15)
    # and max|w| / gap (<= 100): 1e-9 in float64; in float32, 1e3 eps
    # (measured: at most 1.5e-5 on these problems).
    return max(1e-9, 1e3 * np.finfo(dtype).eps)

  @jtu.sample_product(
      name=["methane", "degenerate", "random"],
      dtype=float_types + complex_types,
      type=[1, 2, 3],
      jit=[False, True],
  )
  def testFirstOrderAgainstCentralDifferences(self, name, dtype, type, jit):
    rng = self.rng()
    a, b, f, k, da, db, h = _derivative_case(name, dtype, type, rng)
    wide = np.complex128 if np.iscomplexobj(a) else np.float64
    expected = _central_difference(
        lambda x: _scipy_observables(x[0], x[1], type, f.astype(np.float64),
                                     k),
        np.stack([a, b]).astype(wide), np.stack([da, db]).astype(wide), h)
    observables = _jax_observables(type, f, k)
    jvp = lambda a, b, da, db: jax.jvp(observables, (a, b), (da, db))[1]
    if jit:
      jvp = jax.jit(jvp)
    tol = self._tol(dtype)
    scale = np.max(np.abs(expected))
    self.assertAllClose(jvp(a, b, da, db), expected, atol=tol * scale,
                        rtol=tol, check_dtypes=False)
    # Reverse mode: <ct, J (da, db)> = <J^T ct, (da, db)>, with JAX's real
    # pairing <x, y> = Re sum(x * y) (cotangents are not conjugated).
    ct = _random_hermitian(rng, (len(expected),) * 2, dtype)[0]
    _, vjp = jax.vjp(observables, a, b)
    if jit:
      vjp = jax.jit(vjp)
    ga, gb = vjp(ct)
    pair = lambda x, y: np.real(np.sum(np.asarray(x, wide) * y))
    self.assertAllClose(pair(ga, da) + pair(gb, db), pair(ct, expected),
                        atol=tol * scale * np.sum(np.abs(ct)), rtol=tol,
                        check_dtypes=False)

  @jtu.sample_product(
      name=["degenerate", "random"],
      dtype=[np.float64, np.complex128],
      type=[1, 2, 3],
  )
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testCheckGrads(self, name, dtype, type):
    # Density matrices of whole levels, weighted level sums and cluster
    # eigenvalue sums are smooth also at the threefold level (1, 1, 1) of
    # the degenerate problem. check_grads compares scalar projections with
    # plain central differences; a step of 1e-5 keeps their truncation error
    # (1e-10 times the third derivative) and rounding (1e-11) below its
    # 1e-5 tolerance. (Methane's overlap, with eigenvalues down to 0.16 and
    # |w| up to 56, needs the Richardson differences of the tests above.)
    a, b, f, k, _, _, _ = _derivative_case(name, dtype, type, self.rng())
    jtu.check_grads(_jax_observables(type, f, k), (a, b), order=2,
                    modes=["fwd", "rev"], eps=1e-5)

  @jtu.sample_product(dtype=float_types + complex_types)
  def testBatchMixingDegenerateAndGeneric(self, dtype):
    # One call on a batch holding methane, a random degenerate and a random
    # generic problem agrees with per-problem calls and with vmap, also for
    # gradients and second derivatives.
    rng = self.rng()
    problems = [_problem(name, dtype, rng)
                for name in ("methane", "degenerate", "random")]
    # Pad the 6 x 6 problems to 8 x 8 with decoupled levels 100 (a) over 1
    # (b), above every other eigenvalue: the 4 lowest are unchanged, and are
    # whole levels in each problem.
    def pad(x, value):
      out = value * np.eye(8, dtype=x.dtype)
      out[:len(x), :len(x)] = x
      return out
    a = np.stack([pad(x, 100.) for x, _ in problems])
    b = np.stack([pad(y, 1.) for _, y in problems])
    for x, y in zip(a, b):
      labels = _clusters(osp_linalg.eigh(x, y, eigvals_only=True))
      self.assertNotEqual(labels[3], labels[4])
    def loss(a, b):
      w, v = jsp_linalg.eigh(a, b)
      vk = v[..., :4]
      density = vk @ jnp.conj(jnp.swapaxes(vk, -1, -2))
      return jnp.sum(w[..., :4]) + jnp.real(jnp.sum(density * a))
    tol = 1e3 * np.finfo(dtype).eps * 100  # |w| and |a| up to 100.
    batched = jax.jit(jax.grad(loss, (0, 1)))(a, b)
    vmapped = jax.jit(jax.vmap(jax.grad(loss, (0, 1))))(a, b)
    single = [jax.grad(loss, (0, 1))(x, y) for x, y in zip(a, b)]
    for i in range(2):
      self.assertAllClose(batched[i], vmapped[i], atol=tol, rtol=tol)
      self.assertAllClose(batched[i], np.stack([s[i] for s in single]),
                          atol=tol, rtol=tol)
      self.assertTrue(np.all(np.isfinite(batched[i])))
    da = _random_hermitian(rng, a.shape, dtype)
    hvp = lambda a, b, da: jax.jvp(
        lambda a: jax.grad(loss)(a, b), (a,), (da,))[1]
    self.assertAllClose(jax.jit(hvp)(a, b, da),
                        jax.jit(jax.vmap(hvp))(a, b, da), atol=tol, rtol=tol)

  @jtu.sample_product(dtype=float_types + complex_types)
  def testSubsetDerivatives(self, dtype):
    # A subset is a slice of the full decomposition, and so are its
    # derivatives.
    rng = self.rng()
    a, b = _degenerate_random(rng, dtype)
    sub = lambda a, b: jnp.sum(jsp_linalg.eigh(
        a, b, subset_by_index=(0, 2), eigvals_only=True))
    full = lambda a, b: jnp.sum(jsp_linalg.eigh(a, b)[0][:3])
    tol = 1e4 * np.finfo(dtype).eps  # |w| <= 3, cond(b) <= 2.5.
    self.assertAllClose(jax.grad(sub, (0, 1))(a, b),
                        jax.grad(full, (0, 1))(a, b), atol=tol, rtol=tol)


class EighGeneralizedShardingTest(jtu.JaxTestCase):

  def setUp(self):
    super().setUp()
    if jax.device_count() < 4:
      self.skipTest("needs 4 devices")

  @jtu.sample_product(n=[20, 120], type=[1, 2, 3])
  def testBatchShardedGrad(self, n, type):
    # The batch axis may be sharded: the derivatives in a and b keep it
    # sharded and compile to no collective. (Under a mesh of Explicit axes
    # they do not trace: the mask of the lower triangle in Cholesky's
    # derivative rule is unsharded.) Compiled only: run on 4 CPU devices,
    # the compiled gradient hung in about one run in three (JAX 0.10.2, in
    # its LAPACK calls; under investigation).
    rng = np.random.RandomState(0)
    a = _random_hermitian(rng, (8, n, n), np.float32)
    b = _random_pd(rng, (8, n, n), np.float32)
    weights = rng.randn(8, n, 2).astype(np.float32)
    loss = lambda a, b: jnp.sum(
        weights * jsp_linalg.eigh(a, b, type=type)[1][..., :2] ** 2)
    out, hlo, sharding = _batch_sharded(jax.grad(loss, argnums=(0, 1)),
                                        (a, b))
    for op in _COLLECTIVES:
      self.assertNotIn(op, hlo)
    for x in out:
      self.assertTrue(x.is_equivalent_to(sharding, 3))

if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())
