"""Services as reviewed data: one definition file per service, validated when a process starts."""

from backend.services.loader import (
    DefinitionError,
    definitions,
    load_definitions,
    startup_problem,
)
from backend.services.schema import ServiceDefinition

__all__ = [
    "DefinitionError",
    "ServiceDefinition",
    "definitions",
    "load_definitions",
    "startup_problem",
]
