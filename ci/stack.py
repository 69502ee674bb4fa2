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
                        "General eigendecomposition",
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
class ApiDoc:
  """Names added, in order, to the autosummary list under the heading
  `heading` of an API page (docs/*.rst), where the base has that page (JAX's
  git tree; the sdist has no docs/)."""
  heading: str
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


LAX_DOCS = "Linear algebra operators (jax.lax.linalg)"
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
# jax.scipy.linalg keeps SciPy's names and solve_sylvester its stock
# keywords: the package's method="eigh", rtol and broadening, and its guess
# of the platform a Schur solve would run on, stay in the package.
PACKAGE_ONLY_SCIPY = ("_sylvester_platform", "_not_differentiable",
                      "_not_differentiable_jvp")
# Lorentzian broadening of sylvester_solve (a smooth replacement of its
# reciprocal pivots): a primitive parameter with its own JVP rule, whose case
# upstream has not been argued; as a PR of its own it would touch most of
# PR 09's statements again. The upstream PRs take the statements that
# mention it without it (SYLVESTER_NO_BROADENING, SYLVESTER_TRIANGULAR_ONLY).
PACKAGE_ONLY_SYLVESTER = ("_check_sylvester_broadening",
                          "_sylvester_lorentzian_inverses",
                          "_sylvester_broadened_jvp_rule")
# Lorentzian broadening of the eig rule (jax_linalg_eig_broadening): a
# biased regularization that RCWA codes use, kept in the package for the
# same reason as sylvester_solve's.
PACKAGE_ONLY_EIG = ("_eig_lorentzian_solve", "_validate_linalg_eig_broadening",
                    "linalg_eig_broadening")
PACKAGE_ONLY = frozenset(
    PACKAGE_ONLY_FUNM + PACKAGE_ONLY_SCIPY + PACKAGE_ONLY_SYLVESTER
    + PACKAGE_ONLY_EIG)


SYLVESTER_PRIMITIVE = (
    "_sylvester_solve_shape_rule", "_SYLVESTER_TIES",
    "_sylvester_singular_pivots", "_sylvester_pivot_inverses",
    "_sylvester_solve_impl", "_sylvester_solve_jvp_rule",
    "_sylvester_solve_transpose_rule", "sylvester_solve_p")
# PR 1's primitive has no parameters: the band (rtol) comes with PR 2.
SYLVESTER_NO_RTOL = dict(
    without=("del rtol", "if rtol is not None"),
    substitute=((", *, rtol):", "):"), ("(a, b, rtol)", "(a, b)")))

# PR 09: sylvester_solve for triangular factors, with the column-by-column
# kernel. NewFile takes these statements as the package has them; the
# Replaces after it give the earlier forms of those that PR 10 (real Schur
# factors, quasi_triangular) and PR 11 (the blocked kernel for large
# equations) extend, and leave out broadening (PACKAGE_ONLY_SYLVESTER).
SYLVESTER_TRIANGULAR = (
    "sylvester_solve", "_check_sylvester_solve_args",
    "_sylvester_is_tolerance", "_sylvester_triangular_shape_rule",
    "_sylvester_scaled_inverses", "_sylvester_triangular_inverses",
    "_sylvester_finite", "_sylvester_nan_unless",
    "_sylvester_triangular_solve_impl", "_sylvester_triangular_apply",
    "_sylvester_triangular_jvp_rule", "_sylvester_triangular_transpose_rule",
    "triangular_sylvester_solve_p", "_sylvester_sharding", "_sylvester_iota",
    "_triu", "_sylvester_swap", "_sylvester_flip_t", "_sylvester_flipped",
    "_sylvester_column_solve", "_sylvester_triangular_solve")
# The text of sylvester_solve that broadening and quasi_triangular add.
_BROADENING_DOC = (
    "  With ``broadening``, every reciprocal pivot :math:`1/d` is replaced by "
    "the\n  Lorentzian :math:`\\bar d / (|d|^2 + \\mathrm{broadening})`, which "
    "is smooth\n  in the coefficients; ``rtol`` is then unused.\n\n")
