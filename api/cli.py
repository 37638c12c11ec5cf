"""The `frontline` command: serve, migrate, demo, create-user, vapid, worker."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from api.config import get_settings
from api.db import get_engine, open_session
from api.errors import Invalid
from schemas.enums import Role

app = typer.Typer(
    help="Frontline: offline-first quality improvement capture.", no_args_is_help=True
)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from api.migrate import upgrade

    upgrade(get_engine())
    typer.echo("Database schema is up to date.")


@app.command()
def demo() -> None:
    """Seed the demo trust (teams, partners, aims, demo users). Does nothing if already seeded."""
    from api.demo import seed_demo

    if get_settings().is_production:
        typer.echo("Refusing to seed demo accounts in production.", err=True)
        raise typer.Exit(2)
    with open_session(write=True) as session:
        seeded = seed_demo(session)
        session.commit()
    typer.echo("Demo trust seeded." if seeded else "Demo trust already present; nothing changed.")


@app.command("create-user")
def create_user_command(
    email: Annotated[str, typer.Option(help="Sign-in email address")],
    name: Annotated[str, typer.Option(help="Full name")],
    role: Annotated[Role, typer.Option(help="reporter, manager, admin or partner")] = Role.reporter,
    team_id: Annotated[int | None, typer.Option(help="Team id")] = None,
    partner_id: Annotated[
        int | None, typer.Option(help="Partner organisation id (for --role partner)")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create an account. The password is asked for (or read from stdin), never an argument."""
    from api.auth.users import create_user

    password = (
        sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
    )
    with open_session(write=True) as session:
        try:
            user = create_user(
                session,
                email=email,
                name=name,
                password=password,
                role=role,
                team_id=team_id,
                partner_id=partner_id,
            )
        except Invalid as exc:
            for error in exc.errors:
                typer.echo(f"{error.field}: {error.message}", err=True)
            raise typer.Exit(1) from exc
        session.commit()
        typer.echo(f"Created {user.role} {user.email} (id {user.id}).")


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default 127.0.0.1; with --tls, 0.0.0.0)"),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    tls: Annotated[
        bool,
        typer.Option(
            "--tls",
            help="HTTPS with a self-signed certificate kept in FRONTLINE_DATA_DIR/tls, to try "
            "Frontline on a phone on the same network. Not for production.",
        ),
    ] = False,
) -> None:
    """Run the web server (migrate first)."""
    import uvicorn

    from api.production_checks import refuse_open_development, refuse_unsafe_production

    settings = get_settings()
    if settings.is_production:
        if tls:
            typer.echo(
                "--tls makes a self-signed certificate for trying Frontline out; in production "
                "put the trust's certificate on the proxy in front (deploy/).",
                err=True,
            )
            raise typer.Exit(2)
        refuse_unsafe_production()
    elif not tls:
        # --tls is the one deliberate way onto the network outside production (a manager trying
        # Frontline on their own phone); everything else listens on loopback only.
        refuse_open_development(host or "127.0.0.1")
    ssl: dict[str, str] = {}
    if tls:
        from api.operations.tls import ensure_certificate

        made = ensure_certificate(settings.data_dir)
        ssl = {"ssl_certfile": str(made.certificate), "ssl_keyfile": str(made.key)}
        host = host or "0.0.0.0"  # noqa: S104 - the point: a phone on the same network
        urls = [f"https://{a}:{port}" for a in made.addresses if a != "127.0.0.1"]
        typer.echo("Frontline over HTTPS with a self-signed certificate (for trying it out).")
        typer.echo(f"  On this computer:  https://127.0.0.1:{port}")
        for url in urls:
            typer.echo(f"  On your phone (same Wi-Fi): {url}")
        typer.echo(f"  Certificate SHA-256 fingerprint: {made.fingerprint}")
        typer.echo(f"  Certificate file (to trust it on the phone): {made.certificate}")
        typer.echo("  Check the fingerprint your phone shows matches before you accept it.")
        typer.echo(
            "  Anyone on this network can reach it, and the demo accounts work: stop it (Ctrl+C) "
            "when you have finished trying it."
        )
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host or "127.0.0.1",
        port=port,
        workers=workers,
        proxy_headers=settings.trusted_proxy_count > 0,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=False,
        **ssl,  # type: ignore[arg-type]
        # No `server: uvicorn` header: it tells a scanner what to try, and a browser nothing.
        server_header=False,
    )


@app.command()
def vapid() -> None:
    """Print a new VAPID key pair for FRONTLINE_VAPID_PRIVATE_KEY / FRONTLINE_VAPID_PUBLIC_KEY.

    The server's own stored pair (FRONTLINE_DATA_DIR/vapid_private.pem) is not touched."""
    from api.push.keys import generate_key_pair

    private, public = generate_key_pair()
    typer.echo(f"FRONTLINE_VAPID_PRIVATE_KEY={private}")
    typer.echo(f"FRONTLINE_VAPID_PUBLIC_KEY={public}")
    typer.echo(
        "Keep the private key like a password (a secrets store, never the repository). "
        "Browsers subscribed under other keys subscribe again on their next visit.",
        err=True,
    )


@app.command()
def worker(
    interval: Annotated[
        float, typer.Option(min=0.5, help="Seconds between looks at the queue")
    ] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit")] = False,
) -> None:
    """Deliver push notifications until SIGTERM or Ctrl-C (where FRONTLINE_PUSH_WORKER=off)."""
    from api.log_format import configure_logging
    from api.push.delivery import run_worker

    configure_logging()
    handled = run_worker(get_engine(), interval=interval, once=once)
    if once:
        typer.echo(f"Handled {handled} push deliveries.")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write")],
) -> None:
    """Back up the database named by DATABASE_URL while the service runs (SQLite online backup
    API; pg_dump for PostgreSQL). Every record acknowledged before it starts is in it."""
    from api.operations.backup import BackupError
    from api.operations.backup import backup as take_backup

    try:
        outcome = take_backup(get_settings().sqlalchemy_url, file)
    except BackupError as exc:
        typer.echo(f"Backup failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"Backed up to {outcome.path} ({outcome.size} bytes, schema revision "
        f"{outcome.revision or 'none'}). It holds personal data: store it like the database."
    )


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `frontline backup`")],
) -> None:
    """Restore a backup into the EMPTY database named by DATABASE_URL (a database that already
    holds tables is refused), then run `frontline migrate` if the code is newer."""
    from api.operations.backup import BackupError
    from api.operations.backup import restore as load_backup

    try:
        outcome = load_backup(get_settings().sqlalchemy_url, file)
    except BackupError as exc:
        typer.echo(f"Restore refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"Restored {outcome.path} (schema revision {outcome.revision or 'none'}). "
        "Run `frontline migrate` before serving if this version of Frontline is newer."
    )


if __name__ == "__main__":
    app()
