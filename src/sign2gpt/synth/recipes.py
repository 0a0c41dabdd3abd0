"""Each gloss's fixed sign recipe, derived from a stable hash of its name.

A recipe picks one value from each of five small inventories (hand shape, location, movement,
one or two hands, face cue). Glosses that share parts of a recipe look alike, as in real signing,
but no two glosses of one vocabulary share the whole recipe: a collision moves the later gloss
(in hash order) along its own deterministic probe sequence to the next free recipe.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable

# The inventories. Their geometry lives in `handshapes.py` and `motion.py`; only names here.
HAND_SHAPES = (
    "fist", "flat", "five", "index", "v", "w", "y", "l", "thumb", "claw", "pinky", "c",
)
LOCATIONS = (
    "forehead", "chin", "cheek", "temple", "chest", "breast", "shoulder", "belly", "low_side",
    "high_side",
)
MOVEMENTS = ("hold", "down", "sideways", "circle", "shake", "arc", "tap", "twist")
HANDS = (1, 2)
FACE_CUES = ("neutral", "open", "round", "wide", "brows", "tilt")

# What a pose model's hand and face landmarks would tell besides the joints, per frame: the
# stand-in ViT learns to read them (`keypoints/<split>.cues.npy`, columns in this order).
CUES = {
    "dominant_hand_shape": HAND_SHAPES,
    "nondominant_hand_shape": HAND_SHAPES,
    "face_cue": FACE_CUES,
}

NUM_RECIPES = len(HAND_SHAPES) * len(LOCATIONS) * len(MOVEMENTS) * len(HANDS) * len(FACE_CUES)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one gloss is signed: indices into the inventories above."""

    hand_shape: int
    location: int
    movement: int
    two_handed: bool
    face: int

    def describe(self) -> dict[str, str | int]:
        """Human-readable form (for `synthsign.json` and debugging)."""
        return {
            "hand_shape": HAND_SHAPES[self.hand_shape],
            "location": LOCATIONS[self.location],
            "movement": MOVEMENTS[self.movement],
            "hands": 2 if self.two_handed else 1,
            "face": FACE_CUES[self.face],
        }


def recipe_from_code(code: int) -> Recipe:
    """Decode an integer in [0, NUM_RECIPES) into a recipe (mixed-radix digits)."""
    code, hand_shape = divmod(code, len(HAND_SHAPES))
    code, location = divmod(code, len(LOCATIONS))
    code, movement = divmod(code, len(MOVEMENTS))
    code, hands = divmod(code, len(HANDS))
    face = code % len(FACE_CUES)
    return Recipe(hand_shape, location, movement, HANDS[hands] == 2, face)


def _stable_hash(text: str) -> int:
    # Python's hash() is salted per process; blake2b is the same everywhere, forever.
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _probe(gloss: str, attempt: int) -> int:
    """The `attempt`-th candidate recipe code of a gloss (attempt 0 is its natural recipe)."""
    key = gloss if attempt == 0 else f"{gloss}#{attempt}"
    return _stable_hash(key) % NUM_RECIPES


def assign_recipes(vocabulary: Iterable[str]) -> dict[str, Recipe]:
    """Give every gloss of `vocabulary` a recipe; no two glosses get the same one.

    The result depends only on the set of glosses (not their order), so the same vocabulary
    always gets the same recipes.

    Args:
        vocabulary: gloss names (duplicates are ignored).
    """
    glosses = sorted(set(vocabulary), key=lambda g: (_stable_hash(g), g))
    if len(glosses) > NUM_RECIPES:
        raise ValueError(f"{len(glosses)} glosses but only {NUM_RECIPES} distinct recipes exist")
    taken: set[int] = set()
    recipes: dict[str, Recipe] = {}
    for gloss in glosses:
        attempt = 0
        while (code := _probe(gloss, attempt)) in taken:
            attempt += 1
        taken.add(code)
        recipes[gloss] = recipe_from_code(code)
    return dict(sorted(recipes.items()))
