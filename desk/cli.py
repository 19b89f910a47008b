"""Desk administration from the command line (Makefile: ``desk-user``, ``desk-token``).

    python -m desk.cli user EMAIL [PASSWORD]   create the account or set its password
                                               (asked for when omitted)
    python -m desk.cli token EMAIL             print a new API bearer token (shown once)
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

from desk import auth, cases, db, erasure
from desk.models import utcnow
from permanence import erasure as everywhere
from permanence.x_store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desk.cli", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    user = commands.add_parser("user", help="create a lawyer's account or set its password")
    user.add_argument("email")
    user.add_argument("password", nargs="?")
    token = commands.add_parser("token", help="print a new API bearer token")
    token.add_argument("email")
    client = commands.add_parser("client", help="add a client of the firm")
    client.add_argument("name")
    purging = commands.add_parser(
        "purge", help="erase the conversations idle for N days (no open case) everywhere")
    purging.add_argument("--days", type=int, required=True)
    commands.add_parser("upgrade", help="create or upgrade the desk's tables")
    args = parser.parse_args(argv)

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
                password = args.password or getpass.getpass("Password: ")
                lawyer_id = auth.set_lawyer(session, args.email, password)
                print(f"lawyer {lawyer_id}: {auth.normalize_email(args.email)}")
            elif args.command == "token":
                lawyer_id = auth.lawyer_id_by_email(session, args.email)
                if lawyer_id is None:
                    print(f"no lawyer {args.email}: create it with 'user' first", file=sys.stderr)
                    return 1
                print(auth.create_token(session, lawyer_id, "api"))
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
    with Store.create() as store:
        everywhere.register(everywhere.X_STORE, store.erase_conversation, prune=store.prune)
        try:
            result = erasure.purge(None, before)
        except everywhere.ErasureFailed as failed:
            print(f"error: {failed}", file=sys.stderr)
            return 1
        finally:
            everywhere.unregister(everywhere.X_STORE)
    print(f"erased {result.conversations} conversations")
    print(f"purged {result.cases} cases")
    print(f"purged {result.pruned.get(everywhere.X_STORE, 0)} X channel records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
