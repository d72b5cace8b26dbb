"""linli (邻里): plan and audit neighbourhood centres on real walking networks.

The parts, in the order data flows through them: :mod:`linli.inputs` (OSM, tables, CRS),
:mod:`linli.standards` (policy profiles), :mod:`linli.network` (the walking network),
:mod:`linli.access` (walking minutes within a cutoff, nearest, isochrones).
"""

from linli._errors import (
    CoverageError,
    CRSError,
    InputError,
    LinliError,
    Problem,
    SolverError,
    StandardError,
)

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "CoverageError",
    "InputError",
    "LinliError",
    "Problem",
    "SolverError",
    "StandardError",
    "__version__",
]
