"""CLI commands of the HTTP service: serve, orgs, keys, users, db, purge, data export-feedback."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import logging.config
import os
import sys
from datetime import timedelta
from typing import Any

from service.config import Settings, get_settings
from service.errors import ServiceConfigError
from service.startup import paused_until_started

logger = logging.getLogger("stagecheck")

MULTIPROC_DIR_NAME = "prometheus-multiproc"


def log_config(level: str) -> dict[str, Any]:
    """Logging for uvicorn and the app, applied in every worker by uvicorn itself."""
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"}
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": upper},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            # Our own access log (stagecheck.access) has the route template, latency and
            # request id; uvicorn's would add the raw path and the client's query string.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # Alembic reports its dialect at INFO on every schema check (each GET /ready).
            "alembic": {"level": "WARNING"},
        },
    }


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def preflight(settings: Settings) -> None:
    """The start-up checks of the app, run once before any worker starts.

    A broken lexicon or a corrupt or mismatched model artefact stops `serve` here, with the
    one-line message that names the file, rather than as a traceback in every worker.
    """
    from nlp.lexicon import default_lexicon
    from service.store.checks import check_database
    from service.store.db import make_engine

    engine = make_engine(settings.resolved_database_url)
    try:
        check_database(settings, engine)
    finally:
        engine.dispose()
    lexicon = default_lexicon()
    if not settings.rules_only:
        from models.artifact import check_artifact, model_path

        # The header's digest vouches for a file save_artifact wrote; each worker loads it.
        check_artifact(model_path(), lexicon.digest)


@paused_until_started()
def cmd_serve(args: argparse.Namespace) -> int:
    """stagecheck serve: run the API with uvicorn, in this process or in pre-forked workers."""
    import uvicorn

    from service.metrics_files import MULTIPROC_ENV, prepare_multiprocess_dir

    settings = get_settings()
    workers = args.workers or settings.workers
    preflight(settings)
    logging.config.dictConfig(log_config(settings.log_level))
    # Each worker logs AUTH_DISABLED_WARNING as it starts; this adds what only we know.
    if not settings.auth_enabled and not _is_loopback(args.host):
        logger.warning(
            "authentication is disabled and the service listens on %s, beyond this machine",
            args.host,
        )
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # Must be set before anything imports prometheus_client (service.app does).
        path = prepare_multiprocess_dir(settings.resolved_data_dir / MULTIPROC_DIR_NAME)
        os.environ[MULTIPROC_ENV] = str(path)
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_config": log_config(settings.log_level),
        "access_log": False,
        "server_header": False,
        "ws": "none",  # no websockets here; uvicorn would import its protocol at every start
        "timeout_graceful_shutdown": args.graceful_timeout,
    }
    if workers == 1:
        uvicorn.run("service.app:create_app", factory=True, **options)
        return 0
    # Build the app and its analyzer once, here, and fork the workers from this process:
    # they share its memory and answer at once, instead of each importing spaCy and
    # loading the model after the other (service/prefork.py).
    from service.app import create_app
    from service.prefork import serve_preforked
    from service.runtime import load_analyzer

    analyzer = load_analyzer(rules_only=settings.rules_only, max_chars=settings.max_text_chars)
    config = uvicorn.Config(create_app(settings, analyzer), **options)
    return serve_preforked(config, workers)


def _open_sessions(settings: Settings, check: bool = True) -> Any:
    from service.store.db import make_engine, make_session_factory
    from service.store.migrate import require_current_schema

    engine = make_engine(settings.resolved_database_url)
    if check:
        require_current_schema(engine)
    return make_session_factory(engine)


def cmd_orgs_create(args: argparse.Namespace) -> int:
    """stagecheck orgs create: a school or SBB, to give keys to and keep records for."""
    from service.store.orgs import create_organisation

    with _open_sessions(get_settings())() as session:
        organisation = create_organisation(session, args.name, args.type)
    print(
        f"created organisation {organisation.id} {organisation.name!r} ({organisation.type}); "
        f"give it keys with `stagecheck keys create --org {_quoted(organisation.name)} "
        "--role officer|admin`" + ("|sbb" if organisation.type == "sbb" else ""),
        file=sys.stderr,
    )
    return 0


def _quoted(name: str) -> str:
    import shlex

    return shlex.quote(name)


def cmd_orgs_list(args: argparse.Namespace) -> int:
    """stagecheck orgs list: every organisation with its type and number of keys."""
    from service.store.orgs import list_organisations

    with _open_sessions(get_settings())() as session:
        rows = list_organisations(session)
    print(f"{'id':>4}  {'type':<6}  {'keys':>4}  {'created (UTC)':<16}  name")
    for organisation, keys in rows:
        print(
            f"{organisation.id:>4}  {organisation.type:<6}  {keys:>4}  "
            f"{organisation.created_at:%Y-%m-%d %H:%M}  {organisation.name}"
        )
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    """stagecheck keys create: print a new key once; only its hash is stored."""
    from service.errors import RoleError
    from service.store.keys import create_key
    from service.store.models import utcnow
    from service.store.orgs import find_organisation

    if args.org is None and args.role is not None:
        raise RoleError("--role needs --org: a role is given within an organisation")
    if args.org is not None and args.role is None:
        raise RoleError("--org needs --role officer, sbb or admin")
    if args.org is None and args.name is None:
        raise RoleError(
            "give --org NAME --role ROLE (a key that may keep records), or --name NAME "
            "(a key that may only analyse)"
        )
    expires = utcnow() + timedelta(days=args.expires_days) if args.expires_days else None
    with _open_sessions(get_settings())() as session:
        organisation = find_organisation(session, args.org) if args.org else None
        name = args.name or f"{organisation.name if organisation else ''} {args.role}".strip()
        key, secret = create_key(
            session, name, expires_at=expires, organisation=organisation, role=args.role
        )
    print(secret)
    until = f", expires {key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else ""
    belongs = (
        f" for {organisation.name!r} with role {key.role}"
        if organisation
        else " (analysis only: no organisation, so no records)"
    )
    print(
        f"created key {key.id} ({key.prefix}…) named {key.name!r}{belongs}{until}. "
        "This is the only time the key is shown: store it now.",
        file=sys.stderr,
    )
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    """stagecheck keys list: every key's id, prefix, state, dates, organisation, role, name."""
    from service.store.keys import list_keys
    from service.store.models import utcnow
    from service.store.orgs import find_organisation

    now = utcnow()
    with _open_sessions(get_settings())() as session:
        organisation_id = find_organisation(session, args.org).id if args.org else None
        keys = list_keys(session, organisation_id)
    print(
        f"{'id':>4}  {'prefix':<12}  {'state':<8}  {'created (UTC)':<16}  {'expires':<16}  "
        f"{'role':<8}  {'organisation':<24}  name"
    )
    for key in keys:
        expires = f"{key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else "-"
        organisation = key.organisation.name if key.organisation else "-"
        print(
            f"{key.id:>4}  {key.prefix:<12}  {key.state(now):<8}  "
            f"{key.created_at:%Y-%m-%d %H:%M}  {expires:<16}  {key.role or '-':<8}  "
            f"{organisation:<24}  {key.name}"
        )
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    """stagecheck keys revoke: a key stops working at its next request."""
    from service.store.keys import revoke_key

    with _open_sessions(get_settings())() as session:
        key = revoke_key(session, args.key)
    print(f"revoked key {key.id} ({key.prefix}…) named {key.name!r}", file=sys.stderr)
    return 0


