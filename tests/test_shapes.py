"""The captioned `shapes` dataset: its reader is exact on real images, the held-out (colour, shape)
pairs never reach the training split, and every caption states its image's attributes."""

import numpy as np
import pytest

from gankit.data import load_dataset
from gankit.data.errors import DataError
from gankit.data.shapes import (COLOURS, FIELDS, HELD_OUT_PAIRS, KOREAN, SHAPES, SIZES, SYNONYMS, load_shapes,
                                read_shapes, shapes_captions, shapes_swapped_captions, swapped)


@pytest.fixture(scope="module")
def test_split():
    return load_shapes("test")


def test_the_reader_reads_every_attribute_of_1000_real_images_exactly(test_split):
    attributes, novel = test_split.extra["attributes"], test_split.extra["novel"].astype(bool)
    rows = np.concatenate([np.flatnonzero(~novel)[:500], np.flatnonzero(novel)[:500]])
    read = np.stack([read_shapes(image) for image in test_split.x[rows]])
    assert (attributes[rows, 0] == 2).any() and (attributes[rows, 0] == 1).any()
    assert np.array_equal(read, attributes[rows])


def test_the_reader_is_exact_at_64_pixels_too():
    data = load_shapes("test", 64)
    assert data.x.shape[1:] == (3, 64, 64)
    read = np.stack([read_shapes(image) for image in data.x[4900:5100]])
    assert np.array_equal(read, data.extra["attributes"][4900:5100])


def test_the_reader_sees_nothing_in_a_black_image_and_reads_a_repainted_object(test_split):
    assert read_shapes(np.zeros((3, 32, 32), np.uint8))[0] == 0
    rows = test_split.extra["attributes"]
    i = int(np.flatnonzero((rows[:, 0] == 1) & (rows[:, 1] != COLOURS.index("blue")))[0])
    image = test_split.x[i].copy()
    mask = (image != 0).any(0)
    image[:, mask] = np.array([40, 90, 255], np.uint8)[:, None]  # the palette's blue
    expected = rows[i].copy()
    expected[1] = COLOURS.index("blue")
    assert np.array_equal(read_shapes(image), expected)


def pairs(attributes):
    out = set()
    for row in attributes:
        for i in range(int(row[0])):
            out.add((COLOURS[row[1 + 3 * i]], SHAPES[row[2 + 3 * i]]))
    return out


def test_held_out_pairs_never_occur_in_training_and_fill_half_the_test_split(test_split):
    train = load_shapes("train")
    assert not pairs(train.extra["attributes"]) & set(HELD_OUT_PAIRS)
    assert train.extra["novel"].sum() == 0
    novel = test_split.extra["novel"].astype(bool)
    assert novel.sum() == len(test_split) // 2
    assert pairs(test_split.extra["attributes"][novel]) & set(HELD_OUT_PAIRS) == set(HELD_OUT_PAIRS)
    for row in test_split.extra["attributes"][novel]:
        assert pairs([row]) & set(HELD_OUT_PAIRS)
    assert not pairs(test_split.extra["attributes"][~novel]) & set(HELD_OUT_PAIRS)


def parse_english(text):
    """(objects in the order named, relation words) of an English caption, by its vocabulary."""
    words = text.replace("to the ", "").replace("on top of", "above").split()
    objects, relation, current = [], None, {}
    sizes = {w: s for s in SIZES for w in SYNONYMS[s]}
    for word in words:
        if word in sizes:
            current["size"] = sizes[word]
        elif word in COLOURS:
            current["colour"] = word
        elif word in SHAPES:
            current["shape"] = word
            objects.append(current)
            current = {}
        elif word in ("left", "right", "above", "over", "below", "under"):
            relation = word
    return objects, relation


def states(row, text) -> bool:
    """Whether an English caption names the objects of an attribute row with their relation."""
    truth = [{"colour": COLOURS[row[1 + 3 * i]], "shape": SHAPES[row[2 + 3 * i]], "size": SIZES[row[3 + 3 * i]]}
             for i in range(int(row[0]))]
    objects, relation = parse_english(text)
    if len(truth) == 1:
        return objects == truth and relation is None
    first_is_0 = objects == truth
    if not (first_is_0 or objects == truth[::-1]):
        return False
    expected = {(0, True): ("left",), (0, False): ("right",), (1, True): ("above", "over"),
                (1, False): ("below", "under")}[(int(row[7]), first_is_0)]
    return relation in expected


def test_every_english_caption_states_its_image_with_the_right_relation(test_split):
    captions = shapes_captions("test", "en")
    for row, texts in zip(test_split.extra["attributes"][::50], captions[::50]):
        for text in texts:
            assert states(row, text), (text, row)


def test_swapped_captions_state_the_objects_in_each_others_places_and_not_the_image(test_split):
    swapped_texts = shapes_swapped_captions("test", "en")
    assert swapped_texts.shape == shapes_captions("test", "en").shape
    for row, texts in zip(test_split.extra["attributes"][::50], swapped_texts[::50]):
        if row[0] == 1:
            assert (texts == "").all()
            continue
        assert swapped(row)[7] == row[7] and sorted(swapped(row)[1:7:3]) == sorted(row[1:7:3])
        for text in texts:
            assert states(swapped(row), text) and not states(row, text), (text, row)
    korean = shapes_swapped_captions("test", "ko")
    assert ((korean == "") == (swapped_texts == "")).all()
    from gankit.text.captions import swapped_captions
    both = swapped_captions("shapes", "test", "both")  # aligned with captions(..., "both"): English, then Korean
    assert np.array_equal(both, np.concatenate([swapped_texts, korean], 1))
    assert swapped_captions("emoji", "test", "en") is None  # emoji cannot say which name describes another image


def test_korean_captions_name_the_same_objects(test_split):
    captions = shapes_captions("test", "ko")
    for row, texts in zip(test_split.extra["attributes"][::97], captions[::97]):
        for text in texts:
            for i in range(int(row[0])):
                for column, names in ((1, COLOURS), (2, SHAPES), (3, SIZES)):
                    assert KOREAN[names[row[column + 3 * i]]] in text.split(), text


def test_shapes_load_by_name_and_refuse_other_sizes():
    data = load_dataset("shapes", "test", size=32)
    assert data.x.shape == (10_000, 3, 32, 32) and data.num_classes == 5
    assert data.extra["attributes"].shape == (10_000, len(FIELDS))
    with pytest.raises(DataError, match="32 or 64"):
        load_dataset("shapes", "test", size=48)
    with pytest.raises(DataError, match="en, ko"):
        shapes_captions("test", "fr")
