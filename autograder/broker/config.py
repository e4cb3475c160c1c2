"""The files that configure the JVM broker: server.properties (rendered) and log4j2.properties."""

from __future__ import annotations

from pathlib import Path
from string import Template

SERVER_TEMPLATE = Path(__file__).with_name("server.properties")
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")


def render_server_properties(target: Path, *, port: int, controller_port: int,
                             data_dir: Path) -> Path:
    """Write the broker's server.properties for these ports and data dir; returns `target`."""
    text = Template(SERVER_TEMPLATE.read_text()).substitute(
        port=port, controller_port=controller_port, data_dir=data_dir.resolve())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target
