"""tabship: a tabular model from notebook to production; the package's version."""

from importlib.metadata import version

__version__ = version("tabship")
