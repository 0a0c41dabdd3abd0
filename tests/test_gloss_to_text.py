"""The gloss-to-text reference: gloss sequences from the corpus CSV into the stage-2 decoder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sign2gpt.checkpoint import load_checkpoint
from sign2gpt.data.readers.phoenix import corpus_file
from sign2gpt.errors import CheckpointError, DataError
from sign2gpt.generation import GenerationSettings
from sign2gpt.models.config import model_config_from_dict
from sign2gpt.run_config import RunConfig, run_config_from_dict
from sign2gpt.synthbench.gloss_to_text import (
    GlossVocab,
    build_gloss_to_text,
    collate_glosses,
    evaluate_gloss_to_text,
    load_gloss_to_text,
    read_gloss_sentences,
    train_gloss_to_text,
)
from sign2gpt.synthbench.language_model import LMTraining, train_language_model
from sign2gpt.train.run import start_run

# (glosses in sign order, translation): different order and length, as in the real corpus.
PAIRS = [
    ("MORGEN NORD REGEN", "morgen regnet es im norden"),
    ("HEUTE SUED SONNE", "heute scheint im süden die sonne"),
    ("MORGEN SUED REGEN", "morgen regnet es im süden"),
    ("HEUTE NORD SONNE", "heute scheint im norden die sonne"),
    ("HEUTE NORD REGEN", "heute regnet es im norden"),
    ("MORGEN SUED SONNE", "morgen scheint im süden die sonne"),
]


def write_corpus(root: Path) -> None:
    """Corpus CSVs only (the reference never looks at frames); dev holds an unknown gloss."""
    splits = {"train": PAIRS, "dev": [*PAIRS[:2], ("MORGEN OST SONNE", "morgen im osten sonne")]}
    for split, pairs in splits.items():
        rows = ["name|video|start|end|speaker|orth|translation"] + [
            f"{split}_{i}|{split}_{i}/1/*.png|-1|-1|Signer01|{g}|{t}"
            for i, (g, t) in enumerate(pairs)
        ]
        path = corpus_file(root, split)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> RunConfig:
    """Corpus + stand-in LM, built once for the module (the LM takes most of the time)."""
    tmp_path = tmp_path_factory.mktemp("gloss_to_text")
    torch.manual_seed(0)
    write_corpus(tmp_path / "corpus")
    # As in the benchmark: a stand-in LM (and tokenizer) trained on the translations, frozen.
    tiny = model_config_from_dict({"preset": "tiny"}).decoder
    lm = train_language_model(
        [t for _, t in PAIRS],
        tiny,
        tmp_path / "lm",
        LMTraining(epochs=150, batch_size=6, lr=1e-2),
        progress=False,
    )
    decoder = {"vocab_size": lm.vocab_size, "pretrained": str(lm.pretrained)}
    train = {"epochs": 2, "lr": 3e-3, "warmup_epochs": 0, "precision": "32-true",
             "accelerator": "cpu", "bleu_every": 2, "num_beams": 2, "max_new_tokens": 8,
             "checkpoint_every_steps": 0}  # fmt: skip
    settings = {
        "name": "g2t",
        "out_dir": str(tmp_path / "runs"),
        "model": {"preset": "tiny", "stage": "translate", "decoder": decoder},
        "data": {"format": "phoenix14t", "root": str(tmp_path / "corpus"), "batch_size": 3},
        "train": train,
    }
    return run_config_from_dict(settings)


def test_reads_the_orth_column_and_maps_unknown_glosses_to_zero(config: RunConfig):
    train = read_gloss_sentences(config.data.root, "train")
    assert train[0].glosses == ("MORGEN", "NORD", "REGEN")
    assert train[0].text == "morgen regnet es im norden"
    vocab = GlossVocab.from_sentences(train)
    assert len(vocab) == 7  # <unk> + 6 glosses
    batch = collate_glosses(read_gloss_sentences(config.data.root, "dev")[1:], vocab)
    # Rows: HEUTE SUED SONNE, MORGEN OST SONNE (OST never seen in training -> 0).
    assert batch.gloss_ids[1, 1].item() == 0
    assert batch.gloss_ids[0].tolist() == vocab.encode(["HEUTE", "SUED", "SONNE"])
    assert batch.mask.all()
    with pytest.raises(DataError, match="test"):
        read_gloss_sentences(config.data.root, "test")


def test_only_embedding_and_decoder_adapters_train_and_the_loss_falls(config: RunConfig):
    torch.manual_seed(0)
    train = read_gloss_sentences(config.data.root, "train")
    vocab = GlossVocab.from_sentences(train)
    module = build_gloss_to_text(config, vocab)
    trainable = {n for n, p in module.named_parameters() if p.requires_grad}
    assert "model.gloss_embedding.weight" in trainable
    assert any(".lora" in n for n in trainable) and any("gate" in n for n in trainable)
    assert not any(n.endswith("embed_tokens.weight") for n in trainable)  # the LM stays frozen
    assert any(n.startswith("model.decoder.sign_proj.") for n in trainable)
    batch = collate_glosses(train, vocab)
    optimizer = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=3e-2)
    losses = []
    for _ in range(50):
        loss, _ = module(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    # The first loss is the plain LM's (gates closed): the glosses must tell it more.
    assert sum(losses[-5:]) / 5 < 0.8 * losses[0], losses
    gates = [p for n, p in module.named_parameters() if n.endswith(".gate")]
    assert any((g > 0).any() for g in gates)  # cross-attention to the glosses opened


def test_trains_with_the_engine_and_evaluates_from_the_checkpoint(config: RunConfig):
    run = start_run(config)
    progress = train_gloss_to_text(config, run)
    assert progress.global_step == 2 * 2  # 6 sentences, batch 3, 2 epochs
    assert "bleu4" in progress.history[-1]
    best = run.checkpoint("best")
    assert load_checkpoint(best).meta["stage"] == "gloss_to_text"
    result = evaluate_gloss_to_text(best, "dev", generation=GenerationSettings(2, 8))
    assert result["sentences"] == 3
    assert {"bleu1", "bleu4", "rouge_l"} <= set(result)
    hypotheses = Path(result["files"]["hypotheses"]).read_text(encoding="utf-8")
    assert len(hypotheses.splitlines()) == 3
    module, vocab, _ = load_gloss_to_text(best)
    assert not module.training and len(vocab) == 7
    with pytest.raises(CheckpointError, match="not a gloss-to-text"):
        stage2_like = run.root / "other.safetensors"
        from sign2gpt.checkpoint import Checkpoint, save_checkpoint

        save_checkpoint(stage2_like, Checkpoint(model={}, meta={"stage": "translate"}))
        load_gloss_to_text(stage2_like)
