"""Write the ``--help`` text of the ``skanime`` command and its subcommands.

At the start of every build, ``python -m skanime [COMMAND] --help`` is run
for the command and each name in ``cli_help_commands``, and the output is
saved as ``<cli_help_dir>/skanime[-COMMAND].txt`` for ``literalinclude``. The
text is thus always that of the installed version.
"""

import os
import subprocess
import sys
from pathlib import Path


def generate(app):
    target = Path(app.srcdir) / app.config.cli_help_dir
    target.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COLUMNS": "80"}
    for command in [None, *app.config.cli_help_commands]:
        args = [sys.executable, "-m", "skanime"] + ([command] if command else [])
        result = subprocess.run(
            [*args, "--help"], capture_output=True, text=True, env=env, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(args[2:])} --help` failed:\n{result.stderr}"
            )
        out = target / ("skanime" + (f"-{command}" if command else "") + ".txt")
        text = result.stdout.rstrip() + "\n"
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            out.write_text(text, encoding="utf-8")


def setup(app):
    app.add_config_value("cli_help_commands", [], "env")
    app.add_config_value("cli_help_dir", "gen_modules/cli", "env")
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