_BROADENING_ARG = (
    "    broadening: If given, a nonnegative Lorentzian broadening, in the "
    "units\n      of the square of the pivots, used instead of truncation; "
    "not with\n      ``quasi_triangular``.\n")
_QUASI_DOC = (
    "  With ``quasi_triangular=True`` the coefficients are real Schur forms\n"
    "  (upper quasi-triangular, with a :math:`2 \\times 2` diagonal block "
    "per\n  complex conjugate pair of eigenvalues, as :func:`schur` returns "
    "for real\n  input) and the solve runs in real arithmetic, which avoids "
    "the complex\n  Schur form, several times more costly to compute and to "
    "use. The pivots\n  are then the sums of an eigenvalue of a diagonal "
    "block of :math:`A` and\n  one of :math:`B`.\n\n")
_QUASI_ARG = (
    "    quasi_triangular: If ``True``, ``a`` and ``b`` are real upper\n"
    "      quasi-triangular: entries below the subdiagonal, and subdiagonal\n"
    "      entries that are zero to working precision, are ignored. Requires "
    "a\n      real dtype.\n")
SYLVESTER_NO_BROADENING = dict(without=("broadening",), substitute=(
    ("    broadening: float | None = None,\n", ""), (_BROADENING_DOC, ""),
    (_BROADENING_ARG, ""), (", broadening=broadening)", ")")))
SYLVESTER_TRIANGULAR_ONLY = (
    Replace(SYLVESTER, "sylvester_solve", substitute=(
        ("    quasi_triangular: bool = False,\n", ""),
        *SYLVESTER_NO_BROADENING["substitute"][:3], (_QUASI_DOC, ""),
        (_QUASI_ARG, ""),
        ("(a, b, c, quasi_triangular=quasi_triangular,\n"
         "                              rtol=rtol, broadening=broadening)",
         "(a, b, c, rtol=rtol)"),
        ("p.bind(\n      a, b, c, quasi_triangular=quasi_triangular, "
         "transpose=transpose,\n      rtol=rtol, broadening=broadening)",
         "p.bind(a, b, c, transpose=transpose,\n"
         "                                           rtol=rtol)"))),
    Replace(SYLVESTER, "_check_sylvester_solve_args",
            without=("quasi_triangular", "broadening"), substitute=((
                "*, quasi_triangular, rtol,\n"
                "                                broadening):", "*, rtol):"),)),
    Replace(SYLVESTER, "_sylvester_scaled_inverses", without=("broadening",),
            substitute=((", rtol, broadening):", ", rtol):"),)),
    Replace(SYLVESTER, "_sylvester_triangular_inverses", substitute=(
        (", rtol, broadening):", ", rtol):"),
        (", rtol=rtol,\n      broadening=broadening)", ", rtol=rtol)"))),
    Replace(SYLVESTER, "_sylvester_triangular_solve_impl",
            without=("quasi_triangular",), substitute=(
                ("rtol,\n                                     "
                 "quasi_triangular, broadening):", "rtol):"),
                (", broadening=broadening)", ")"))),
    Replace(SYLVESTER, "_sylvester_triangular_apply", substitute=(
        ("(factors, a, b, y, *, transpose,\n"
         "                                quasi_triangular, **_):",
         "(a, b, y, *, transpose, **_):"),
        ("""  if quasi_triangular:
    # The entries of quasi-triangular factors in use, those of their upper
    # triangles and bumps. With singular pairs, the generalized solution is
    # taken in complex Schur bases that move with A and B, and the JVP
    # omits that motion: it is exact for nonsingular equations.
    masks = [_sylvester_quasi_mask(x) for x in factors]
    a, b = (x if type(x) is ad_util.Zero else
            lax.select(mask, x, lax.full_like(x, 0))
            for x, mask in zip((a, b), masks))
  else:
    a, b = (x if type(x) is ad_util.Zero else _triu(x) for x in (a, b))
""", "  a, b = (x if type(x) is ad_util.Zero else _triu(x) for x in (a, b))\n"),
    )),
    Replace(SYLVESTER, "_sylvester_triangular_jvp_rule",
            without=("broadening",), substitute=((
                "(_sylvester_triangular_apply, (a, b), **params)",
                "(_sylvester_triangular_apply, **params)"),)),
    Replace(SYLVESTER, "_sylvester_triangular_solve",
            without=("_SYLVESTER_SMALL",)),
)
# PR 10: what real Schur factors change in PR 09's statements.
SYLVESTER_QUASI_TRIANGULAR = (
    Replace(SYLVESTER, "sylvester_solve", substitute=(
        SYLVESTER_NO_BROADENING["substitute"])),
    Replace(SYLVESTER, "_check_sylvester_solve_args",
            without=("broadening",), substitute=((
                "rtol,\n                                broadening):",
                "rtol):"),)),
    Replace(SYLVESTER, "_sylvester_triangular_solve_impl", substitute=(
        ("quasi_triangular, broadening):", "quasi_triangular):"),
        (", broadening=broadening)", ")"))),
    Replace(SYLVESTER, "_sylvester_triangular_apply"),
    Replace(SYLVESTER, "_sylvester_triangular_jvp_rule",
            without=("broadening",)),
)

