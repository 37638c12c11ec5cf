#!/usr/bin/env python3
"""Render deploy/nginx-frontline.conf.template: each @NAME@ from a --set NAME=value (stdlib only).

    python3 deploy/render_nginx.py --set SERVER_NAME=frontline.example.nhs.uk \\
        --set PUBLIC_HOST=frontline.example.nhs.uk --set HTTP_LISTEN=80 --set HTTPS_LISTEN=443 \\
        --set APP_1=127.0.0.1:8001 --set APP_2=127.0.0.1:8002 \\
        --set CERTIFICATE=/etc/ssl/frontline/fullchain.pem \\
        --set CERTIFICATE_KEY=/etc/ssl/frontline/privkey.pem > /etc/nginx/sites-available/frontline
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx-frontline.conf.template"
PLACEHOLDER = re.compile(r"@([A-Z0-9_]+)@")


def render(values: dict[str, str], template: str | None = None) -> str:
    """The template with every placeholder filled; a missing value is an error, not a blank."""
    text = TEMPLATE.read_text() if template is None else template
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise KeyError(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=value")
    args = parser.parse_args(argv)
    values = dict(item.split("=", 1) for item in args.set)
    try:
        sys.stdout.write(render(values))
    except KeyError as exc:
        print(f"render_nginx: {exc.args[0]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
