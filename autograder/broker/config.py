"""The files that configure the JVM broker: server.properties (rendered) and log4j2.properties."""

from __future__ import annotations

from pathlib import Path
from string import Template

SERVER_TEMPLATE = Path(__file__).with_name("server.properties")
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
PROXIED_LISTENER = "PROXIED"  # the listener lesson 04's fault proxy (autograder/faults) uses


def render_server_properties(
    target: Path,
    *,
    port: int,
    controller_port: int,
    data_dir: Path,
    proxied_port: int | None = None,
    proxy_port: int | None = None,
) -> Path:
    """Write the broker's server.properties for these ports and data dir; returns `target`.

    With `proxied_port` and `proxy_port`, the broker also listens on localhost:`proxied_port`
    (the PROXIED listener) and advertises it as localhost:`proxy_port`, where the fault proxy
    listens and relays to it. Without them the broker has its one client listener only.
    """
    proxied = proxied_port is not None and proxy_port is not None
    text = Template(SERVER_TEMPLATE.read_text()).substitute(
        port=port,
        controller_port=controller_port,
        data_dir=data_dir.resolve(),
        proxied_listener=f",{PROXIED_LISTENER}://localhost:{proxied_port}" if proxied else "",
        proxied_advertised=f",{PROXIED_LISTENER}://localhost:{proxy_port}" if proxied else "",
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target
