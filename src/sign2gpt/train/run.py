"""Run one training stage end to end: run folder, data, model, loop, resume."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from lightning.fabric.loggers import CSVLogger, TensorBoardLogger

from sign2gpt.checkpoint import load_checkpoint
from sign2gpt.config import dump_yaml, to_dict
from sign2gpt.data import EvaluationBatches, build_dataset, collate_samples
from sign2gpt.errors import CheckpointError
from sign2gpt.inference.trained import load_tokenizer, transforms
from sign2gpt.models.tokenizer import check_tokenizer_coverage
from sign2gpt.run_config import RunConfig, load_run_config
from sign2gpt.train.builders import build_model, prepare_glosses
from sign2gpt.train.engine import Progress, Trainer, make_fabric
from sign2gpt.train.features import FeatureDataset, check_feature_source, collate_features
from sign2gpt.train.loaders import training_epochs
from sign2gpt.train.pretrain_stage import PretrainModule, PretrainTask
from sign2gpt.train.run_dir import RunDir, resumable_runs
from sign2gpt.train.translate_stage import TranslateModule, TranslateTask

log = logging.getLogger(__name__)


# Fabric's DDP launcher starts ranks 1..n-1 by re-running this command: they read the folder
# rank 0 made from here instead of making their own.
RUN_DIR_ENV = "SIGN2GPT_RUN_DIR"


def launched_rank() -> int:
    """Nonzero when a launcher (Fabric's DDP launcher, torchrun, srun) started this process as
    another rank than 0; 0 otherwise. The largest of the ranks they set: Fabric's launcher sets
    only LOCAL_RANK in its children, which keep the SLURM_PROCID of the job step."""
    names = ("RANK", "LOCAL_RANK", "SLURM_PROCID")
    return max((int(os.environ[n]) for n in names if os.environ.get(n, "").isdigit()), default=0)


def start_run(cfg: RunConfig) -> RunDir:
    """A new run folder holding the merged config, `<out_dir>/latest` pointing at it; on the
    other ranks of a launched DDP run, the folder rank 0 made."""
    inherited = os.environ.get(RUN_DIR_ENV)
    if launched_rank() > 0 and inherited:
        return RunDir(Path(inherited))
    run = RunDir.create(cfg.out_dir, cfg.name)
    run.write_config(dump_yaml(cfg))
    if launched_rank() == 0:
        run.mark_latest()
        os.environ[RUN_DIR_ENV] = str(run.root.resolve())
    return run


def find_resumable(cfg: RunConfig) -> RunDir | None:
    """`--resume auto`: the newest run of `cfg.name` and `cfg.stage` under `cfg.out_dir` that
    has a checkpoint (`pretrain` with a translate config keeps its name: the stage tells)."""
    for run in resumable_runs(cfg.out_dir, cfg.name):
        if load_run_config(run.config_path).stage == cfg.stage:
            return run
    return None


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
    run = _shared_run(fabric, run)
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
        task = PretrainTask(
            module, dev, cfg.text.gloss_threshold, cfg.train.pretrain_selection
        )
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
            selection=cfg.train.translate_selection,
            convention=cfg.train.bleu_convention,
        )
    data = training_epochs(
        train_set, cfg.train.seed, fabric.global_rank, fabric.world_size, collate
    )
    trainer = Trainer(cfg.train, run, task, data, fabric, meta=meta)
    if resume:
        path = run.checkpoint("last")
        trainer.restore(load_checkpoint(path), str(path))
        log.info("resuming %s at epoch %d", run.root, trainer.progress.epoch + 1)
    if fabric.is_global_zero:  # set up: from now on the folder is kept, whatever happens
        run.mark_started()
        print(f"run folder: {run.root}", flush=True)
    return trainer.fit()


def _shared_run(fabric, run: RunDir) -> RunDir:
    """Rank 0's run folder on every rank. Ranks that made their own (started by a launcher
    that ran them before rank 0 could tell them, e.g. torchrun) drop it."""
    if fabric.world_size == 1:
        return run
    root = Path(fabric.broadcast(str(run.root.resolve()), src=0))
    if root != run.root.resolve():
        shutil.rmtree(run.root, ignore_errors=True)
        run = RunDir(root)
    return run


def summary_line(progress: Progress, metric: str) -> str:
    """One line for the end of a run."""
    if progress.best_epoch < 0:
        return "no dev evaluation selected a best checkpoint"
    return f"best dev {metric} {progress.best_metric:.4g} at epoch {progress.best_epoch}"