# PR 11: the blocked kernel for triangular factors; PR 12 gives it the
# closed-form 2 x 2 leaves of real Schur factors (quasi).
SYLVESTER_BLOCKED_TRIANGULAR = (
    ("pivots: Array,\n                           quasi: bool) -> Array:",
     "pivots: Array\n                           ) -> Array:"),
    (" With quasi (quasi-triangular a and b with their 2 x 2 blocks at\n"
     "  # even indices) the leaves are solved in closed form instead, with "
     "pivots\n  # from _sylvester_pair_inverses.", ""),
    ("        _sylvester_pair_apply(a_d, b_d, p, r) if quasi else\n", ""),
    ("s: int, quasi: bool = False) -> Array:", "s: int) -> Array:"),
    (" With quasi, a and b are quasi-triangular (see\n  # "
     "_sylvester_block_solve), and the bands start at whole blocks, so none"
     "\n  # cuts one of their 2 x 2 blocks.", ""),
    ("s, quasi)", "s)"),
    ("s: int,\n                              quasi: bool = False) -> Array:",
     "s: int) -> Array:"),
    (" (with quasi, quasi-triangular)", ""),
    ("allow_negative_indices=False),\n        quasi)",
     "allow_negative_indices=False))"),
)

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

EIG_DERIVATIVES_NOTE = """
Derivatives (``enable_eigvec_derivs=True``): eigenvalues that repeat, or
that agree to within the rounding error of a non-normal matrix's
eigenvalues (which grows with their condition numbers), are treated as
repeated: their eigenvector derivative is that of the spectral projector
``vr[:, D] @ inv(vr)[D, :]`` onto their common eigenspace ``D``. So the
derivatives of functions that depend on the eigenvectors only through such
projectors, and on each repeated eigenvalue only through the sum of its
copies, are exact; those of a single eigenvector of such a pair, or of
``vr @ diag(f(w)) @ inv(vr)`` with ``f' != 0`` there, are not. With the
``jax_linalg_degeneracy_rtol`` option set to ``tau``, eigenvalues closer
than ``tau`` times their spread count as repeated too. A numerically
defective matrix (an eigenvalue condition number above ``eps^(-3/4)``) gets
NaN derivatives.
"""

SVD_GAUGE_CHECK_OFF = (('\n    if mode != "ignore":\n      ds, = '
                        '_svd_gauge_check_p.bind(s, u, _H(vt), ds, '
                        'mode=mode)', ''),)
