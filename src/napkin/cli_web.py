"""`napkin web`: the local estimator page.

Imports only click at module level; FastAPI and uvicorn load when the command runs.
"""

from __future__ import annotations

import click

from .cli import main
from .errors import OptionError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
"""Host header names always accepted when the page is served on loopback only."""


@main.command("web", short_help="Serve the interactive estimator page on 127.0.0.1.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 exposes the page to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
def web_command(host: str, port: int, no_browser: bool) -> None:
    """Serve the estimator page and its JSON API, and open the page in a browser.

    The API is described at /openapi.json. Stop with Ctrl+C.

    Example: napkin web --port 8765 --no-browser
    """
    import logging

    try:
        import uvicorn

        from .web import create_app
    except ImportError as error:
        raise OptionError(f"napkin web needs the web extra ({error.name} is missing): pip install 'napkin-ml[web]'") from None

    from .web.listen import all_loopback, bind_listeners
    from .web.protocol import HeaderTimeoutProtocol

    listeners = bind_listeners(host, port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logger = logging.getLogger("napkin.web")
    loopback = all_loopback(listeners)
    if not loopback:
        click.echo(
            f"warning: --host {host} serves the page to every machine that can reach this one; "
            "use the default 127.0.0.1 to keep it local",
            err=True,
        )
    url_host = f"[{host}]" if ":" in host else host
    app = create_app(allowed_hosts=(*LOOPBACK_HOSTS, url_host.lower()) if loopback else None)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, http=HeaderTimeoutProtocol)

    class AnnouncingServer(uvicorn.Server):
        """A uvicorn server that logs its address and opens the browser once it listens."""

        async def startup(self, sockets=None):  # type: ignore[no-untyped-def]
            await super().startup(sockets=sockets)
            bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else port
            url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else url_host}:{bound}/"
            logger.info("serving on %s (Ctrl+C to stop)", url)
            if not no_browser:
                import webbrowser

                webbrowser.open(url)

    try:
        AnnouncingServer(config).run(sockets=listeners)
    finally:
        for listener in listeners:
            listener.close()
