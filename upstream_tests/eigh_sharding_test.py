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

"""Tests for eigh derivatives with a sharded batch."""

import contextlib

from absl.testing import absltest
import numpy as np

import jax
import jax.numpy as jnp
from jax._src import config
from jax._src import test_util as jtu

config.parse_flags_with_absl()
jtu.request_cpu_devices(4)


def _hermitian(rng, w, dtype):
  """Q diag(w) Q^H for a random unitary (orthogonal) Q."""
  n = len(w)
  z = rng.standard_normal((n, n))
  if np.issubdtype(dtype, np.complexfloating):
    z = z + 1j * rng.standard_normal((n, n))
  q, _ = np.linalg.qr(z)
  return ((q * np.asarray(w)) @ q.conj().T).astype(dtype)


def _batch_sharded(fun, args, explicit):
  """jit(fun) with args split along their batch axis over 4 devices.

  With explicit, under a mesh of Explicit axes (jax.set_mesh), else with
  in_shardings on a mesh of Auto axes. Returns the outputs, the compiled
  HLO text and the sharding of the inputs.
  """
  axis_type = (jax.sharding.AxisType.Explicit if explicit else
               jax.sharding.AxisType.Auto)
  mesh = jax.make_mesh((4,), ("batch",), axis_types=(axis_type,))
  sharding = jax.sharding.NamedSharding(
      mesh, jax.sharding.PartitionSpec("batch"))
  with jax.set_mesh(mesh) if explicit else contextlib.nullcontext():
    args = [jax.device_put(x, sharding) for x in args]
    f = jax.jit(fun) if explicit else jax.jit(fun, in_shardings=sharding)
    compiled = f.lower(*args).compile()
    return compiled(*args), compiled.as_text(), sharding


_COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter",
                "collective-permute", "all-to-all")


def _projector_loss(k, weights):
  """sum(W * P) with P the projector onto the k lowest eigenvectors."""
  def loss(a):
    _, v = jnp.linalg.eigh(a)
    vk = v[..., :k]
    p = vk @ jnp.conj(vk).mT
    return jnp.real(jnp.sum(jnp.asarray(weights, p.dtype) * p))
  return loss


class EighShardingTest(jtu.JaxTestCase):

  def setUp(self):
    super().setUp()
    if jax.device_count() < 4:
      self.skipTest("needs 4 devices")

  @jtu.sample_product(n=[20, 120])
  def testBatchShardedDegenerateGrad(self, n):
    # The batch axis may be sharded, explicitly or not: the rule's
    # primitives keep it sharded, compile to no collective, and give the
    # unsharded results.
    w = [1., 1.] + list(np.linspace(2., 3., n - 2))
    a = np.stack([_hermitian(self.rng(), w, np.float32) for _ in range(8)])
    loss = _projector_loss(2, np.ones((n, n)))
    fun = jax.vmap(jax.grad(loss))
    expected = jax.jit(fun)(a)
    for explicit in (False, True):
      out, hlo, sharding = _batch_sharded(fun, (a,), explicit)
      for op in _COLLECTIVES:
        self.assertNotIn(op, hlo)
      self.assertTrue(out.sharding.is_equivalent_to(sharding, out.ndim))
      self.assertAllClose(out, expected)


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())
