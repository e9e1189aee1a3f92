"""Stability and anti-mode-collapse tricks for adversarial training, one concept per module.

They are switched on with ``model.*`` options (:class:`StabilityOptions`) of every family built on
:class:`~gankit.models.gan.AdversarialRecipe` whose options derive from it (``gan``, ``dcgan``,
``lsgan``); ``gankit list`` prints them with their papers (:data:`TRICKS`).
"""

from gankit.tricks.feature_matching import feature_matching_loss
from gankit.tricks.history import HistoricalAverage
from gankit.tricks.minibatch import MinibatchDiscrimination, add_minibatch_discrimination
from gankit.tricks.noise import add_instance_noise
from gankit.tricks.options import TRICKS, StabilityOptions
from gankit.tricks.pack import pack, packed_shape
from gankit.tricks.penalties import gradient_penalty, matching_aware_penalty, path_lengths, r1_penalty
from gankit.tricks.spectral import apply_spectral_norm
from gankit.tricks.unrolled import unrolled_critic
from gankit.tricks.vbn import VirtualBatchNorm, VirtualBatchNormGenerator

__all__ = ["TRICKS", "HistoricalAverage", "MinibatchDiscrimination", "StabilityOptions", "VirtualBatchNorm",
           "VirtualBatchNormGenerator", "add_instance_noise", "add_minibatch_discrimination", "apply_spectral_norm",
           "feature_matching_loss", "gradient_penalty", "matching_aware_penalty", "pack", "packed_shape", "path_lengths",
           "r1_penalty", "unrolled_critic"]
