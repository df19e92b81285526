"""`atlas serve --web`: the Textual app in a browser, behind a login (textual-serve).

An interface layer like the CLI: it may use the API, factory and services, never the other
way round. Needs the `serve` extra (textual-serve, aiohttp).
"""

from atlas_tui.web.server import VerifyToken, build_web_app, start_web_app
from atlas_tui.web.sessions import Visitor

__all__ = ["VerifyToken", "Visitor", "build_web_app", "start_web_app"]
