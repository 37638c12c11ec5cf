"""The `frontline` command: serve, migrate, demo, create-user, vapid, worker."""

from __future__ import annotations

import getpass
import sys
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
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Run the web server (migrate first)."""
    import uvicorn

    settings = get_settings()
    if settings.is_production:
        from api.production_checks import refuse_unsafe_production

        refuse_unsafe_production()
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=settings.trusted_proxy_count > 0,
        access_log=False,
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


if __name__ == "__main__":
    app()
