"""The built-in families. :mod:`gankit.models` imports this module, so they are registered (in this
order, the order of ``gankit list``) before any recipe is looked up by name.

Real imports rather than module names handed to ``importlib``: the import graph that
``tests/test_structure.py`` checks then sees what the registry depends on. A new built-in family is
one more name here.
"""

# In the order of `gankit list`, not sorted: importing a module registers its families.
from gankit.models import gan, dcgan, cgan, acgan, sgan, infogan, pix2pix, cyclegan, progan, stylegan2, stackgan, gan1d  # noqa: F401, I001
