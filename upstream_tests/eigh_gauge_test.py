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

"""Tests for eigh's near-degenerate band and second-order degenerate
coupling (the gauge check is tested in tests/test_gauge_check.py)."""

from absl.testing import absltest
import numpy as np

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import test_util as jtu

config.parse_flags_with_absl()

float_types = jtu.dtypes.floating
complex_types = jtu.dtypes.complex


def _hermitian(rng, w, dtype):
  """Q diag(w) Q^H for a random unitary (orthogonal) Q."""
  n = len(w)
  z = rng.standard_normal((n, n))
  if np.issubdtype(dtype, np.complexfloating):
    z = z + 1j * rng.standard_normal((n, n))
  q, _ = np.linalg.qr(z)
  return ((q * np.asarray(w)) @ q.conj().T).astype(dtype)


def _projector_loss(k, weights):
  """sum(W * P) with P the projector onto the k lowest eigenvectors."""
  def loss(a):
    _, v = jnp.linalg.eigh(a)
    vk = v[..., :k]
    p = vk @ jnp.conj(vk).mT
    return jnp.real(jnp.sum(jnp.asarray(weights, p.dtype) * p))
  return loss


def _projector_derivative(q, w, occupied, e):
  """d(Q_occ Q_occ^H)[E] from perturbation theory in the exact basis q."""
  k = q.conj().T @ e @ q
  cross = occupied[:, None] != occupied[None, :]
  gap = w[None, :] - w[:, None]
  dv = q @ np.where(cross, k / np.where(cross, gap, 1), 0)
  qo, dvo = q[:, occupied], dv[:, occupied]
  return dvo @ qo.conj().T + qo @ dvo.conj().T


def _symmetric(rng, n, dtype):
  z = rng.standard_normal((n, n))
  if np.issubdtype(dtype, np.complexfloating):
    z = z + 1j * rng.standard_normal((n, n))
  return ((z + z.conj().T) / 2).astype(dtype)


class EighShardingTest(jtu.JaxTestCase):

  @jtu.sample_product(mode=["ignore", "nan"])
  def testBatchShardedDegenerateGrad(self, mode):
    # The batch axis may be sharded; the rule's primitives keep it sharded
    # and gather nothing. (Run with, e.g.,
    # XLA_FLAGS=--xla_force_host_platform_device_count=4.)
    if jax.device_count() < 4:
      self.skipTest("needs 4 devices")
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:4]), ("batch",))
    sharding = jax.sharding.NamedSharding(
        mesh, jax.sharding.PartitionSpec("batch"))
    a = np.stack([_hermitian(self.rng(), [1., 1., 2., 3.], np.float32)
                  for _ in range(8)])
    loss = _projector_loss(2, np.ones((4, 4)))
    with config.linalg_gauge_check(mode):
      f = jax.jit(jax.vmap(jax.grad(loss)), in_shardings=sharding,
                  out_shardings=None)
      a = jax.device_put(a, sharding)
      hlo = f.lower(a).compile().as_text()
      out = f(a)
    self.assertEqual(out.sharding.spec, sharding.spec)
    self.assertNotIn("all-gather", hlo)
    self.assertNotIn("all-to-all", hlo)
    self.assertAllClose(out, jax.vmap(jax.grad(loss))(np.asarray(a)))


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())
