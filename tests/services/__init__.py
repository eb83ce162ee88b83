"""Services as data (backend.services): the definitions, their engine and the services."""
