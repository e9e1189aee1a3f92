"""The one exception type for data problems a user can fix."""


class DataError(RuntimeError):
    """A dataset could not be found, read, verified or batched.

    Messages say what was wrong, what was expected and what to do.
    """