# PR 3's SVD rule keeps stock's NotImplementedError for full_matrices=True
# on non-square input, whose JVP PR 4 adds.
SVD_THIN_ONLY = (
    ("  full_matrices = (compute_uv and full_matrices and\n"
     "                   not core.definitely_equal(m, n))\n",
     "  if compute_uv and full_matrices and not core.definitely_equal(m, n):\n"
     "    raise NotImplementedError(\n"
     "        \"Singular value decomposition JVP not implemented for full "
     "matrices\")\n"),
    ("a, full_matrices=full_matrices, compute_uv=True",
     "a, full_matrices=False, compute_uv=True"),
    ("    u1 = u[..., :n] if full_matrices else u\n"
     "    ds, du, dv = _svd_tangents(a, a_dot, s, u1, v, phase=1)",
     "    ds, du, dv = _svd_tangents(a, a_dot, s, u, v, phase=1)"),
    ("    v1 = v[..., :m] if full_matrices else v\n"
     "    ds, dv, du = _svd_tangents(_H(a), _H(a_dot), s, v1, u, phase=-1)",
     "    ds, dv, du = _svd_tangents(_H(a), _H(a_dot), s, v, u, phase=-1)"),
)

# PR 06's eigh(a, b) is the plain composition, differentiated by JAX; the
# rule (PR 07) is _eigh_generalized_core, and only it needs x for type 2.
EIGH_GENERALIZED_PLAIN = (
    ("_eigh_generalized_core(", "_eigh_generalized_reduce("),
    ("x = L u = b z (v for\n  # type 3; None for type 1)",
     "x = L u (v for type\n  # 3; None otherwise)"),
    ("None if itype == 1 else _dot(l, u)", "_dot(l, u) if itype == 3 else None"),
)

# solve_sylvester upstream: SciPy's function with its stock keywords (method
# "schur" or "eigen", tol). The package's method="eigh", rtol and broadening,
# and the statements that serve only them, are left out.
_SYLVESTER_EXTRAS = ('method == "eigh"', "_sylvester_platform",
                     "_not_differentiable(")
_SYLVESTER_EXTRAS_DOC = r"""
      ``"eigh"``: Hermitian ``A`` and ``B`` (their Hermitian parts
      :math:`(A + A^H)/2` and :math:`(B + B^H)/2` are used), on every
      platform. ``"schur"`` raises ``ValueError`` where the solve would run
      on a platform other than the CPU: place it on the CPU with
      :func:`jax.default_device` or CPU inputs."""
_SYLVESTER_TOLERANCES_DOC = r"""
    rtol: relative tolerance below which a pivot :math:`\lambda_i(A) +
      \lambda_j(B)` counts as zero, relative to :math:`\max|T_A| +
      \max|T_B|`; defaults to :math:`\max(m, n)\,\varepsilon`. Components of
      the solution on such pivots are set to zero instead of :math:`\pm
      \infty`; this matters with ``tol=None``, which otherwise makes such
      solutions NaN.
    broadening: optional Lorentzian broadening :math:`\beta`: every
      :math:`1/d` becomes :math:`\bar d/(|d|^2 + \beta)` instead. The
      solution is then differentiable in ``C`` only; derivatives in ``A``
      or ``B`` raise ``NotImplementedError``."""
