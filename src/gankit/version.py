"""The package version, in a module of its own so that any layer can read it without importing the
package's front door (``gankit.load`` reaches up to :mod:`gankit.run`)."""

__version__ = "0.1.0"
