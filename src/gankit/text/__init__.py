"""Text for text-to-image models: captions of datasets, a vocabulary, sentence encoders.

:mod:`~gankit.text.captions` gives a dataset's captions (``shapes`` in English and Korean);
:class:`~gankit.text.encoder.CaptionEncoder` is gankit's own small recurrent sentence encoder,
trained on a dataset's (image, caption) pairs with a contrastive objective
(:mod:`~gankit.text.contrastive`), as StackGAN's char-CNN-RNN encoder was; it works for any
language whose words are separated by spaces, Korean included. :mod:`~gankit.text.store` trains
it once per dataset and keeps it in gankit's cache.
"""
