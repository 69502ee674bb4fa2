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

"""install() under stress: threads, jax.export, checkpoint, scan, custom_vjp.

Every check compares against an oracle that does not use the patched rule:
the projector derivative from first-order perturbation theory in the known
eigenbasis of diag(1, 1, 2) rotated by a fixed orthogonal Q (exact at the
repeated eigenvalue, where stock JAX returns NaN).
"""

import concurrent.futures
import threading

import numpy as np
import pytest

import jax
from jax.experimental import checkify
import jax.numpy as jnp
from jax._src.interpreters import ad
from jax._src.lax import linalg as lax_linalg

import jax_patch

W = np.arange(9.).reshape(3, 3) / 10
Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))
A = (Q * np.array([1., 1., 2.])) @ Q.T  # Eigenvalue 1 is repeated.


def _loss(a):
  """sum(W * P), P the projector onto the two lowest eigenvectors."""
  _, v = jnp.linalg.eigh(a)
  return jnp.sum(jnp.asarray(W, a.dtype) * (v[:, :2] @ v[:, :2].T))


def _reference_grad(a_eigvecs=Q, w=(1., 1., 2.)):
  # dP = sum over cross pairs (i in {0,1}, k = 2) of K_ik / (w_i - w_k)
  # (q_k q_i^T + q_i q_k^T); grad_ij = dL[E_ij] with E symmetrized, since
  # jnp.linalg.eigh reads (A + A^T) / 2.
  g = np.zeros((3, 3))
  for i in range(3):
    for j in range(3):
      e = np.zeros((3, 3))
      e[i, j] = 1
      e = (e + e.T) / 2
      k = a_eigvecs.T @ e @ a_eigvecs
      dp = np.zeros((3, 3))
      for occ in (0, 1):
        c = k[occ, 2] / (w[occ] - w[2])
        qo, q2 = a_eigvecs[:, occ], a_eigvecs[:, 2]
        dp += c * (np.outer(q2, qo) + np.outer(qo, q2))
      g[i, j] = np.sum(W * dp)
  return g


GRAD = _reference_grad()


@pytest.fixture(autouse=True)
def _x64_and_restore():
  # The global setting, not the thread-local context: worker threads must
  # see it too.
  was, x64 = jax_patch.is_installed(), jax.config.jax_enable_x64
  jax.config.update("jax_enable_x64", True)
  yield
  jax.config.update("jax_enable_x64", x64)
  if was:
    jax_patch.install()
  else:
    jax_patch.uninstall()


def test_concurrent_install_uninstall_leaves_a_consistent_state():
  # install() and uninstall() race from 8 threads; whatever the last call,
  # JAX ends either fully patched or fully stock, never half of each.
  jax_patch.uninstall()
  stock_rule = ad.primitive_jvps[lax_linalg.eigh_p]
  barrier = threading.Barrier(8)

  def hammer(i):
    barrier.wait()
    for k in range(25):
      (jax_patch.install if (i + k) % 2 else jax_patch.uninstall)()
    return True

  with concurrent.futures.ThreadPoolExecutor(8) as pool:
    assert all(pool.map(hammer, range(8)))
  rule = ad.primitive_jvps[lax_linalg.eigh_p]
  has_solve = hasattr(jax.lax.linalg, "sylvester_solve")
  if jax_patch.is_installed():
    assert rule is not stock_rule and has_solve
  else:
    assert rule is stock_rule and not has_solve
  jax_patch.uninstall()
  assert ad.primitive_jvps[lax_linalg.eigh_p] is stock_rule
  assert not hasattr(jax.lax.linalg, "sylvester_solve")


def _checked(error_and_result):
  error, result = error_and_result
  error.throw()
  return np.asarray(result)


def test_overlapping_patched_scopes_in_threads():
  # patched() is reference-counted: a thread that leaves its scope does not
  # uninstall under another thread that is still inside one.
  jax_patch.uninstall()
  inside = threading.Barrier(4)
  first_out = threading.Event()
  # Under jit, "raise" is a checkify.check: checkify functionalizes it.
  grad = checkify.checkify(jax.jit(jax.grad(_loss)))

  def worker(i):
    with jax_patch.patched(gauge_check=("raise" if i % 2 else "nan")):
      inside.wait()
      if i == 0:
        first_out.set()
        return _checked(grad(A))
      first_out.wait()
      # Thread 0 has left its scope; this one is still patched.
      assert jax_patch.is_installed()
      assert jax.config.jax_linalg_gauge_check == ("raise" if i % 2 else "nan")
      return _checked(grad(A))

  with concurrent.futures.ThreadPoolExecutor(4) as pool:
    results = list(pool.map(worker, range(4)))
  for g in results:
    np.testing.assert_allclose(g, GRAD, atol=1e-12)
  assert not jax_patch.is_installed()


