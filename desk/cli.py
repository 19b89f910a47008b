"""Desk administration from the command line (Makefile: ``desk-user``, ``desk-token``).

    python -m desk.cli user EMAIL              create the account, or set a new password (and
                                               reactivate it); the password is asked for twice
                                               (never on the command line: it would stay in the
                                               shell's history and the process list);
                                               --password-stdin reads one line instead (scripts)
    python -m desk.cli name EMAIL "NAME"       how the pages name the lawyer (« Maître
                                               Exemple »); "" goes back to the e-mail address
    python -m desk.cli notify EMAIL LEVEL      which new cases are e-mailed to the lawyer besides
                                               the P0 ones (always): P0 (none else, the default),
                                               P1 (P0 and P1) or all (desk/mail.py)
    python -m desk.cli token EMAIL             print a new API bearer token (shown once); it
                                               expires after PERMANENCE_DESK_TOKEN_DAYS (90)
    python -m desk.cli revoke EMAIL            revoke every token of the account (API, sessions)
    python -m desk.cli deactivate EMAIL        the account can no longer log in; tokens revoked
    python -m desk.cli client NAME             add a client of the firm (conflict check)
    python -m desk.cli purge --days N          retention: erase, from every store, each
                                               conversation idle for N days without an open
                                               case; delete the cases closed N days ago and the
                                               X channel's handled records as old
    python -m desk.cli upgrade                 create or upgrade the desk's tables

The database is ``PERMANENCE_DATABASE_URL`` (default: the SQLite file of the project).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import timedelta

from desk import auth, cases, db, erasure, mail
from desk.models import utcnow
from permanence import channel_stores
from permanence import erasure as everywhere


def read_password(from_stdin: bool) -> str | None:
    """The password: one line of standard input, or typed twice at a prompt without echo
    (None when the two differ)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        return None
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desk.cli", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    user = commands.add_parser("user", help="create a lawyer's account or set its password")
    user.add_argument("email")
    user.add_argument("--password-stdin", action="store_true",
                      help="read the password from standard input (one line), not a prompt")
    name = commands.add_parser("name", help="set how the pages name a lawyer")
    name.add_argument("email")
    name.add_argument("name")
    notify = commands.add_parser("notify", help="which new cases are e-mailed to a lawyer")
    notify.add_argument("email")
    notify.add_argument("level", choices=mail.LEVELS)
    token = commands.add_parser("token", help="print a new API bearer token")
    token.add_argument("email")
    revoke = commands.add_parser("revoke", help="revoke every token of an account")
    revoke.add_argument("email")
    deactivate = commands.add_parser("deactivate", help="close an account: no login, no token")
    deactivate.add_argument("email")
    client = commands.add_parser("client", help="add a client of the firm")
    client.add_argument("name")
    purging = commands.add_parser(
        "purge", help="erase the conversations idle for N days (no open case) everywhere")
    purging.add_argument("--days", type=int, required=True)
    commands.add_parser("upgrade", help="create or upgrade the desk's tables")
    args = parser.parse_args(argv)

    password = None
    if args.command == "user":
        password = read_password(args.password_stdin)
        if password is None:
            print("error: the two passwords differ", file=sys.stderr)
            return 2
    db.upgrade_to_head()
    if args.command == "upgrade":
        return 0
    if args.command == "purge":
        try:
            return purge(args.days)
        finally:
            db.dispose_all()
    factory = db.session_factory()
    try:
        with factory.begin() as session:
            if args.command == "user":
                lawyer_id = auth.set_lawyer(session, args.email, password)
                print(f"lawyer {lawyer_id}: {auth.normalize_email(args.email)}")
            elif args.command in ("name", "notify", "token", "revoke", "deactivate"):
                lawyer_id = auth.lawyer_id_by_email(session, args.email)
                if lawyer_id is None:
                    print(f"no lawyer {args.email}: create it with 'user' first", file=sys.stderr)
                    return 1
                if args.command == "name":
                    shown = auth.set_display_name(session, lawyer_id, args.name)
                    print(f"lawyer {lawyer_id}: shown as {shown or args.email}")
                elif args.command == "notify":
                    level = mail.set_preference(session, lawyer_id, args.level)
                    print(f"lawyer {lawyer_id}: e-mailed about {mail.LEVEL_LABELS[level]}")
                elif args.command == "token":
                    token = auth.create_token(session, lawyer_id, "api")
                    expires = auth.token_expiry(session, token)
                    print(f"expires {expires:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
                    print(token)
                elif args.command == "revoke":
                    print(f"{auth.revoke_all(session, lawyer_id)} tokens revoked")
                else:
                    revoked = auth.deactivate(session, lawyer_id)
                    print(f"lawyer {lawyer_id} deactivated, {revoked} tokens revoked")
            elif args.command == "client":
                print(f"client {cases.add_client(session, args.name)}")
    except cases.DeskError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        db.dispose_all()
    return 0


def purge(days: int) -> int:
    """Retention (desk.erasure.purge) on the project's database and the X channel's store."""
    if days < 1:
        print("error: --days must be at least 1", file=sys.stderr)
        return 2
    before = utcnow() - timedelta(days=days)
    erasure.register_outside_rasa()
    # The channels' stores (X's, the web-chat links of X conversations, the web chat's kept
    # messages, resume links and notice addresses): retention reaches them all.
    with channel_stores.registered():
        try:
            result = erasure.purge(None, before)
        except everywhere.ErasureFailed as failed:
            print(f"error: {failed}", file=sys.stderr)
            return 1
    print(f"erased {result.conversations} conversations")
    print(f"purged {result.cases} cases")
    print(f"purged {result.pruned.get(everywhere.X_STORE, 0)} X channel records")
    with db.session_factory().begin() as session:
        print(f"purged {auth.prune_attempts(session)} login attempts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
