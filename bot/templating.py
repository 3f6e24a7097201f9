"""Jinja templates: each package's own folder, then the shared base page."""

from pathlib import Path

from fastapi.templating import Jinja2Templates

SHARED = Path(__file__).parent / "templates"


def templates_for(package_file: str) -> Jinja2Templates:
    return Jinja2Templates(directory=[Path(package_file).parent / "templates", SHARED])
