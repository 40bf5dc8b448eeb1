"""The `jaxtts` command.

Each subcommand is one function that takes its argparse parser, adds its arguments and returns
the handler to run; register it in `COMMANDS`. Its docstring's first line is its help. Handlers
raise `JaxTTSError` for user mistakes: `main` prints those as one line and exits with 2.
Import heavy modules (JAX, torch) inside handlers so that text commands start fast.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Sequence

from jaxtts.errors import JaxTTSError

Handler = Callable[[argparse.Namespace], int]


def normalize(parser: argparse.ArgumentParser) -> Handler:
    """Print text normalized for speech, or its phonemes or model ids."""
    parser.add_argument("text", nargs="?", help="text to convert (or use --stdin)")
    parser.add_argument("--stdin", action="store_true", help="convert each line of stdin to one output line")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--phonemes", action="store_true", help="print phonemes: {HH AH0 L OW1} {W ER1 L D}.")
    output.add_argument("--ids", action="store_true", help="print model input ids, space-separated")

    def run(args: argparse.Namespace) -> int:
        from jaxtts import text

        def ids(line: str) -> str:
            return " ".join(map(str, text.to_ids(line)))

        convert = ids if args.ids else text.to_phonemes if args.phonemes else text.normalize
        if args.stdin == (args.text is not None):
            parser.error("give either TEXT or --stdin")
        if args.stdin:
            return _filter_lines(convert)
        print(convert(args.text))
        return 0

    return run


COMMANDS: dict[str, Callable[[argparse.ArgumentParser], Handler]] = {
    "normalize": normalize,
}


def _filter_lines(convert: Callable[[str], str]) -> int:
    """One output line per stdin line, flushed at once so the command can serve as a pipe filter.

    A line that fails becomes an empty line plus a message on stderr; the exit status is then 2.
    """
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(encoding="utf-8", errors="replace", newline="\n")  # only "\n" ends a line
    failed = 0
    for number, line in enumerate(sys.stdin, 1):
        try:
            out = convert(line.removesuffix("\n").removesuffix("\r"))
        except JaxTTSError as e:
            out, failed = "", failed + 1
            print(f"jaxtts: line {number}: {_one_line(e)}", file=sys.stderr)
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
    return 2 if failed else 0


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jaxtts", description="FastPitch + HiFi-GAN text-to-speech in JAX.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, setup in COMMANDS.items():
        summary = (setup.__doc__ or "").strip().splitlines()[0]
        sub = commands.add_parser(name, help=summary, description=summary)
        sub.set_defaults(handler=setup(sub))
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    try:
        return args.handler(args)
    except JaxTTSError as e:
        print(f"jaxtts: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other filters do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
