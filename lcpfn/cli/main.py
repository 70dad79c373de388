"""The ``lcpfn`` command line: ``lcpfn predict|sample|train|export|evaluate|bench``.

Each command is one module of ``lcpfn.cli`` with ``add_parser(commands)``, which
adds its subparser and sets ``run``, and ``run(args) -> int``. The dispatcher
reports the library's own errors (``LcpfnError``) and missing files that the
user named as one line and exit status 2; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lcpfn.cli import bench, evaluate, export, predict, sample, train
from lcpfn.errors import LcpfnError

COMMANDS = (predict, sample, train, export, evaluate, bench)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; ``args.run(args)`` runs the chosen one."""
    parser = argparse.ArgumentParser(prog="lcpfn", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``lcpfn ARGV`` (default: ``sys.argv[1:]``); returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(words)
    args.command_line = "lcpfn " + " ".join(words)  # recorded in result files
    try:
        return args.run(args)
    except LcpfnError as err:
        return _report(err)
    except FileNotFoundError as err:
        if not _names_a_typed_path(err, args, words):
            raise
        return _report(err)


def _report(err: Exception) -> int:
    print(f"lcpfn: error: {err}", file=sys.stderr)
    return 2


def _names_a_typed_path(
    err: FileNotFoundError, args: argparse.Namespace, words: list[str]
) -> bool:
    """Whether the missing file is one the user typed, or lies inside one
    (``--out report`` -> ``report/real_curves.md``, a model path + suffix)."""
    typed = set(words)
    given = []
    for name, value in vars(args).items():
        if name in ("command", "command_line"):
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v and v in typed:
                given.append(v)
    text = str(err.filename) if err.filename is not None else str(err)
    return any(v in text for v in given)


if __name__ == "__main__":
    raise SystemExit(main())