def read_password(prompt: str = "Wachtwoord: ") -> str:
    """A new password: asked twice on a terminal, else the first line of stdin."""
    import getpass

    from service.errors import WeakPasswordError

    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Nog een keer: ") != first:
            raise WeakPasswordError("the two passwords differ")
        return first
    line = sys.stdin.readline()
    if not line:
        raise WeakPasswordError("no password on stdin (give it as the first line)")
    return line.rstrip("\r\n")


def cmd_users_create(args: argparse.Namespace) -> int:
    """stagecheck users create: a personal account of the web page."""
    from service.store.orgs import check_role, find_organisation
    from service.store.users import create_user

    with _open_sessions(get_settings())() as session:
        organisation = find_organisation(session, args.org)
        check_role(organisation, args.role)
        password = read_password()
        user = create_user(session, organisation, args.role, args.email, password)
    print(
        f"created user {user.id} {user.email} for {organisation.name!r} with role {user.role}",
        file=sys.stderr,
    )
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    """stagecheck users list: every account's id, state, role, organisation and address."""
    from service.store.models import utcnow
    from service.store.orgs import find_organisation
    from service.store.users import list_users

    now = utcnow()
    with _open_sessions(get_settings())() as session:
        organisation_id = find_organisation(session, args.org).id if args.org else None
        users = list_users(session, organisation_id)
    print(
        f"{'id':>4}  {'state':<8}  {'last sign-in':<16}  {'role':<8}  {'organisation':<24}  email"
    )
    for user in users:
        if user.disabled_at is not None:
            state = "disabled"
        elif user.locked_until is not None and user.locked_until > now:
            state = "locked"
        else:
            state = "active"
        last = f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "-"
        print(
            f"{user.id:>4}  {state:<8}  {last:<16}  {user.role:<8}  "
            f"{user.organisation.name:<24}  {user.email}"
        )
    return 0


