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

"""Every difference between the supported JAX versions, and nowhere else.

jax_patch targets the jax-v0.10.2 source (the upstream patch) and must also
run, as a monkeypatch, on JAX 0.11.x. The code under jax_patch/_src only uses
internals that are the same in both (core.Primitive, ad.primitive_jvps and
primitive_transposes, batching.primitive_batchers, mlir.lower_fun,
debugging.debug_callback); what differs is collected here.
"""

from __future__ import annotations

import jax

SUPPORTED = ((0, 10), (0, 11))


def jax_version() -> tuple[int, ...]:
  return tuple(int(p) for p in jax.__version__.split(".")[:3] if p.isdigit())


def check_supported() -> None:
  """Raises RuntimeError unless the installed JAX is 0.10.x or 0.11.x."""
  if jax_version()[:2] not in SUPPORTED:
    supported = ", ".join(f"{a}.{b}.x" for a, b in SUPPORTED)
    raise RuntimeError(
        f"jax_patch supports JAX {supported}; found jax {jax.__version__}. "
        "Its eigh and SVD JVP rules replace jax._src.lax.linalg's, whose "
        "signatures and neighbours change between releases, so it refuses to "
        "patch a version it was not tested against.")


def jvp_registry():
  """The dict in which JAX looks up JVP rules, and the rules install() swaps.

  The second item maps the name of each replaced rule in
  jax._src.lax.linalg (and jax_patch._src.lax.linalg) to its primitive.
  """
  from jax._src.interpreters import ad
  from jax._src.lax import linalg as lax_linalg
  return ad.primitive_jvps, {"_eigh_jvp_rule": lax_linalg.eigh_p,
                             "_svd_jvp_rule": lax_linalg.svd_p}


def clear_caches() -> None:
  jax.clear_caches()
