"""Sphinx configuration of xr_spdc's documentation.

Build (from the repository root; ``docs/build.sh`` runs exactly this)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

Nothing is fetched from the network while building: no intersphinx inventories, no remote
images or fonts (the theme's assets are bundled with it).  The API reference and the
command-line page are generated from the installed package at each build
(``_ext/xr_spdc_docs.py``), and ``examples/`` runs as a sphinx-gallery.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the gallery draws headless

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

import xr_spdc  # noqa: E402

project = "xr_spdc"
author = "xr_spdc developers"
copyright = "xr_spdc developers"  # noqa: A001 (Sphinx's name)
version = release = xr_spdc.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_autosummary_accessors",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "xr_spdc_docs",  # writes api/index.rst and the CLI's --help (see _ext/)
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "**/README.txt"]

import sphinx_autosummary_accessors  # noqa: E402

# accessor_method.rst: pages titled Dataset.spdc.overlap, as xarray and cf_xarray show theirs
templates_path = [sphinx_autosummary_accessors.templates_path]

# -- API reference -------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": False}
# numpydoc: no autosummary of class members (the exceptions' pages list no inherited
# members of Exception), and the docstrings' own section checks stay with the linters.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# -- Narrative pages -----------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- Gallery -------------------------------------------------------------------------------
# sphinx-gallery runs each example in its own folder, so the files an example writes
# (its .png and .nc) would land in examples/.  It runs a copy instead, under _build/.
GALLERY_SRC = DOCS / "_build" / "gallery_src"
shutil.rmtree(GALLERY_SRC, ignore_errors=True)
shutil.copytree(ROOT / "examples", GALLERY_SRC,
                ignore=shutil.ignore_patterns("*.png", "*.nc", "__pycache__"))

sphinx_gallery_conf = {
    "examples_dirs": str(GALLERY_SRC),
    "gallery_dirs": "gallery",
    "filename_pattern": r".*\.py$",   # every example runs at build (keep each a few seconds)
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": False,  # report every failing example, then fail (-W)
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "capture_repr": (),
    "min_reported_time": 1,
    "write_computation_times": False,  # no sg_execution_times page in the site root
}

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"xr_spdc {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 8,
    "icon_links": [],
    "use_edit_page_button": False,
    # Nothing that loads from elsewhere: no version switcher (a JSON fetched by the page),
    # no analytics, no announcement URL.
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
}
html_show_sourcelink = False
html_copy_source = False
