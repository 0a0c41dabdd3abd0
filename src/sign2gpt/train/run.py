"""Run one training stage end to end: run folder, data, model, loop, resume."""

from __future__ import annotations

import logging
from pathlib import Path

from lightning.fabric.loggers import CSVLogger, TensorBoardLogger

from sign2gpt.checkpoint import load_checkpoint
from sign2gpt.config import dump_yaml, to_dict
from sign2gpt.data import build_dataset, collate_samples
from sign2gpt.errors import CheckpointError
from sign2gpt.models.tokenizer import check_tokenizer_coverage
from sign2gpt.train.builders import build_model, load_tokenizer, prepare_glosses, transforms
from sign2gpt.train.engine import Progress, Trainer, make_fabric
from sign2gpt.train.features import FeatureDataset, check_feature_source, collate_features
from sign2gpt.train.loaders import EvaluationBatches, training_epochs
from sign2gpt.train.pretrain_stage import PretrainModule, PretrainTask
from sign2gpt.train.run_config import RunConfig, load_run_config
from sign2gpt.train.run_dir import RunDir
from sign2gpt.train.translate_stage import TranslateModule, TranslateTask

log = logging.getLogger(__name__)


def start_run(cfg: RunConfig) -> RunDir:
    """A new run folder holding the merged config."""
    run = RunDir.create(cfg.out_dir, cfg.name)
    run.write_config(dump_yaml(cfg))
    return run


def resume_run(folder: str | Path) -> tuple[RunConfig, RunDir]:
    """The config and folder of a run to continue (`--resume RUN_DIR`)."""
    run = RunDir(Path(folder))
    if not run.config_path.is_file():
        raise CheckpointError(folder, "not a run folder (no config.yaml)")
    if not run.checkpoint("last").is_file():
        raise CheckpointError(folder, "has no checkpoints/last.safetensors to resume from")
    return load_run_config(run.config_path), run


def train_stage(cfg: RunConfig, run: RunDir, *, resume: bool = False, skip_bad: bool = False):
    """Train the stage `cfg.model.stage` into `run`; returns rank 0's final `Progress`.

    Fabric launches the processes (DDP / FSDP on several devices or nodes) and each runs
    `_train_process`.
    """
    loggers = [CSVLogger(run.logs, name="csv"), TensorBoardLogger(run.logs, name="tensorboard")]
    fabric = make_fabric(cfg.train, loggers)
    return fabric.launch(_train_process, cfg, run, resume, skip_bad)


def _train_process(fabric, cfg: RunConfig, run: RunDir, resume: bool, skip_bad: bool) -> Progress:
    fabric.seed_everything(cfg.train.seed)
    if cfg.features:  # Sign(Z)2GPT: frozen stage-1 features instead of videos
        train_set = FeatureDataset(cfg.data, cfg.features, cfg.data.train_split)
        dev_set = FeatureDataset(cfg.data, cfg.features, cfg.data.dev_split)
        check_feature_source(cfg.init, train_set)
        collate = collate_features
    else:
        train_set = build_dataset(cfg.data, cfg.data.train_split, skip_bad=skip_bad)
        dev_set = build_dataset(cfg.data, cfg.data.dev_split, skip_bad=skip_bad)
        collate = collate_samples
    dev = EvaluationBatches(dev_set, collate=collate)
    meta = {"config": to_dict(cfg), "stage": cfg.stage}
    if cfg.stage == "pretrain":
        with fabric.rank_zero_first():  # rank 0 builds the pseudo-glosses, the others read them
            glosses = prepare_glosses(cfg, train_set, run.root / "glosses")
        meta["glosses"] = str(glosses.folder.resolve())
        model = build_model(cfg, glosses)
        module = PretrainModule(model, transforms(cfg), glosses.vocab, glosses.targets)
        task = PretrainTask(module, dev, cfg.text.gloss_threshold)
    else:
        tokenizer = load_tokenizer(cfg)
        corpus_file = train_set.records[0].where.rsplit(":", 1)[0]
        check_tokenizer_coverage(tokenizer, [r.text for r in train_set.records], corpus_file)
        model = build_model(cfg)
        module = TranslateModule(model, transforms(cfg), tokenizer, cfg.train.label_smoothing)
        task = TranslateTask(
            module,
            dev,
            lang=cfg.text.lang,
            epochs=cfg.train.epochs,
            bleu_every=cfg.train.bleu_every,
            generation=cfg.train.generation,
        )
    data = training_epochs(
        train_set, cfg.train.seed, fabric.global_rank, fabric.world_size, collate
    )
    trainer = Trainer(cfg.train, run, task, data, fabric, meta=meta)
    if resume:
        path = run.checkpoint("last")
        trainer.restore(load_checkpoint(path), str(path))
        log.info("resuming %s at epoch %d", run.root, trainer.progress.epoch + 1)
    return trainer.fit()


def summary_line(progress: Progress, metric: str) -> str:
    """One line for the end of a run."""
    if progress.best_epoch < 0:
        return "no dev evaluation selected a best checkpoint"
    return f"best dev {metric} {progress.best_metric:.4g} at epoch {progress.best_epoch}"
