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

# install() replaces jax.scipy.linalg.eigh and solve_sylvester with this
# module's; the other names here are conveniences of jax_patch that SciPy
# does not have, so they stay out of jax.scipy.linalg (see
# jax_patch.monkeypatch).

from jax_patch._src.scipy.linalg import (
  eigh as eigh,
  solve_sylvester as solve_sylvester,
  sylvester_factor as sylvester_factor,
  sylvester_solve as sylvester_solve,
)
