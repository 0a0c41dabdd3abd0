"""Safe loading: a malicious pickle given to any loader runs nothing and is a clear error;
paths in corpus files stay inside the data root.

The payload's unpickling would run `touch <marker>`; after each loader the marker must not
exist. Payloads are built with `pickle.dumps` / `torch.save`, which only serialise (nothing
runs while building them).
"""

from __future__ import annotations

import ast
import json
import os
import pickle
from pathlib import Path

import pytest
import torch

from conftest import make_phoenix_corpus
from sign2gpt.checkpoint import load_checkpoint
from sign2gpt.config import load_yaml
from sign2gpt.data import DataConfig, build_dataset
from sign2gpt.data.cache import FrameCache
from sign2gpt.data.frames import read_image, read_video_file
from sign2gpt.errors import Sign2GPTError
from sign2gpt.models.config import DecoderConfig, ViTConfig
from sign2gpt.models.decoder import build_decoder
from sign2gpt.models.tokenizer import TextTokenizer
from sign2gpt.models.vit import VisionTransformer
from sign2gpt.models.weights import load_dinov2, read_hf_folder, read_weights
from sign2gpt.run_config import load_run_config
from sign2gpt.text import PseudoGlossVocab, load_prototypes, load_targets
from sign2gpt.text.prototypes import load_word_vectors
from sign2gpt.text.sentences import read_sentence_files

pytestmark = pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")

SRC = Path(__file__).resolve().parents[1] / "src" / "sign2gpt"


class _Exploit:
    """Unpickling this runs a shell command."""

    def __init__(self, marker: Path):
        self.command = f"touch {marker}"

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.fixture(params=["pickle", "torch.save"])
def payload(request, tmp_path) -> tuple[bytes, Path]:
    """(malicious file content, marker path): a raw pickle or a torch zip archive."""
    marker = tmp_path / "pwned"
    exploit = {"weight": _Exploit(marker)}
    if request.param == "pickle":
        return pickle.dumps(exploit), marker
    torch.save(exploit, tmp_path / "payload.pt")
    return (tmp_path / "payload.pt").read_bytes(), marker


def tiny_vit() -> VisionTransformer:
    return VisionTransformer(ViTConfig(pos_embed_size=28, dim=32, depth=1, num_heads=2))


def tiny_decoder():
    return build_decoder(DecoderConfig(vocab_size=64, d_model=32, num_layers=1, num_heads=4,
                                       ffn_dim=64, max_positions=32, bos_id=0, eos_id=2,
                                       pad_id=1, sign_dim=32))


