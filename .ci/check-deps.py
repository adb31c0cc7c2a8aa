#!/usr/bin/env python3
"""Checks the crate dependency direction of DESIGN.md.

    types <- core <- store
    core <- {smtp, imap, dav, http, exo}      a protocol crate never imports another
    everything <- server <- cli               testkit is a dev-dependency only

and that `core` uses no network, HTTP, SQL or protocol crate. Reads
`cargo metadata`; exits 1 naming every violation.

It also reads the sources of the protocol crates, `exo` and `cli`: they reach
mail, the directory and calendars through `core` (its one door), never
through a store trait or the store crate.
"""
import json
import pathlib
import re
import subprocess
import sys

PREFIX = "mailroom-"
PROTOCOLS = {"smtp", "imap", "dav", "http", "exo"}
# What each workspace crate may depend on (normal and build dependencies).
# `mime` is a library beside core (message parsing), not a protocol: the
# protocols that receive mail (SMTP, IMAP APPEND) share it.
# `send` is the submission pipeline the protocols that send share (SMTP
# submission, the web app's compose): core's decision, the header rewritten,
# forwarding and automatic replies.
# `ical` reads iCalendar data for CalDAV and the web app's calendar.
# `mailauth` is mail authentication and the DNS it needs: the domains' DKIM
# keys and records, signing outgoing mail, checking inbound mail's SPF, DKIM,
# DMARC and ARC and sealing forwards (the SMTP sessions and sender, the CLI,
# the admin center).
LIBRARIES = {"types", "core", "mime", "send", "ical", "mailauth"}
ALLOWED = {
    "types": set(),
    "core": {"types"},
    "mime": {"types", "core"},
    "send": {"types", "core", "mime"},
    "ical": {"types", "core"},
    "mailauth": {"types", "core", "mime"},
    "store": {"types", "core"},
    **{p: LIBRARIES for p in PROTOCOLS},
    "server": LIBRARIES | {"store"} | PROTOCOLS,
    "cli": LIBRARIES | {"server"} | PROTOCOLS,
    "testkit": LIBRARIES | {"store", "server"} | PROTOCOLS,
    # The benchmarks use the testkit's loopback DNS server.
    "bench": LIBRARIES | {"store", "server", "testkit"} | PROTOCOLS,
}
# External crates the domain core must not use.
CORE_FORBIDDEN = {
    "rusqlite", "libsqlite3-sys", "tokio-postgres", "postgres", "deadpool-postgres", "sqlx",
    "hyper", "axum", "reqwest", "tower", "rustls", "tokio-rustls", "hickory-resolver",
    "smtp-proto", "imap-codec", "imap-types", "mail-parser", "mail-builder", "mail-send",
    "mail-auth", "quick-xml", "calcard", "tokio",
}


# Crates that must not touch a store trait (the one door is `core`).
DOOR_USERS = PROTOCOLS | {"exo", "cli", "send", "ical", "mailauth"}
STORE_TRAIT = re.compile(r"\b(DirectoryStore|MailStore|CalendarStore)\b|\bstore::Store\b|\bdyn Store\b|\bmailroom_store\b")


def store_trait_uses(crate_dir: pathlib.Path):
    """(file, line number, line) for each mention of a store trait in src/."""
    for path in sorted((crate_dir / "src").rglob("*.rs")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("//", 1)[0]
            if STORE_TRAIT.search(code):
                yield path, number, line.strip()


def main() -> int:
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"]
        if "--offline" in sys.argv else ["cargo", "metadata", "--format-version", "1", "--no-deps"]))
    problems = []
    names = set()
    for package in meta["packages"]:
        name = package["name"]
        if not name.startswith(PREFIX):
            continue
        short = name[len(PREFIX):]
        names.add(short)
        if short not in ALLOWED:
            problems.append(f"{name}: not in the dependency map of .ci/check-deps.py (add it, following DESIGN.md)")
            continue
        for dep in package["dependencies"]:
            dep_name, kind = dep["name"], dep["kind"]  # kind: None (normal), "dev", "build"
            if kind == "dev":
                continue
            if dep_name.startswith(PREFIX):
                target = dep_name[len(PREFIX):]
                # The benchmarks aren't shipped: they may use the testkit.
                if target == "testkit" and short != "bench":
                    problems.append(f"{name} -> {dep_name}: testkit is a dev-dependency only")
                elif target not in ALLOWED[short]:
                    problems.append(f"{name} -> {dep_name}: against the dependency direction of DESIGN.md")
            elif short == "core" and dep_name in CORE_FORBIDDEN:
                problems.append(f"{name} -> {dep_name}: core uses no network, HTTP, SQL or protocol crate")
    for package in meta["packages"]:
        short = package["name"][len(PREFIX):] if package["name"].startswith(PREFIX) else None
        if short in DOOR_USERS:
            crate_dir = pathlib.Path(package["manifest_path"]).parent
            for path, number, line in store_trait_uses(crate_dir):
                problems.append(f"{path}:{number}: {short} uses a store trait ({line}); go through core instead")
    for problem in problems:
        print(f"dependency check: {problem}", file=sys.stderr)
    if not problems:
        print(f"dependency check: {len(names)} crates follow DESIGN.md's direction")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
