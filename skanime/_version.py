"""The version of skanime, in one place.

``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``), the package
re-exports it as ``skanime.__version__``, and the modules that record or show
the version (model files, ``skanime --version``) import it from here.
"""

__version__ = "0.1.0.dev0"
