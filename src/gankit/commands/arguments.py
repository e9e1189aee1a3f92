"""Command-line arguments that several ``gankit`` commands share."""

# The positional argument of every command that reads a trained run (gankit.run.Run opens both kinds).
RUN_DIR_HELP = "a run directory, or one of its checkpoints/step_XXXXXXXX folders for that checkpoint"


def add_common_data(parser) -> None:
    """``--data-root``, for the commands that read a dataset."""
    parser.add_argument("--data-root", metavar="DIR", help="a folder with the dataset files; looked up first, "
                        "before $GANKIT_DATA, /usr/share/datasets and the cache")
