"""Entry point: `python -m bot shell` runs the terminal chat."""

import sys

USAGE = """usage: python -m bot shell

  shell   the terminal chat on the embedded default (no token needed)"""


def main(argv: list[str]) -> int:
    if argv[:1] == ["shell"]:
        from bot.shell import main as shell

        shell()
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
