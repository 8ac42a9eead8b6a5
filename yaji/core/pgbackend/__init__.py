"""Django's PostgreSQL backend with a health check that costs no round trip when the
connection is quiet (ADR 0053); see :mod:`yaji.core.pgbackend.base`."""
