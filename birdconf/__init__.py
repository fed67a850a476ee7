"""BIRD 2 configuration templates (jinja2), shipped as package data.

The templates only print a `confdpy.bgp_model.BirdConfig`; every decision is made in
`confdpy.processor`. `bird.cfg.j2` renders the entry file `bird.cfg`, which includes
`bird_aggr.cfg` (this node's blocks as blackhole routes) and `bird_ipam.cfg` (pool
export and kernel filters, which call the functions of `bird_aggr.cfg`) from the same directory.
"""
from __future__ import annotations

from importlib import resources

# Output file name -> template name, in the order they are installed (includes first,
# the entry file last, so BIRD never reads an entry file naming a missing include).
OUTPUTS = {
    "bird_aggr.cfg": "bird_aggr.cfg.j2",
    "bird_ipam.cfg": "bird_ipam.cfg.j2",
    "bird.cfg": "bird.cfg.j2",
}
ENTRY_FILE = "bird.cfg"


def template_dir() -> str:
    """Filesystem path of the templates folder."""
    return str(resources.files(__name__) / "templates")
