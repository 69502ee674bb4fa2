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

"""The stack of upstream pull requests: what each takes from the package.

Read by ci/make_patches.py. Each PR lists, per upstream file, edits that
name package statements and where they go; ci/pr/<slug>.md is its
description (first line: the subject). Why the stack is split this way:
CONTRIBUTING.md.
"""

from __future__ import annotations

import dataclasses

BASE_VERSION = "0.10.2"  # The JAX release the stack applies to.

# Package module -> the upstream file it mirrors.
MODULES = {
    "jax_patch/_src/config.py": "jax/_src/config.py",
    "jax_patch/_src/lax/linalg.py": "jax/_src/lax/linalg.py",
    "jax_patch/_src/lax/hermitian_funm.py": "jax/_src/lax/hermitian_funm.py",
    "jax_patch/_src/lax/sylvester.py": "jax/_src/lax/sylvester.py",
    "jax_patch/_src/scipy/linalg.py": "jax/_src/scipy/linalg.py",
}

# Standalone comments of package modules that are not sections of their own
# upstream (they exist there already).
PACKAGE_ONLY_HEADERS = ("Top-level functions in alphabetical order.",
                        "Primitive registration helper functions",
                        "Symmetric/Hermitian eigendecomposition",
                        "Singular value decomposition",
                        "Sylvester equation")


@dataclasses.dataclass(frozen=True)
class Insert:
  """Package statements `names` of `src`, placed before or after an anchor.

  An anchor is an upstream top-level name or a `# Section` title. With
  `section`, the statements open a new section: the package's standalone
  comment block of that title goes first. `without` and `substitute` give
  an earlier form of the statements, as for Replace.
  """
  src: str
  names: tuple[str, ...]
  before: str | None = None
  after: str | None = None
  section: str | None = None
  without: tuple[str, ...] = ()
  substitute: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Replace:
  """The package's `name` replaces upstream's, in place.

  `without`: body statements that mention one of these strings are left
  out (a later PR of the stack adds them). `substitute`: (old, new) text
  replacements, e.g. a later PR's option read as its default.
  """
  src: str
  name: str
  without: tuple[str, ...] = ()
  substitute: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Delete:
  name: str


@dataclasses.dataclass(frozen=True)
class DocNote:
  """A paragraph added to the docstring of upstream's def `name`, before its
  Args: section (as text, so that the rest of the def stays the base's)."""
  name: str
  note: str


@dataclasses.dataclass(frozen=True)
class NewFile:
  """The package module `src` as a new upstream file: all of it, or with
  `names`, its preamble, the imports those statements use, the statements
  and the `# Section` headers above them (later PRs Insert the rest)."""
  src: str
  names: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Export:
  """`name as name` lines added to the `from module import (...)` block."""
  module: str
  names: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PR:
  """One pull request: its edits per upstream file, and its test files.

  `fold`: test files that go into an existing upstream test file where the
  base has it (JAX's git tree; the sdist has no tests/): their helpers and
  test classes are appended to it, and only the imports it lacks added.
  The PR's `## CHANGELOG` section (ci/pr/<slug>.md) goes into the base's
  CHANGELOG.md, where it has one.
  """
  slug: str
  edits: dict[str, tuple]
  tests: tuple[str, ...] = ()
  fold: tuple[tuple[str, str], ...] = ()


CONFIG = "jax_patch/_src/config.py"
LAX = "jax_patch/_src/lax/linalg.py"
FUNM = "jax_patch/_src/lax/hermitian_funm.py"
SCIPY = "jax_patch/_src/scipy/linalg.py"
SYLVESTER = "jax_patch/_src/lax/sylvester.py"

# Package statements that never go upstream: the opt-in gauge check
# (jax_linalg_gauge_check), a debugging aid whose value-dependent errors
# have no upstream counterpart in JAX's linear algebra (CONTRIBUTING.md).
def package_only(name: str) -> bool:
  """Whether a package statement's name is one that never goes upstream:
  the gauge check's, all named for it, and those of PACKAGE_ONLY."""
  return "gauge" in name.lower() or name in PACKAGE_ONLY


# Package statements that stay in the package, per upstream module; each
# tuple says why in a comment.
# expm/logm/powm/sqrtm_hermitian: upstream gets funm_hermitian only (users
# write funm_hermitian(a, jnp.exp)); the named functions, with their
# closed-form divided differences, are conveniences of this package.
PACKAGE_ONLY_FUNM = (
    "expm_hermitian", "logm_hermitian", "powm_hermitian", "sqrtm_hermitian",
    "_funm_hermitian_closed_form", "_ClosedFormFunction",
    "_eigenvalues_in_domain", "_expm_divided_difference",
    "_logm_divided_difference", "_sqrtm_divided_difference",
    "_powm_divided_difference", "_sqrt_clipped")
