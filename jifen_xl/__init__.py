"""jifen-xl: the rural-governance points system (乡村治理积分制) in village Excel workbooks."""

__version__ = "0.1.0"

__all__ = ["__version__"]
