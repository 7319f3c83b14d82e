#!/usr/bin/env python3
"""docs/CLI.md against the real `--help` (SPEC §16): walks `lockbox --help` and every
subcommand's `--help`, and fails when a command or an option exists on one side only.

In docs/CLI.md a command is a heading "### `lockbox PATH`" and its options are the flags in the
first cell of the table rows of its section; the global options are the table of "## Global options".
Usage: cli_docs_test.py LOCKBOX_BINARY DOCS_CLI_MD
"""
import re
import subprocess
import sys

FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])")


def help_of(lockbox, path):
    result = subprocess.run([lockbox, *path, "--help"], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        sys.exit("lockbox %s --help exited %d" % (" ".join(path), result.returncode))
    return result.stdout


def parse_help(text):
    """(subcommand names, option names) of one --help page."""
    section, subs, opts = None, [], set()
    for line in text.splitlines():
        header = re.match(r"^(\w[\w ]*):$", line)
        if header:
            section = header.group(1)
            continue
        entry = re.match(r"^  (\S+)", line)
        if not entry:
            continue
        if section == "Subcommands":
            subs.append(entry.group(1))
        elif section == "Options" and entry.group(1).startswith("-"):
            for name in entry.group(1).split(","):
                opts.add(re.sub(r"\{.*\}$", "", name))
    return subs, opts


def walk(lockbox):
    commands = {}
    pending = [[]]
    while pending:
        path = pending.pop()
        subs, opts = parse_help(help_of(lockbox, path))
        commands[" ".join(path)] = opts
        pending.extend(path + [s] for s in subs)
    return commands


def parse_doc(text):
    """{command path: flags} of docs/CLI.md; the global options under the key ""."""
    sections, current = {}, None
    for line in text.splitlines():
        heading = re.match(r"^### `lockbox ([a-z -]+)`\s*$", line)
        if heading:
            current = heading.group(1).strip()
            if current in sections:
                sys.exit("docs/CLI.md: `lockbox %s` is described twice" % current)
            sections[current] = set()
            continue
        if line.startswith("## "):
            current = "" if line.strip() == "## Global options" else None
            if current == "":
                sections[""] = set()
            continue
        if current is not None and line.startswith("| `"):
            first_cell = line.split("|")[1]
            sections[current].update(FLAG.findall(first_cell))
    return sections


def main():
    lockbox, doc_path = sys.argv[1], sys.argv[2]
    helps = walk(lockbox)
    with open(doc_path, encoding="utf-8") as f:
        docs = parse_doc(f.read())
    problems = []
    for path in sorted(set(helps) - set(docs)):
        problems.append("`lockbox %s` is in --help but not in docs/CLI.md" % path)
    for path in sorted(set(docs) - set(helps)):
        problems.append("docs/CLI.md describes `lockbox %s`, which --help does not list" % path)
    for path in sorted(set(helps) & set(docs)):
        own = helps[path] - ({"-h", "--help"} if path else set())
        where = "lockbox %s" % path if path else "the global options"
        for flag in sorted(own - docs[path]):
            problems.append("%s: %s is in --help but not in docs/CLI.md" % (where, flag))
        for flag in sorted(docs[path] - own):
            problems.append("%s: docs/CLI.md lists %s, which --help does not" % (where, flag))
    for p in problems:
        print("FAIL " + p)
    if not problems:
        print("docs/CLI.md matches --help: %d commands, %d options"
              % (len(helps), sum(len(v) for v in helps.values())))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