PACKAGE_ONLY_SCIPY = ()
PACKAGE_ONLY_SYLVESTER = ()
PACKAGE_ONLY = frozenset(
    PACKAGE_ONLY_FUNM + PACKAGE_ONLY_SCIPY + PACKAGE_ONLY_SYLVESTER)


SYLVESTER_PRIMITIVE = (
    "_sylvester_solve_shape_rule", "_SYLVESTER_TIES",
    "_sylvester_singular_pivots", "_sylvester_pivot_inverses",
    "_sylvester_solve_impl", "_sylvester_solve_jvp_rule",
    "_sylvester_solve_transpose_rule", "sylvester_solve_p")
# PR 1's primitive has no parameters: the band (rtol) comes with PR 2.
SYLVESTER_NO_RTOL = dict(
    without=("del rtol", "if rtol is not None"),
    substitute=((", *, rtol):", "):"), ("(a, b, rtol)", "(a, b)")))

EIGH_DERIVATIVES_NOTE = """
Derivatives: exact where the eigenvalues are distinct. Eigenvalues that
repeat, or agree to working precision
(``|w_i - w_j| <= 16 sqrt(n) eps max|w|``), have no unique
eigenvectors; their eigenvector derivative is then that of the projector
onto their common eigenspace. First derivatives are then exact for
functions that depend on the eigenvectors only through such eigenspaces
and on each repeated eigenvalue only through the sum of its copies
(projectors, density matrices, ``sum(f(w))``), and for perturbations that
keep the eigenvalues repeated. They are not exact for functions that weigh
the copies of a repeated eigenvalue differently, such as
``v @ diag(f(w)) @ v^H`` with ``f' != 0`` there (``expm`` computed through
``eigh``), whose derivative needs the whole block ``v_D^H da v_D`` of the
eigenvalue tangent rather than its diagonal.
"""
EIGH_BAND_NOTE = """
With the ``jax_linalg_degeneracy_rtol`` option set to ``tau``, eigenvalues
closer than ``tau * (max(w) - min(w))`` count as repeated too: this makes
derivatives of functions of whole clusters of nearly equal eigenvalues
accurate at any splitting, and gives the eigenvectors of such clusters the
derivative of their eigenspace's projector rather than their own.
"""

