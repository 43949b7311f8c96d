"""The command line: one module per command group.

Each module exposes ``register(subparsers)`` and sets ``func`` on its parsers; ``func``
only turns the arguments into a call of a use case in ``app`` (or ``storage``) and prints
what comes back.  Options that several commands share (dates, config, clusters, journal,
data source) are defined once in ``app.cli.args``; figures print through ``app.cli.output``.
"""

#: Modules that contribute subcommands, in the order ``--help`` lists them (main.py adds
#: the console's ``gui`` command after them).
COMMAND_MODULES: tuple[str, ...] = (
    "app.cli.tdi",
    "app.cli.pairs",
    "app.cli.convertible",
    "app.cli.journal",
    "app.cli.calendar",
    "app.cli.data_import",
    "app.cli.data",
    "app.cli.run",
    "app.cli.live_check",
    "app.cli.backtest",
    "app.cli.walkforward",
    "app.cli.sweep",
    "app.cli.audit",
    "app.cli.replay",
    "app.cli.terminal",
)
