"""govreports core: template spec, cell normaliser and report parser.  Imports no orchestration code."""

__version__ = "0.1.0"
