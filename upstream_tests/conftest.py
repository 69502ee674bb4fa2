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

"""Runs the upstream-style tests against stock JAX + jax_patch.install().

The tests use ``jax.lax.linalg.sylvester_solve``,
``jax.lax.linalg.expm_hermitian`` etc. as they are inside a patched JAX
tree, where this file is not copied. Here, install() puts them there.
"""

import jax.lax.linalg
from jax._src import test_util as jtu


def _request_cpu_devices():
  # The sharding tests need 4 devices. Each module asks for them with
  # jtu.request_cpu_devices(4), as JAX's own tests do, but that works only
  # before JAX's backend is initialized, and under pytest the first test
  # module collected initializes it (jtu.dtypes does): here they are asked
  # for before any test module is imported.
  jtu.request_cpu_devices(4)


def _install():
  if hasattr(jax.lax.linalg, "sylvester_solve"):
    return  # A patched JAX tree (or already installed): nothing to do.
  import jax_patch  # pylint: disable=g-import-not-at-top
  jax_patch.install()


_request_cpu_devices()
_install()
