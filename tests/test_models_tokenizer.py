"""The tokenizer wrapper: trained here, saved and loaded, or read from a Hugging Face folder."""

from __future__ import annotations

import pytest

from sign2gpt.errors import CheckpointError, ConfigError
from sign2gpt.models.config import full_config, synth_config
from sign2gpt.models.tokenizer import TextTokenizer, check_compatible

PRESET_FULL = full_config()

SENTENCES = [
    "am tag wird es regnen",
    "über dem meer scheint die sonne",
    "im süden gibt es gewitter",
    "morgen wird es kälter",
] * 5


@pytest.fixture
def trained() -> TextTokenizer:
    return TextTokenizer.train(SENTENCES, vocab_size=80)


def test_trained_tokenizer_round_trips_text(trained):
    assert (trained.bos_id, trained.pad_id, trained.eos_id) == (0, 1, 2)
    assert trained.vocab_size <= 80
    ids = trained.encode("über dem meer wird es kälter")
    assert ids and min(ids) > 3  # no special tokens in encoded text
    assert trained.decode(ids) == "über dem meer wird es kälter"
    assert trained.decode([trained.bos_id, *ids, trained.eos_id]) == trained.decode(ids)


def test_save_and_load(trained, tmp_path):
    trained.save(tmp_path / "tok")
    loaded = TextTokenizer.load(tmp_path / "tok")
    assert (loaded.bos_id, loaded.eos_id, loaded.pad_id) == (0, 2, 1)
    assert loaded.vocab_size == trained.vocab_size
    assert loaded.encode("morgen regnen") == trained.encode("morgen regnen")


def test_hugging_face_folder_with_xglm_conventions(trained, tmp_path):
    transformers = pytest.importorskip("transformers")
    from tokenizers import processors

    backend = trained.backend
    # XGLM's tokenizer prepends </s> to every text: that is the decoder's start token.
    backend.post_processor = processors.TemplateProcessing(
        single="</s> $A", special_tokens=[("</s>", 2)]
    )
    hf = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>",
    )  # fmt: skip
    hf.save_pretrained(tmp_path / "hf")
    loaded = TextTokenizer.load(tmp_path / "hf")
    assert (loaded.bos_id, loaded.eos_id, loaded.pad_id) == (2, 2, 1)
    assert loaded.encode("am tag") == hf.encode("am tag", add_special_tokens=False)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        TextTokenizer.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="empty"):
        TextTokenizer.load(tmp_path / "empty")


def test_decoder_config_must_fit_the_tokenizer(trained):
    decoder = synth_config().decoder  # vocab 2000, ids 0/2/1 like our trained tokenizers
    check_compatible(trained, decoder)
    small = synth_config().decoder
    small.vocab_size = 10
    with pytest.raises(ConfigError, match="vocab_size 10"):
        check_compatible(trained, small)
    with pytest.raises(ConfigError, match="bos_id is 2"):
        check_compatible(trained, PRESET_FULL.decoder)
