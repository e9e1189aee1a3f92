"""Historical averaging (Salimans et al. 2016, section 3.3).

Each player's loss gets the term ``w * ||theta - (1/t) sum_{i<t} theta[i]||^2``: a pull towards the
running average of its own past parameters, which damps the oscillations of gradient descent in a
game (the paper's fictitious-play motivation). The running average is recipe state: its buffers
are saved with every checkpoint, so a resumed run continues with the same average, bit for bit.
"""

from __future__ import annotations

import torch
from torch import nn


class HistoricalAverage(nn.Module):
    """The running mean of a network's parameters over the steps seen so far.

    Parameters
    ----------
    net : the network whose parameters are averaged; only their shapes are read here (the module
        does not hold the network, so its weights are not saved twice).
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        self.size = 0
        for i, p in enumerate(net.parameters()):
            self.size += 1
            self.register_buffer(f"mean_{i}", torch.zeros_like(p, memory_format=torch.contiguous_format))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def means(self) -> list[torch.Tensor]:
        return [getattr(self, f"mean_{i}") for i in range(self.size)]

    def penalty(self, net: nn.Module) -> torch.Tensor:
        """``sum ||p - mean of past p||^2`` over the parameters (0 at the first step), then add
        the current parameters to the average. Call it once per optimisation step of ``net``."""
        params = list(net.parameters())
        means = self.means()
        if len(params) != len(means):
            raise RuntimeError(f"historical averaging was built for {len(means)} parameters, "
                               f"the network has {len(params)}")
        first = bool(self.count == 0)
        total = params[0].new_zeros((), dtype=torch.float32)
        if not first:
            total = sum(((p.float() - m.float()) ** 2).sum() for p, m in zip(params, means))
        with torch.no_grad():
            self.count += 1
            for p, m in zip(params, means):
                m.add_((p.detach() - m) / self.count.to(m.dtype))
        return total
