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


def _install():
  if hasattr(jax.lax.linalg, "sylvester_solve"):
    return  # A patched JAX tree (or already installed): nothing to do.
  import jax_patch  # pylint: disable=g-import-not-at-top
  jax_patch.install()


_install()