_RTOL_BROADENING = "rtol=rtol, broadening=broadening)"
SOLVE_SYLVESTER_HELPERS = dict(without=_SYLVESTER_EXTRAS, substitute=(
    ('("schur", "eigh", "eigen")', '("schur", "eigen")'),
    ("transpose: bool, rtol: float | None,\n" + " " * 30
     + "broadening: float | None) -> Array:",
     "transpose: bool) -> Array:"),
    ("if quasi and (broadening is not None or\n" + " " * 16
     + "dtypes.issubdtype(c.dtype, np.complexfloating)):\n"
     "    # Broadening, and complex right-hand sides, need the complex Schur "
     "forms:\n    # an O(n^2) Givens pass away from the real ones.",
     "if quasi and dtypes.issubdtype(c.dtype, np.complexfloating):\n"
     "    # Complex right-hand sides need the complex Schur forms: an O(n^2)\n"
     "    # Givens pass away from the real ones."),
    (",\n" + " " * 8 + _RTOL_BROADENING, ")"),
    ("scale, " + _RTOL_BROADENING, "scale, rtol=None)"),
    ('"method", "rtol", "broadening"', '"method"'),
    ("method: str,\n" + " " * 21
     + "rtol: float | None, broadening: float | None) -> Array:",
     "method: str) -> Array:"),
    (",\n" + " " * 32 + _RTOL_BROADENING, ")")))