def _user(session: Any, email: str) -> Any:
    from service.errors import UserNotFoundError
    from service.store.users import find_user

    user = find_user(session, email)
    if user is None:
        raise UserNotFoundError(f"no account for {email!r}; see `stagecheck users list`")
    return user


def cmd_users_password(args: argparse.Namespace) -> int:
    """stagecheck users password: a new password (ends the user's sessions, lifts a lock)."""
    from service.store.users import set_password

    with _open_sessions(get_settings())() as session:
        user = _user(session, args.email)
        set_password(session, user, read_password("Nieuw wachtwoord: "))
    print(f"new password set for {user.email}; their sessions have ended", file=sys.stderr)
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    """stagecheck users disable|enable: stop or allow an account's sign-in."""
    from service.store.users import set_disabled

    disable = args.users_command == "disable"
    with _open_sessions(get_settings())() as session:
        user = _user(session, args.email)
        set_disabled(session, user, disable)
    print(f"{'disabled' if disable else 'enabled'} {user.email}", file=sys.stderr)
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """stagecheck purge: delete records older than the retention period; prints the count."""
    from service.state import purge_expired

    settings = get_settings()
    days = args.days or settings.retention_days
    if days < 1:
        raise ServiceConfigError("--days must be at least 1")
    deleted = purge_expired(_open_sessions(settings), days)
    print(f"deleted {deleted} record(s) older than {days} days")
    return 0


def cmd_export_feedback(args: argparse.Namespace) -> int:
    """stagecheck data export-feedback: officers' feedback as corpus records (JSONL)."""
    import json
    from datetime import UTC, datetime

    from pydantic import ValidationError

    from models.corpus import CorpusRecord
    from service.store.orgs import find_organisation
    from service.store.records import feedback_corpus

    since = datetime.combine(args.since, datetime.min.time(), tzinfo=UTC) if args.since else None
    lines: list[str] = []
    problems = 0
    with _open_sessions(get_settings())() as session:
        organisation_id = find_organisation(session, args.org).id if args.org else None
        for record in feedback_corpus(session, organisation_id, since):
            try:
                CorpusRecord.model_validate(record)
            except ValidationError as exc:
                problems += 1
                print(
                    f"stagecheck: record {record['id']} is not a valid corpus record: "
                    f"{exc.errors()[0]['msg']}",
                    file=sys.stderr,
                )
                continue
            lines.append(json.dumps(record, ensure_ascii=False))
    body = "".join(line + "\n" for line in lines)
    if args.output == "-":
        sys.stdout.write(body)
    else:
        from pathlib import Path

        target = Path(args.output)
        partial = target.with_name(target.name + ".part")
        partial.write_text(body, encoding="utf-8")
        partial.replace(target)
    print(
        f"exported {len(lines)} record(s) with feedback"
        + ("" if args.output == "-" else f" to {args.output}")
        + "; review them, then merge into training_data/ and run `stagecheck data split`",
        file=sys.stderr,
    )
    return 1 if problems else 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """stagecheck db upgrade: apply the schema migrations."""
    from service.store.migrate import upgrade

    settings = get_settings()
    status = upgrade(settings.resolved_database_url)
    print(f"database {_where(settings)} is at schema revision {status.current} (newest)")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    """stagecheck db status: the database's revision against this release's newest."""
    from service.store.db import make_engine
    from service.store.migrate import schema_status

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        status = schema_status(engine)
    finally:
        engine.dispose()
    state = "up to date" if status.up_to_date else "behind: run `stagecheck db upgrade`"
    print(
        f"database {_where(settings)}: revision {status.current or 'none'}, "
        f"newest {status.head} ({state})"
    )
    return 0 if status.up_to_date else 1