def test_export_serialize_deserialize_run_and_differentiate():
  jax_patch.install()
  exported = jax.export.export(jax.jit(_loss))(A)
  blob = exported.serialize(vjp_order=1)
  jax_patch.uninstall()
  # Deserialized, the function runs and differentiates without jax_patch:
  # its derivative rule was exported with it.
  restored = jax.export.deserialize(blob)
  np.testing.assert_allclose(restored.call(A), _loss(A), rtol=1e-14)
  np.testing.assert_allclose(jax.grad(restored.call)(A), GRAD, atol=1e-12)
  # The exported gradient function itself (sylvester/eigh-gauge primitives
  # in its jaxpr) exports too.
  jax_patch.install()
  exported_grad = jax.export.export(jax.jit(jax.grad(_loss)))(A)
  restored_grad = jax.export.deserialize(exported_grad.serialize())
  jax_patch.uninstall()
  np.testing.assert_allclose(restored_grad.call(A), GRAD, atol=1e-12)


def test_export_of_solve_sylvester_grad():
  jax_patch.install()
  rng = np.random.default_rng(1)
  a = rng.standard_normal((4, 4)) + 4 * np.eye(4)
  b = rng.standard_normal((3, 3)) + 4 * np.eye(3)
  c = rng.standard_normal((4, 3))
  loss = lambda a: jnp.sum(jax.scipy.linalg.solve_sylvester(a, b, c) ** 2)
  expected = jax.grad(loss)(a)
  exported = jax.export.export(jax.jit(jax.grad(loss)))(a)
  restored = jax.export.deserialize(exported.serialize())
  jax_patch.uninstall()
  np.testing.assert_allclose(restored.call(a), expected, rtol=1e-12)


def test_checkpoint():
  jax_patch.install()
  for policy in (None, jax.checkpoint_policies.nothing_saveable):
    g = jax.grad(jax.checkpoint(_loss, policy=policy))(A)
    np.testing.assert_allclose(g, GRAD, atol=1e-12)
  g = jax.jit(jax.grad(jax.remat(lambda a: _loss(a) * 2)))(A)
  np.testing.assert_allclose(g, 2 * GRAD, atol=1e-12)


def test_scan():
  jax_patch.install()

  def body(carry, a):
    return carry + _loss(a), _loss(a)

  def total(batch):
    out, per = jax.lax.scan(body, 0., batch)
    return out + 0 * jnp.sum(per)

  batch = np.stack([A, A + np.eye(3), 2 * A])
  g = jax.jit(jax.grad(total))(batch)
  # L(A + I) = L(A) (same eigenvectors); L(2A) = L(A): its gradient is
  # GRAD / 2 (the chain rule through 2A).
  for gi, scale in zip(g, (1, 1, 0.5)):
    np.testing.assert_allclose(gi, scale * GRAD, atol=1e-12)
  # Forward mode through scan.
  e = np.random.default_rng(2).standard_normal((3, 3, 3))
  _, t = jax.jvp(total, (batch,), (e,))
  np.testing.assert_allclose(
      t, sum(np.sum(s * GRAD * x) for s, x in zip((1, 1, 0.5), e)),
      rtol=1e-10)


def test_custom_vjp_around_patched_calls():
  jax_patch.install()

  @jax.custom_vjp
  def f(a):
    return _loss(a)

  def f_fwd(a):
    return jax.vjp(_loss, a)

  def f_bwd(vjp, ct):
    return vjp(ct)

  f.defvjp(f_fwd, f_bwd)
  np.testing.assert_allclose(jax.grad(f)(A), GRAD, atol=1e-12)
  np.testing.assert_allclose(jax.jit(jax.grad(f))(A), GRAD, atol=1e-12)
  np.testing.assert_allclose(jax.vmap(jax.grad(f))(np.stack([A, A])),
                             np.stack([GRAD, GRAD]), atol=1e-12)


def test_stock_is_wrong_here():
  # The oracle's point is one where the patch matters: stock JAX divides by
  # the rounding-level gap between the computed copies of the repeated
  # eigenvalue and returns NaN or a silently wrong gradient.
  jax_patch.uninstall()
  g = np.asarray(jax.grad(_loss)(A))
  assert np.isnan(g).any() or np.abs(g - GRAD).max() > 1e-3