SOLVE_SYLVESTER = dict(substitute=(
    ('"schur", tol: ArrayLike | None = 1e-8,\n' + " " * 20
     + "rtol: float | None = None,\n" + " " * 20
     + "broadening: float | None = None) -> Array:",
     '"schur",\n' + " " * 20 + "tol: ArrayLike | None = 1e-8) -> Array:"),
    (_SYLVESTER_EXTRAS_DOC, ""), (_SYLVESTER_TOLERANCES_DOC, ""),
    (",\n" + " " * 26 + _RTOL_BROADENING, ")")))


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
                             "ds, du, dv = _svd_gauge_check_p",
                             "_svd_complement_tangent"),
                    substitute=SVD_GAUGE_CHECK_OFF + SVD_THIN_ONLY),
            Delete("_construct_diagonal"),  # The stock rule's only use.
        ),
    }, tests=("svd_degenerate_test.py",)),
    PR("04-svd-full-matrices", {
        "jax/_src/lax/linalg.py": (
            Insert(LAX, ("_svd_complement_tangent",), after="_svd_tangents"),
            Replace(LAX, "_svd_jvp_rule",
                    without=("mode = config.linalg_gauge_check",
                             "ds, du, dv = _svd_gauge_check_p"),
                    substitute=SVD_GAUGE_CHECK_OFF),
        ),
    }, tests=("svd_full_matrices_test.py",)),
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
                "_svd_degenerate_masks", "_svd_rotations_transpose",
                "_svd_coupling_abstract_eval", "_svd_coupling_tangent", "_svd_coupling_jvp_rule",
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
            # The plain composition: JAX differentiates Cholesky, the
            # triangular solves and eigh; PR 07 adds the rule.
            Insert(SCIPY, (
                "_dot", "_check_eigh_inputs", "_check_eigh_subset",
                "_eigh_generalized", "_eigh_generalized_reduce"),
                   after="eigh", section="Generalized Hermitian eigenproblem",
                   substitute=EIGH_GENERALIZED_PLAIN),
        ),
    }, tests=("eigh_generalized_test.py",)),
    PR("07-eigh-generalized-rule", {
        "jax/_src/scipy/linalg.py": (
            Insert(SCIPY, ("_to_eigenbasis",), after="_dot"),
            Replace(SCIPY, "_eigh_generalized"),
            Replace(SCIPY, "_eigh_generalized_reduce"),
            Insert(SCIPY, (
                "_eigh_generalized_core", "_eigh_generalized_jvp",
                "_eigh_generalized_coupling_impl",
                "_eigh_generalized_coupling_tangent",
                "_eigh_generalized_coupling_jvp_rule",
                "_eigh_generalized_coupling_transpose_rule",
                "_eigh_generalized_coupling_p"),
                   after="_eigh_generalized_reduce", without=("gauge",),
                   substitute=((
                       "#\n# The gauge check of eigh's rule "
                       "(jax_linalg_gauge_check) inspects the\n"
                       "# cotangent of Y: rotations z_D -> z_D Q of a cluster "
                       "rotate v alike, and\n"
                       "# that cotangent is conj(v^H dL/dv), as for eigh.\n",
                       ""),)),
        ),
    }, tests=("eigh_generalized_rule_test.py",)),
    PR("08-funm-hermitian", {
        "jax/_src/lax/hermitian_funm.py": (NewFile(FUNM, names=(
            "funm_hermitian", "_check_hermitian_input", "_ScalarFunction",
            "_trace_scalar_function", "_scalar_derivative", "_dot",
            "_to_eigenbasis", "_from_eigenbasis", "_sorted_triples",
            "_second_divided_differences", "_promote",
            "_funm_frechet_impl", "_funm_frechet2_impl",
            "_check_no_const_tangents", "_funm_hermitian",
            "_funm_hermitian_jvp", "_eigh_dropping_degenerate_pairs",
            "_eigh_dropping_degenerate_pairs_jvp", "_cotangent_like",
            "_funm_frechet_abstract_eval", "_funm_frechet_batching_rule",
            "_funm_frechet_jvp_rule", "_funm_frechet_transpose_rule",
            "_funm_frechet2_jvp_rule", "_funm_frechet2_transpose_rule",
            "_sum_like", "funm_hermitian_frechet_p",
            "funm_hermitian_frechet2_p")),),
        "jax/lax/linalg.py": (
            Export("jax._src.lax.hermitian_funm", ("funm_hermitian",)),
        ),
        "docs/jax.lax.rst": (ApiDoc(LAX_DOCS, ("funm_hermitian",)),),
    }, tests=("matfun_hermitian_test.py",)),
    PR("09-sylvester-solve", {
        "jax/_src/lax/sylvester.py": (
            NewFile(SYLVESTER, names=SYLVESTER_TRIANGULAR),
            *SYLVESTER_TRIANGULAR_ONLY,
        ),
        "jax/lax/linalg.py": (
            Export("jax._src.lax.sylvester", (
                "sylvester_solve", "triangular_sylvester_solve_p")),
        ),
        "docs/jax.lax.rst": (ApiDoc(LAX_DOCS, ("sylvester_solve",)),),
    }, tests=("sylvester_solve_test.py",)),
    PR("10-sylvester-quasi-triangular", {
        "jax/_src/lax/sylvester.py": (
            *SYLVESTER_QUASI_TRIANGULAR,
            Insert(SYLVESTER, (
                "_SYLVESTER_DENSE_ROTATIONS_SMALL", "_sylvester_reshape",
                "_sylvester_diag", "_sylvester_diagonal_entries",
                "_sylvester_bumps", "_sylvester_quasi_mask",
                "_real_schur_shifts", "_real_schur_eigenvalues",
                "_real_schur_rotation", "_real_schur_terms",
                "_sylvester_rotate", "_real_schur_complex_form",
                "_real_schur_to_complex", "_sylvester_dense_rotation",
                "_sylvester_quasi_complex_solve", "_sylvester_quasi_stack",
                "_sylvester_quasi_masked", "_sylvester_unstack",
                "_sylvester_quasi_solve_impl", "_sylvester_quasi_solve"),
                   after="_sylvester_triangular_solve",
                   section="Sylvester solve: real Schur (quasi-triangular) "
                           "factors",
                   without=("_SYLVESTER_SMALL",)),
        ),
    }, tests=("sylvester_quasi_triangular_test.py",)),
    PR("11-sylvester-blocked", {
        "jax/_src/lax/sylvester.py": (
            Replace(SYLVESTER, "_sylvester_triangular_solve"),
            Insert(SYLVESTER, (
                "_SYLVESTER_BLOCK_SIZE", "_SYLVESTER_BLOCK_SIZE_COMPLEX",
                "_SYLVESTER_LEAF_SIZE", "_SYLVESTER_BAND_HEIGHT",
                "_SYLVESTER_SMALL", "_sylvester_pair_substitute",
                "_sylvester_leaf_entries", "_sylvester_leaf_assemble",
                "_sylvester_diagonal_leaves", "_sylvester_block_solve",
                "_sylvester_blocks", "_sylvester_unblocks", "_sylvester_skew",
                "_sylvester_unskew", "_sylvester_split_complex",
                "_sylvester_panel_dot", "_sylvester_wavefront",
                "_sylvester_bands", "_sylvester_band_layout",
                "_sylvester_band_wavefront", "_sylvester_blocked_solve",
                "_sylvester_block_size"),
                   after="_sylvester_quasi_solve",
                   section="Sylvester solve: blocked kernel",
                   substitute=SYLVESTER_BLOCKED_TRIANGULAR),
        ),
    }, tests=("sylvester_blocked_test.py",)),
    # The blocked kernel's real-arithmetic path for real Schur factors: with
    # it PR 11 was over 800 lines. Until it, large quasi-triangular equations
    # are solved in the complex Schur bases by the column kernel (PR 10).
    PR("12-sylvester-quasi-blocked", {
        "jax/_src/lax/sylvester.py": (
            Replace(SYLVESTER, "_sylvester_block_solve"),
            Replace(SYLVESTER, "_sylvester_wavefront"),
            Replace(SYLVESTER, "_sylvester_band_wavefront"),
            Replace(SYLVESTER, "_sylvester_quasi_solve"),
            Insert(SYLVESTER, (
                "_SYLVESTER_DENSE_ROTATIONS", "_sylvester_pair_inverse",
                "_sylvester_pair_apply", "_sylvester_pair_inverses",
                "_sylvester_take", "_sylvester_bump_layout",
                "_sylvester_pad_quasi", "_sylvester_quasi_triangular_solve",
                "_sylvester_quasi_sizes", "_sylvester_quasi_blocked_solve"),
                   after="_sylvester_block_size",
                   section="Sylvester solve: blocked kernel for real Schur "
                           "factors"),
        ),
    }, tests=("sylvester_quasi_blocked_test.py",)),
    PR("13-solve-sylvester", {
        "jax/_src/scipy/linalg.py": (
            Delete("_solve_sylvester_triangular_scan"),
            Delete("_solve_sylvester_2d"),
            Insert(SCIPY, (
                "_SYLVESTER_METHODS", "SylvesterFactors",
                "_check_sylvester_args", "_sylvester_factor_one",
                "_SYLVESTER_STACKED_FACTORS", "_sylvester_factor",
                "_sylvester_solve_factored", "_solve_sylvester",
                "_sylvester_nearly_singular", "_real_if"),
                   before="solve_sylvester", **SOLVE_SYLVESTER_HELPERS),
            Replace(SCIPY, "solve_sylvester", **SOLVE_SYLVESTER),
        ),
    }, tests=("solve_sylvester_test.py",)),
    # The eig rule on the primitive, with the ties of PR 01 scaled by the
    # eigenvalues' condition numbers and PR 02's band; the gauge check and
    # the Lorentzian broadening (jax_linalg_eig_broadening) stay in the
    # package.
    PR("14-eig-jvp", {
        "jax/_src/lax/linalg.py": (
            DocNote("eig", EIG_DERIVATIVES_NOTE),
            Insert(LAX, ("_eig_inv", "_eig_condition_numbers", "_EIG_TIES",
                         "_eig_degenerate_mask", "_eig_defective",
                         "_eig_solve"),
                   before="_eig_vec_jvp", without=("broadening",)),
            Replace(LAX, "_eig_vec_jvp", without=("gauge",)),
            Replace(LAX, "eig_jvp_rule", substitute=((
                "    dw = (_solve(vr, da.astype(vr.dtype)) * _T(vr)).sum(-1)\n"
                "    return [w], [_eig_values_gauge_check(a, w, vr, dw)]",
                "    return [w], [(_solve(vr, da.astype(vr.dtype)) * "
                "_T(vr)).sum(-1)]"),)),
        ),
    }, tests=("eig_degenerate_test.py",)),
)
