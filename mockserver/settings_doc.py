"""The settings table as people read it: the flags and ``--help`` of ``mockserver serve``
and the README's table, both made from ``mockserver.settings.TABLE``."""

from __future__ import annotations

import argparse
from pathlib import Path

from mockserver.settings import FALSE_WORDS, TABLE, TRUE_WORDS

README_START = "<!-- settings table: generated from mockserver/settings.py TABLE by " \
               "`python -m mockserver.settings_doc README.md`; edit the table, not this -->"
README_END = "<!-- end of settings table -->"


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per row that has one, its help made of the row's meaning, variable, config
    key and default."""
    for row in TABLE:
        if row.flag is None:
            continue
        where = f"env {row.env}" + (f", config {row.config}" if row.config else "")
        help_text = f"{row.meaning} (default {row.default}; {where})"
        dest = row.name
        if row.kind == "switch" and row.default == "true":
            parser.add_argument(row.flag, dest=dest, action=argparse.BooleanOptionalAction,
                                default=None, help=help_text)
        elif row.kind == "switch":
            parser.add_argument(row.flag, dest=dest, action="store_true", default=None,
                                help=help_text)
        else:
            parser.add_argument(row.flag, dest=dest, metavar=row.metavar, help=help_text,
                                action="append" if row.kind == "repeat" else "store")


def settings_epilog() -> str:
    config_only = [row for row in TABLE if row.flag is None]
    lines = ["config file only:"]
    lines += [f"  {row.config:<16} {row.meaning}" for row in config_only]
    lines.append(f"boolean variables take {'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS[:-1])}")
    return "\n".join(lines)


def markdown_table() -> str:
    def cell(value: str | None) -> str:
        return f"`{value}`" if value else "-"

    lines = ["| flag | environment variable | config key | default | meaning |",
             "| --- | --- | --- | --- | --- |"]
    for row in TABLE:
        flag = row.flag
        if flag and row.kind == "switch" and row.default == "true":
            flag = f"--[no-]{flag[2:]}"
        elif flag and row.kind != "switch":
            flag = f"{flag} {row.metavar}"
        cells = [cell(flag), cell(row.env), cell(row.config), row.default, row.meaning]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def readme_with_table(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the current table."""
    head, found, rest = readme.partition(README_START)
    _, found_end, tail = rest.partition(README_END)
    if not found or not found_end:
        raise ValueError("the README has no settings table markers")
    return f"{head}{README_START}\n{markdown_table()}\n{README_END}{tail}"


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 2:
        target = Path(sys.argv[1])
        target.write_text(readme_with_table(target.read_text()))
    else:
        print(markdown_table())