STACK = (
    PR("01-eigh-jvp", {
        "jax/_src/numpy/linalg.py": (
            DocNote("eigh", EIGH_DERIVATIVES_NOTE),
        ),
        "jax/_src/lax/linalg.py": (
            DocNote("eigh", EIGH_DERIVATIVES_NOTE),
            Insert(LAX, ("_eigh_solve",), before="_eigh_jvp_rule",
                   substitute=((", rtol=_degeneracy_rtol(w.dtype)", ""),)),
            Replace(LAX, "_eigh_jvp_rule",
                    without=("gauge", "_eigh_coupling_p")),
            Insert(LAX, SYLVESTER_PRIMITIVE, before="# Symmetric product",
                   section="Sylvester equation", **SYLVESTER_NO_RTOL),
        ),
    }, tests=("eigh_degenerate_test.py", "eigh_sharding_test.py"),
       fold=(("eigh_degenerate_test.py", "eigh_test.py"),)),
    PR("02-degeneracy-band", {
        "jax/_src/numpy/linalg.py": (
            DocNote("eigh", EIGH_BAND_NOTE),
        ),
        "jax/_src/config.py": (
            Insert(CONFIG, ("_validate_linalg_degeneracy_rtol",
                            "linalg_degeneracy_rtol"),
                   after="default_matmul_precision"),
        ),
        "jax/_src/lax/linalg.py": (
            DocNote("eigh", EIGH_BAND_NOTE),
            Insert(LAX, ("_degeneracy_rtol",), before="_eigh_solve"),
            Replace(LAX, "_eigh_solve"),
            Replace(LAX, "_sylvester_solve_shape_rule"),
            Replace(LAX, "_sylvester_singular_pivots"),
            Replace(LAX, "_sylvester_solve_impl"),
        ),
    }, tests=("eigh_band_test.py",)),
    PR("03-svd-jvp", {
        "jax/_src/lax/linalg.py": (
            Insert(LAX, (
                "_svd_solve", "_svd_complement_solve", "_svd_rotations",
                "_svd_tangents"), before="_svd_jvp_rule",
                   without=("_svd_coupling(",)),
            Replace(LAX, "_svd_jvp_rule",
                    without=("mode = config.linalg_gauge_check",
                             "ds, du, dv = _svd_gauge_check_p"),
                    substitute=(('\n    if mode != "ignore":\n      ds, = '
                                 '_svd_gauge_check_p.bind(s, u, _H(vt), ds, '
                                 'mode=mode)', ''),)),
        ),
    }, tests=("svd_degenerate_test.py",)),
    PR("05-second-order", {
        "jax/_src/lax/linalg.py": (
            Insert(LAX, ("_internal_primitive",),
                   after="standard_linalg_primitive"),
            Insert(LAX, (
                "_eigh_degenerate_mask", "_eigh_coupling_abstract_eval",
                "_eigh_coupling_tangent", "_eigh_coupling_jvp_rule",
                "_eigh_coupling_transpose_rule", "_eigh_coupling_p"),
                   before="_eigh_jvp_rule"),
            Replace(LAX, "_eigh_jvp_rule", without=("gauge",)),
            Insert(LAX, (
                "_svd_degenerate_masks", "_svd_coupling_outputs",
                "_svd_coupling_abstract_eval", "_svd_coupling_impl",
                "_svd_coupling_tangent", "_svd_coupling_jvp_rule",
                "_svd_coupling_transpose_rule", "_svd_coupling_p",
                "_svd_coupling"), before="_svd_jvp_rule"),
            Replace(LAX, "_svd_tangents"),
        ),
    }, tests=("second_order_test.py",)),
    PR("06-eigh-generalized", {
        "jax/_src/scipy/linalg.py": (
            Replace(SCIPY, "_eigh"),
            Replace(SCIPY, "eigh", substitute=((
                " Other\n  losses get the derivative for one choice of basis, which the option\n"
                "  ``jax_linalg_gauge_check`` can report.",
                " Other\n  losses get the derivative for one choice of basis."),)),
            Insert(SCIPY, (
                "_dot", "_to_eigenbasis", "_check_eigh_inputs",
                "_check_eigh_subset", "_eigh_generalized",
                "_eigh_generalized_reduce", "_eigh_generalized_core",
                "_eigh_generalized_jvp", "_eigh_generalized_coupling_impl",
                "_eigh_generalized_coupling_tangent",
                "_eigh_generalized_coupling_jvp_rule",
                "_eigh_generalized_coupling_transpose_rule",
                "_eigh_generalized_coupling_p"),
                   after="eigh", section="Generalized Hermitian eigenproblem",
                   without=("gauge",), substitute=((
                       "#\n# The gauge check of eigh's rule "
                       "(jax_linalg_gauge_check) inspects the\n"
                       "# cotangent of Y: rotations z_D -> z_D Q of a cluster "
                       "rotate v alike, and\n"
                       "# that cotangent is conj(v^H dL/dv), as for eigh.\n",
                       ""),)),
        ),
    }, tests=("eigh_generalized_test.py",)),
    PR("08-funm-hermitian", {
        "jax/_src/lax/hermitian_funm.py": (NewFile(FUNM, names=(
            "funm_hermitian", "_check_hermitian_input", "_ScalarFunction",
            "_trace_scalar_function", "_scalar_derivative", "_dot",
            "_to_eigenbasis", "_from_eigenbasis", "_sorted_triples",
            "_second_divided_differences", "_promote", "_funm_from_eigh",
            "_frechet_from_eigh", "_frechet2_from_eigh",
            "_check_no_const_tangents", "_funm_hermitian",
            "_funm_hermitian_jvp", "_eigh_dropping_degenerate_pairs",
            "_eigh_dropping_degenerate_pairs_jvp", "_cotangent_like",
            "_funm_frechet_abstract_eval", "_funm_frechet_batching_rule",
            "_funm_frechet_impl", "_funm_frechet2_impl",
            "_funm_frechet_jvp_rule", "_funm_frechet_transpose_rule",
            "_funm_frechet2_jvp_rule", "_funm_frechet2_transpose_rule",
            "_sum_like", "funm_hermitian_frechet_p",
            "funm_hermitian_frechet2_p")),),
        "jax/lax/linalg.py": (
            Export("jax._src.lax.hermitian_funm", ("funm_hermitian",)),
        ),
    }, tests=("matfun_hermitian_test.py",)),
    PR("09-sylvester-solve", {
        "jax/_src/lax/sylvester.py": (NewFile(SYLVESTER),),
        "jax/lax/linalg.py": (
            Export("jax._src.lax.linalg", ("sylvester_solve_p",)),
            Export("jax._src.lax.sylvester", (
                "sylvester_solve", "triangular_sylvester_solve_p")),
        ),
    }, tests=("sylvester_solve_test.py",)),
    PR("12-solve-sylvester", {
        "jax/_src/scipy/linalg.py": (
            Delete("_solve_sylvester_triangular_scan"),
            Delete("_solve_sylvester_2d"),
            Insert(SCIPY, (
                "_SYLVESTER_METHODS", "SylvesterFactors",
                "_check_sylvester_args", "_sylvester_platform",
                "_sylvester_factor_one",
                "_SYLVESTER_STACKED_FACTORS",
                "_sylvester_factor", "_sylvester_solve_factored"),
                   before="solve_sylvester"),
            Replace(SCIPY, "solve_sylvester"),
            Insert(SCIPY, ("_solve_sylvester", "_not_differentiable",
                           "_not_differentiable_jvp",
                           "_sylvester_nearly_singular", "_real_if"),
                   after="solve_sylvester"),
        ),
    }, tests=("solve_sylvester_test.py",)),
)