def _where(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def add_service_commands(sub: Any) -> None:
    """Register the service's subcommands on the `stagecheck` parser."""
    serve = sub.add_parser("serve", help="run the HTTP API (settings: STAGECHECK_* variables)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--workers", type=int, default=None, help="worker processes (default STAGECHECK_WORKERS)"
    )
    serve.add_argument(
        "--graceful-timeout",
        type=int,
        default=30,
        help="seconds to let requests in flight finish after SIGTERM (default 30)",
    )
    serve.set_defaults(func=cmd_serve)

    orgs = sub.add_parser("orgs", help="organisations (schools and SBB)")
    orgs_sub = orgs.add_subparsers(dest="orgs_command", required=True)
    org_create = orgs_sub.add_parser("create", help="make an organisation")
    org_create.add_argument("--name", required=True, help="the organisation's name, unique")
    org_create.add_argument("--type", required=True, choices=["school", "sbb"])
    org_create.set_defaults(func=cmd_orgs_create)
    org_list = orgs_sub.add_parser("list", help="list organisations")
    org_list.set_defaults(func=cmd_orgs_list)

    keys = sub.add_parser("keys", help="API keys of the HTTP API")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser(
        "create",
        help="make a key and print it once",
        description="--org and --role make a key that may keep records for an organisation "
        "(officer: its own records; sbb: every organisation's, SBB only; admin: its own "
        "records, deleting them, and its keys). --name alone makes a key that may only "
        "analyse.",
    )
    create.add_argument("--org", default=None, help="the organisation's name")
    create.add_argument("--role", default=None, choices=["officer", "sbb", "admin"])
    create.add_argument("--name", default=None, help="who or what uses the key")
    create.add_argument("--expires-days", type=int, default=None, help="valid for N days")
    create.set_defaults(func=cmd_keys_create)
    listing = keys_sub.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--org", default=None, help="only this organisation's keys")
    listing.set_defaults(func=cmd_keys_list)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id or prefix")
    revoke.add_argument("key", metavar="ID|PREFIX")
    revoke.set_defaults(func=cmd_keys_revoke)

    users = sub.add_parser("users", help="personal accounts of the web page")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    user_create = users_sub.add_parser(
        "create",
        help="make an account; the password is asked for, or read from stdin's first line",
        description="Roles as for keys: officer (its own organisation's records), admin "
        "(also deletes them), sbb (every organisation's records; SBB only). The password "
        "needs at least 12 characters and is stored only as an Argon2 hash.",
    )
    user_create.add_argument("--org", required=True, help="the organisation's name")
    user_create.add_argument("--role", required=True, choices=["officer", "sbb", "admin"])
    user_create.add_argument("--email", required=True, help="the person's e-mail address")
    user_create.set_defaults(func=cmd_users_create)
    user_list = users_sub.add_parser("list", help="list accounts (never their passwords)")
    user_list.add_argument("--org", default=None, help="only this organisation's accounts")
    user_list.set_defaults(func=cmd_users_list)
    user_password = users_sub.add_parser(
        "password", help="set a new password (asked for, or stdin); ends the user's sessions"
    )
    user_password.add_argument("--email", required=True)
    user_password.set_defaults(func=cmd_users_password)
    for action in ("disable", "enable"):
        toggle = users_sub.add_parser(action, help=f"{action} an account")
        toggle.add_argument("--email", required=True)
        toggle.set_defaults(func=cmd_users_disable)

    purge = sub.add_parser(
        "purge", help="delete records older than STAGECHECK_RETENTION_DAYS (default 730)"
    )
    purge.add_argument("--days", type=int, default=None, help="keep N days instead of the setting")
    purge.set_defaults(func=cmd_purge)

    db = sub.add_parser("db", help="the service database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_sub.add_parser("upgrade", help="apply schema migrations")
    db_upgrade.set_defaults(func=cmd_db_upgrade)
    db_status = db_sub.add_parser("status", help="show the schema revision")
    db_status.set_defaults(func=cmd_db_status)


def add_export_feedback(data_sub: Any) -> None:
    """Register `stagecheck data export-feedback` on the `data` parser of the model's CLI."""
    from datetime import date

    export = data_sub.add_parser(
        "export-feedback",
        help="officers' feedback as corpus records (JSONL), to review and merge",
    )
    export.add_argument("-o", "--output", default="-", help="JSONL file (default stdout)")
    export.add_argument("--org", default=None, help="only this organisation's records")
    export.add_argument(
        "--since", type=date.fromisoformat, default=None, help="records made from DATE on"
    )
    export.set_defaults(func=cmd_export_feedback)
