"""BirdConfig -> BIRD configuration text, one string per output file.

A jinja2 Environment with StrictUndefined over `birdconf/templates`: a template that
names a field the model lacks fails loudly instead of printing nothing. There are no
custom filters: values arrive in BIRD syntax (BIRD strings have no escapes, so the
processor refuses passwords containing a double quote or a newline).
"""
from __future__ import annotations

import jinja2

import birdconf
from confdpy.bgp_model import BirdConfig
from libcalico_py.errors import CalicoError


class RenderError(CalicoError):
    """A template failed to render the model."""


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(birdconf.template_dir()),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        autoescape=False)
    return env


class Renderer:
    """Renders every output file of `birdconf.OUTPUTS` from one model."""

    def __init__(self) -> None:
        self.env = environment()

    def render(self, cfg: BirdConfig) -> dict[str, str]:
        out = {}
        for filename, template in birdconf.OUTPUTS.items():
            try:
                out[filename] = self.env.get_template(template).render(cfg=cfg)
            except jinja2.TemplateError as e:
                raise RenderError(f"rendering {template} failed: {e}") from e
        return out