def hf_folder(weights: Path, config: dict) -> Path:
    """The folder of `weights` (pytorch_model.bin) made a Hugging Face folder with `config`."""
    (weights.parent / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return weights.parent


def data_config(root: Path, **extra) -> DataConfig:
    return DataConfig(root=str(root), resize=16, crop=12, num_workers=0, **extra)


# name -> (file the payload is written to, in a fresh folder; the loader, given that file)
LOADERS = {
    "load_checkpoint": ("c.safetensors", load_checkpoint),
    "load_checkpoint .pth": ("c.pth", load_checkpoint),
    "read_weights .pth": ("w.pth", read_weights),
    "read_weights .bin": ("w.bin", read_weights),
    "read_weights .pt": ("w.pt", read_weights),
    "read_weights .safetensors": ("w.safetensors", read_weights),
    "load_dinov2 file": ("dinov2_vits14_pretrain.pth", lambda f: load_dinov2(tiny_vit(), f)),
    "PseudoGlossVocab.load": ("vocab.json", lambda f: PseudoGlossVocab.load(f.parent)),
    "load_targets": ("targets.json", lambda f: load_targets(f.parent)),
    "load_prototypes": ("prototypes.safetensors", lambda f: load_prototypes(f.parent)),
    "load_word_vectors .bin": ("cc.de.300.bin", load_word_vectors),
    "load_word_vectors .vec": ("cc.de.300.vec", load_word_vectors),
    "TextTokenizer.load": ("tokenizer.json", lambda f: TextTokenizer.load(f.parent)),
    "load_yaml": ("c.yaml", load_yaml),
    "load_run_config": ("c.yaml", load_run_config),
    "read_sentence_files .txt": ("s.txt", read_sentence_files),
    "read_sentence_files .jsonl": ("s.jsonl", read_sentence_files),
    "read_image": ("images0001.png", read_image),
    "read_video_file": ("clip.mp4", read_video_file),
    "data cache index": (
        "cache/train.index.json",
        lambda f: FrameCache.open(data_config(f.parent, cache_dir=str(f.parent)), "train", []),
    ),
    "manifest": (
        "m.jsonl", lambda f: build_dataset(data_config(f.parent, format="manifest",
                                                       manifest="m.jsonl"), "train"),
    ),
    "Hugging Face folder": ("pytorch_model.bin", lambda f: read_hf_folder(hf_folder(f, {}))),
    "load_dinov2 folder": (
        "pytorch_model.bin", lambda f: load_dinov2(tiny_vit(), hf_folder(f, {})),
    ),
    "XGLM decoder load_pretrained": (
        "pytorch_model.bin",
        lambda f: tiny_decoder().load_pretrained(hf_folder(f, {"model_type": "xglm"})),
    ),
}


@pytest.mark.parametrize("loader", list(LOADERS))
def test_malicious_pickle_runs_nothing_and_is_a_clear_error(tmp_path, payload, loader):
    content, marker = payload
    name, load = LOADERS[loader]
    path = tmp_path / "files" / name
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(Sign2GPTError) as info:
        load(path)
    assert not marker.exists(), f"{loader} executed the pickle"
    message = str(info.value)
    assert path.parent.name in message or path.name in message, message
    assert len(message.splitlines()) == 1


def test_sentencepiece_tokenizer_folder_with_a_pickle_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    folder = tmp_path / "xglm"
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text(
        '{"tokenizer_class": "XGLMTokenizer", "eos_token": "</s>"}', encoding="utf-8"
    )
    (folder / "sentencepiece.bpe.model").write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(Sign2GPTError, match=r"xglm: tokenizer has no vocabulary"):
        TextTokenizer.load(folder)
    assert not marker.exists()


def test_yaml_python_tags_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "c.yaml"
    path.write_text(f'train: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(Sign2GPTError, match=r"c\.yaml: not valid YAML"):
        load_run_config(path)
    assert not marker.exists()


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _is_constant(node: ast.AST | None, value: bool) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def test_source_never_unpickles():
    """Every torch.load is weights-only; no pickle, marshal, unsafe YAML or pickled numpy."""
    banned_modules = {"pickle", "cPickle", "dill", "joblib", "marshal", "shelve"}
    banned_calls = {"yaml.load", "yaml.unsafe_load", "yaml.full_load", "KeyedVectors.load",
                    "torch.jit.load"}
    problems = []
    for file in sorted(SRC.rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if banned_modules & {n.split(".")[0] for n in names}:
                    problems.append(f"{file.name}:{node.lineno}: imports {names}")
        for call in _calls(tree):
            name = _dotted(call.func)
            if name in banned_calls:
                problems.append(f"{file.name}:{call.lineno}: calls {name}")
            kwargs = {k.arg: k.value for k in call.keywords}
            if name == "torch.load" and not _is_constant(kwargs.get("weights_only"), True):
                problems.append(f"{file.name}:{call.lineno}: torch.load without weights_only")
            if name in ("np.load", "numpy.load") and not _is_constant(
                kwargs.get("allow_pickle", ast.Constant(False)), False
            ):
                problems.append(f"{file.name}:{call.lineno}: np.load may unpickle")
    assert not problems, problems


# ---- paths in corpus files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("video", "message"),
    [
        ("../../../../../../etc/1/*.png", "escapes the data root"),
        ("/etc/1/*.png", "absolute path '/etc/1' not allowed"),
    ],
)
def test_phoenix_video_column_cannot_leave_the_data_root(tmp_path, video, message):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 1}, num_frames=4)
    corpus = root / "annotations" / "manual" / "PHOENIX-2014-T.train.corpus.csv"
    lines = corpus.read_text(encoding="utf-8").splitlines()
    fields = lines[1].split("|")
    fields[1] = video
    corpus.write_text("\n".join([lines[0], "|".join(fields)]) + "\n", encoding="utf-8")
    with pytest.raises(Sign2GPTError, match=message):
        build_dataset(data_config(root), "train")


@pytest.mark.parametrize("name", ["../escape", "a/b", ".."])
def test_phoenix_names_cannot_be_paths(tmp_path, name):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 1}, num_frames=4)
    corpus = root / "annotations" / "manual" / "PHOENIX-2014-T.train.corpus.csv"
    header = corpus.read_text(encoding="utf-8").splitlines()[0]
    corpus.write_text(f"{header}\n{name}||-1|-1|S1|A|hallo welt\n", encoding="utf-8")
    with pytest.raises(Sign2GPTError, match="bad video name"):
        build_dataset(data_config(root), "train")
