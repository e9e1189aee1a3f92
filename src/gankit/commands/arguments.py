"""Command-line arguments that several ``gankit`` commands share."""

# The positional argument of every command that reads a trained run (gankit.run.Run opens both kinds).
RUN_DIR_HELP = "a run directory, or one of its checkpoints/step_XXXXXXXX folders for that checkpoint"
