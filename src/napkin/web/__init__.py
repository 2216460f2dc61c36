"""The local estimator page of ``napkin web``: a FastAPI JSON API over the core, and a static page.

Importing this package imports FastAPI, so the command line imports it only inside ``napkin web``.
"""

from .app import create_app

__all__ = ["create_app"]
