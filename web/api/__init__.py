"""The JSON API for channels and scripts; importing the package registers every route on ``bp``.

CSRF does not apply (no cookies are read); the same policy as the pages applies because every
view calls the same services with the token user's actor.
"""

from web.api import alarms as _alarms  # noqa: F401  (routes register on bp)
from web.api import cases as _cases  # noqa: F401
from web.api import channels as _channels  # noqa: F401
from web.api import kpis as _kpis  # noqa: F401
from web.api import openapi as _openapi  # noqa: F401
from web.api import processes as _processes  # noqa: F401
from web.api.base import bp

__all__ = ["bp"]
