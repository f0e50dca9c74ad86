"""vigil: news reports about violence against civilians, turned into a sourced event dataset."""

__version__ = "0.1.0"
