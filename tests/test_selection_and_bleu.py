"""Checkpoint selection and BLEU conventions (issue 18, items 12, 13, 17): macro vs micro
gloss F1, teacher-forced argmax BLEU, and sacrebleu under each tokenisation / smoothing."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from sacrebleu.metrics import BLEU

from sign2gpt.cli import main
from sign2gpt.generation import GenerationSettings
from sign2gpt.metrics import BleuConvention, corpus_bleu, split_characters, translation_scores
from sign2gpt.run_config import load_run_config
from sign2gpt.synthbench.language_model import IGNORE
from sign2gpt.train.pretrain_stage import PretrainTask, gloss_f1, macro_f1
from sign2gpt.train.translate_stage import TranslateTask, teacher_forced_texts

HYPS = ["am tag regnet es , morgen sonne .", "hallo, welt!", "nordwind"]
REFS = ["am tag regnet es stark .", "hallo , welt !", "im norden wind"]


def sacrebleu_direct(hyps, refs, order, tokenize, smooth):
    extra = {"smooth_value": 0.0} if smooth == "floor" else {}
    bleu = BLEU(tokenize=tokenize, smooth_method=smooth, max_ngram_order=order, force=True,
                **extra)  # fmt: skip
    return bleu.corpus_score(hyps, [refs]).score


@pytest.mark.parametrize("tokenize", ["13a", "none", "zh"])
@pytest.mark.parametrize("smooth", ["exp", "floor"])
def test_bleu_equals_sacrebleu_called_directly_under_each_convention(tokenize, smooth):
    scores, signature = corpus_bleu(HYPS, REFS, "de", BleuConvention(tokenize, smooth))
    for n in range(1, 5):
        assert scores[f"bleu{n}"] == pytest.approx(
            sacrebleu_direct(HYPS, REFS, n, tokenize, smooth), abs=1e-9
        )
    assert f"tok:{tokenize}" in signature and f"smooth:{smooth}" in signature


def test_char_tokenisation_splits_characters_then_nothing_else():
    hyps, refs = ["我今天很好。"], ["我 今天 不 好。"]
    scores, signature = corpus_bleu(hyps, refs, "de", BleuConvention("char", "floor"))
    direct = [split_characters(t) for t in hyps], [split_characters(t) for t in refs]
    for n in range(1, 5):
        assert scores[f"bleu{n}"] == pytest.approx(sacrebleu_direct(*direct, n, "none", "floor"))
    assert signature.endswith("|chars")
    # "auto" is char for Chinese (the CSL-Daily convention), 13a for any other language.
    assert BleuConvention().resolved_tokenize("zh") == "char"
    assert BleuConvention().resolved_tokenize("de") == "13a"


def test_conventions_differ_where_they_should():
    # 13a splits "hallo, welt!" into the reference's tokens; whitespace tokenisation does not.
    exp_13a = translation_scores(["hallo, welt!"], ["hallo , welt !"])
    none = translation_scores(["hallo, welt!"], ["hallo , welt !"],
                              convention=BleuConvention("none"))  # fmt: skip
    assert exp_13a["bleu4"] == pytest.approx(100.0) and none["bleu1"] < 100.0
    # No 4-gram matches: exp smoothing keeps BLEU-4 above 0, floor 0 (signjoey) gives 0.
    hyps, refs = ["a b c x d e"], ["a b c y d e"]  # 4-grams: 0 of 3 match
    exp = translation_scores(hyps, refs)
    floor = translation_scores(hyps, refs, convention=BleuConvention("none", "floor"))
    assert exp["bleu4"] > 0 and floor["bleu4"] == 0.0
    assert floor["bleu3"] == pytest.approx(100 * (5 / 6 * 3 / 5 * 1 / 4) ** (1 / 3))
    with pytest.raises(ValueError, match="tokenize"):
        BleuConvention("intl")


def test_score_command_takes_tokenize_and_smooth(tmp_path, capsys):
    hyp, ref = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    hyp.write_text("\n".join(HYPS) + "\n", encoding="utf-8")
    ref.write_text("\n".join(REFS) + "\n", encoding="utf-8")
    results = {}
    for tokenize, smooth in (("13a", "exp"), ("none", "floor")):
        argv = ["score", "--hyp", str(hyp), "--ref", str(ref), "--json",
                "--tokenize", tokenize, "--smooth", smooth]  # fmt: skip
        assert main(argv) == 0
        results[tokenize] = json.loads(capsys.readouterr().out)
        assert results[tokenize]["bleu4"] == pytest.approx(
            sacrebleu_direct(HYPS, REFS, 4, tokenize, smooth)
        )
    assert results["13a"]["bleu1"] != results["none"]["bleu1"]
    with pytest.raises(SystemExit):
        main(["score", "--hyp", str(hyp), "--ref", str(ref), "--smooth", "add-k"])
    assert "--smooth" in capsys.readouterr().err


def test_paper_configs_use_the_authors_bleu_and_selection():
    phoenix = load_run_config("configs/phoenix14t/translate.yaml").train
    assert (phoenix.bleu_tokenize, phoenix.bleu_smooth) == ("none", "floor")
    assert phoenix.pretrain_selection == "macro_f1"
    assert phoenix.translate_selection == "beam_bleu"  # ours on purpose (issue 18, item 13)
    csl = load_run_config("configs/csl-daily/pretrain.yaml").train
    assert (csl.bleu_tokenize, csl.bleu_smooth, csl.pretrain_selection) == (
        "char", "floor", "macro_f1")  # fmt: skip
    synth = load_run_config("configs/synth-small/translate.yaml").train
    assert (synth.bleu_tokenize, synth.bleu_smooth, synth.translate_selection) == (
        "auto", "exp", "beam_bleu")  # fmt: skip


class FixedScores:
    """A stand-in PretrainModule: fixed scores per sentence, targets from a table."""

    def __init__(self, scores: dict[str, list[float]], targets: dict[str, list[int]], k: int):
        self.table, self.targets = scores, targets
        self.vocab = SimpleNamespace(target_counts=lambda: [1] * k)  # a PseudoGlossVocab stand-in
        self.k = k

    def scores(self, batch):
        return torch.tensor([self.table[t] for t in batch.texts])

    def multi_hot(self, texts):
        out = torch.zeros(len(texts), self.k)
        for i, t in enumerate(texts):
            out[i, self.targets[t]] = 1.0
        return out


def test_macro_f1_differs_from_micro_on_a_constructed_example():
    # Gloss 0 is common and always found; gloss 1 is rare and always missed; gloss 2 never
    # occurs in the targets (left out of the macro mean, as the authors' ClassF1Score).
    targets = {f"s{i}": [0] for i in range(4)} | {"r": [0, 1]}
    scores = {f"s{i}": [0.9, 0.1, 0.0] for i in range(4)} | {"r": [0.9, 0.2, 0.0]}
    module = FixedScores(scores, targets, k=3)
    batches = [SimpleNamespace(texts=["s0", "s1", "r"]), SimpleNamespace(texts=["s2", "s3"])]
    result = gloss_f1(module, batches, threshold=0.5)
    # Micro: tp 5, fp 0, fn 1 -> F1 = 10 / 11. Macro: gloss 0 F1 1, gloss 1 F1 0 -> 0.5.
    assert result["gloss_f1"] == pytest.approx(10 / 11)
    assert result["gloss_macro_f1"] == pytest.approx(0.5)
    tp, fp, fn = torch.tensor([2.0, 1.0, 0.0]), torch.tensor([0.0, 1.0, 3.0]), torch.zeros(3)
    assert macro_f1(tp, fp, fn) == pytest.approx((1.0 + 1 / 1.5) / 2)  # gloss 2: no targets
    assert macro_f1(torch.zeros(2), torch.ones(2), torch.zeros(2)) == 0.0
    assert PretrainTask(module, batches, 0.5, "macro_f1").selection_metric == "gloss_macro_f1"
    assert PretrainTask(module, batches, 0.5).selection_metric == "gloss_f1"


class CharTokenizer:
    eos_id = 0

    def decode(self, ids):
        return " ".join(chr(ord("a") + i - 1) for i in ids)


def test_teacher_forced_texts_take_the_argmax_on_target_positions_up_to_eos():
    # Row 0: targets at 4 positions, the argmax says b, c, EOS, d -> "b c".
    # Row 1: 2 target positions then padding whose argmax (e) must be ignored.
    best = torch.tensor([[2, 3, 0, 4], [1, 1, 5, 5]])
    logits = torch.nn.functional.one_hot(best, 6).float()  # (B, L, V)
    labels = torch.tensor([[2, 3, 4, 0], [1, 0, IGNORE, IGNORE]])
    assert teacher_forced_texts(logits, labels, CharTokenizer()) == ["b c", "a a"]


class TeacherForcedStub(torch.nn.Module):
    """A TranslateModule stand-in whose teacher-forced argmax equals the reference."""

    tokenizer = CharTokenizer()

    def teacher_forced(self, batch):
        ids = [[ord(w) - ord("a") + 1 for w in t.split()] + [0] for t in batch.texts]
        length = max(map(len, ids))
        labels = torch.full((len(ids), length), IGNORE)
        for i, row in enumerate(ids):
            labels[i, : len(row)] = torch.tensor(row)
        logits = torch.nn.functional.one_hot(labels.clamp(min=0), 30).float()
        return logits, labels

    def with_other_video(self, batch):
        """Right with the own video; another video's makes every token one id off."""
        logits, labels = self.teacher_forced(batch)
        return logits, logits.roll(1, dims=-1), labels


def test_teacher_forced_selection_scores_every_validation_without_generating():
    dev = [SimpleNamespace(texts=["a b c d e", "b c d e f"])]
    task = TranslateTask(
        TeacherForcedStub(), dev, lang="de", epochs=10, bleu_every=5,
        generation=GenerationSettings(1, 4), selection="teacher_forced_bleu",
        convention=BleuConvention("none", "floor"),
    )  # fmt: skip
    assert task.selection_metric == "teacher_forced_bleu4"
    metrics = task.validate(task.model, epoch=1)  # not a BLEU epoch: no generation
    assert metrics == {"token_accuracy": 1.0, "token_accuracy_other_video": 0.0,
                       "teacher_forced_bleu4": pytest.approx(100.0)}  # fmt: skip
    beam = TranslateTask(TeacherForcedStub(), dev, lang="de", epochs=10, bleu_every=5,
                         generation=GenerationSettings(1, 4))  # fmt: skip
    assert beam.selection_metric == "bleu4"
    # Logged under beam selection too (with the default convention), still no generation.
    assert beam.validate(beam.model, epoch=1) == metrics
