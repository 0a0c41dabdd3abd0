"""Networks of Sign2GPT as plain PyTorch modules (one file per part)."""

from sign2gpt.models.config import PRESETS, ModelConfig, model_config_from_dict
from sign2gpt.models.decoder import SignDecoder, build_decoder
from sign2gpt.models.prototype_head import PrototypeHead, PrototypeOutput
from sign2gpt.models.sign2gpt import Sign2GPT, count_parameters
from sign2gpt.models.sign_encoder import SignEncoder
from sign2gpt.models.spatial import SpatialBackbone
from sign2gpt.models.tokenizer import TextTokenizer

__all__ = [
    "PRESETS",
    "ModelConfig",
    "PrototypeHead",
    "PrototypeOutput",
    "Sign2GPT",
    "SignDecoder",
    "SignEncoder",
    "SpatialBackbone",
    "TextTokenizer",
    "build_decoder",
    "count_parameters",
    "model_config_from_dict",
]
