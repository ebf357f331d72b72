"""The platform's pinned dependencies, as its repositories hold them: the API's requirements.txt and the
front end's package.json with its package-lock.json. X5/W3 audit these against the advisory service."""

from __future__ import annotations

import json
from pathlib import Path

PYTHON = {"fastapi": "0.115.6", "uvicorn": "0.34.0", "jinja2": "3.1.5", "requests": "2.32.3", "urllib3": "2.2.3",
          "python-multipart": "0.0.20", "psycopg": "3.2.3"}  # fmt: skip
NPM = {"next": "14.2.25", "react": "18.3.1", "react-dom": "18.3.1", "axios": "1.8.2", "lodash": "4.17.21"}


def write(root: Path, python: dict[str, str] | None = None, npm: dict[str, str] | None = None) -> None:
    """requirements.txt in root/api and a lockfile v3 project in root/frontend, pinned as given (or healthy)."""
    python, npm = {**PYTHON, **(python or {})}, {**NPM, **(npm or {})}
    (root / "api").mkdir(parents=True, exist_ok=True)
    (root / "api" / "requirements.txt").write_text(
        "# pinned by pip-compile; audited weekly (W3)\n" + "".join(f"{name}=={v}\n" for name, v in python.items())
    )
    front = root / "frontend"
    front.mkdir(parents=True, exist_ok=True)
    package = {"name": "miraikakakufront", "version": "1.2.0", "private": True, "dependencies": npm}
    (front / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    lock = {
        "name": "miraikakakufront", "version": "1.2.0", "lockfileVersion": 3, "requires": True,
        "packages": {"": {"name": "miraikakakufront", "version": "1.2.0", "dependencies": npm},
                     **{f"node_modules/{name}": {"version": version, "license": "MIT"}
                        for name, version in npm.items()}},
    }  # fmt: skip
    (front / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
