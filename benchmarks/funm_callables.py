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

"""What a new Python function costs `funm_hermitian`, and what it keeps alive.

Times five calls of ``funm_hermitian(a, func)`` (and of its gradient) with
the same ``func`` each time against five with a new ``lambda x: tanh(x)``
each time, eagerly and inside a ``jax.jit`` function that is traced once,
after one warm-up call of each (best of ``--repeats`` runs of five calls);
and counts XLA lowerings during all timed calls
(``jtu.count_jit_and_pmap_lowerings``). Last, whether a closure passed
as ``func`` is still alive after the call (``weakref``, ``gc``).

  python benchmarks/funm_callables.py [--n 8] [--calls 5] [--repeats 3]

Run it with PYTHONPATH pointing at another checkout to compare versions.
"""

from __future__ import annotations

import argparse
import gc
import time
import weakref

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import test_util as jtu

from jax_patch.lax.linalg import funm_hermitian


def _value(a, func):
  return funm_hermitian(a, func)


def _grad(a, func):
  return jax.grad(lambda a: jnp.sum(funm_hermitian(a, func)))(a)


def _timed(call, calls, repeats):
  call(0).block_until_ready()  # Warm-up: compiles what is compiled once.
  best = float("inf")
  with jtu.count_jit_and_pmap_lowerings() as lowerings:
    for _ in range(repeats):
      start = time.perf_counter()
      for i in range(calls):
        call(i + 1).block_until_ready()
      best = min(best, time.perf_counter() - start)
  return best, lowerings()


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--n", type=int, default=8)
  parser.add_argument("--calls", type=int, default=5)
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  jax.config.update("jax_enable_x64", True)
  rng = np.random.default_rng(0)
  x = rng.standard_normal((args.n, args.n))
  a = jnp.asarray(x + x.T)
  same = jnp.tanh
  print(f"jax {jax.__version__}, n={args.n}, best of {args.repeats} x "
        f"{args.calls} calls, float64, {jax.devices()[0].platform}")
  print(f"{'':6} {'':7} {'func':6} {'seconds':>8} {'lowerings':>9}")
  for what, op in (("value", _value), ("grad", _grad)):
    # Under jit, each function is traced once: a lambda made inside it is
    # made once per trace.
    jit_same = jax.jit(lambda a, op=op: op(a, same))
    jit_new = jax.jit(lambda a, op=op: op(a, lambda x: jnp.tanh(x)))
    for mode, call_same, call_new in (
        ("eager", lambda i, op=op: op(a, same),
         lambda i, op=op: op(a, lambda x: jnp.tanh(x))),
        ("jit", lambda i, f=jit_same: f(a), lambda i, f=jit_new: f(a))):
      for label, call in (("same", call_same), ("new", call_new)):
        seconds, lowerings = _timed(call, args.calls, args.repeats)
        print(f"{what:6} {mode:7} {label:6} {seconds:8.4f} {lowerings:9d}")
  func = lambda x: jnp.tanh(x)  # noqa: E731
  ref = weakref.ref(func)
  _grad(a, func).block_until_ready()
  del func
  gc.collect()
  print("closure alive after the call:", ref() is not None)


if __name__ == "__main__":
  main()
