"""Wedge-product dictionaries with provenance (Theorems 1-5, 12-17; docs/conventions.md, "Dictionaries").

Explicit (:func:`dictionary`, a dense ``K``) or streamed (:func:`streamed_dictionary`: every
candidate priced in chunks, ``K`` never materialised).
"""

from .. import _cache  # noqa: F401  (first: numba caches the kernels below in the user cache, not site-packages)
from .base import WedgeDictionary
from .build import Dictionary, dictionary
from .dispersion import max_chamber_diameter
from .families import FAMILIES, Family, get_family
from .layout import ColumnKeys, Layout
from .memory import MemoryBudgetError, available_memory, default_memory_budget
from .provenance import Generator, Provenance, ProvenanceTable
from .setup import SamplingPlan, Setup
from .streaming import StreamedDictionary, streamed_dictionary

__all__ = [
    "FAMILIES",
    "ColumnKeys",
    "Dictionary",
    "Family",
    "Generator",
    "Layout",
    "MemoryBudgetError",
    "Provenance",
    "ProvenanceTable",
    "SamplingPlan",
    "Setup",
    "StreamedDictionary",
    "WedgeDictionary",
    "available_memory",
    "default_memory_budget",
    "dictionary",
    "get_family",
    "max_chamber_diameter",
    "streamed_dictionary",
]
