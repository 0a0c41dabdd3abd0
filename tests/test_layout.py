"""Package layout: the model library imports no training stack, train/ no benchmark code,
and each LM family declares the blocks that checkpointing and compile wrap."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from torch import nn

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "sign2gpt"

# package (folder or module under src/sign2gpt) -> module prefixes it must never import.
FORBIDDEN = {
    "models": ("sign2gpt.train", "sign2gpt.synthbench", "sign2gpt.inference", "lightning"),
    "data": ("sign2gpt.train", "sign2gpt.synthbench", "sign2gpt.inference", "lightning"),
    "text": ("sign2gpt.train", "sign2gpt.synthbench", "sign2gpt.inference", "lightning"),
    "inference": ("sign2gpt.train", "sign2gpt.synthbench", "sign2gpt.commands", "lightning"),
    "train": ("sign2gpt.synthbench", "sign2gpt.commands"),
    "synthbench": ("sign2gpt.commands",),
}


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement of `path` names (function-level imports too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_run_one_way(package):
    files = sorted((PACKAGE / package).rglob("*.py"))
    assert files, package
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in files
        for module in sorted(imported_modules(path))
        if any(is_under(module, prefix) for prefix in FORBIDDEN[package])
    ]
    assert wrong == []


def test_importing_the_inference_library_loads_no_training_stack():
    """Translating one video must not pay Lightning's import (about 5 s on 2 cores)."""
    code = (
        "import sys, sign2gpt; assert 'torch' not in sys.modules, 'import sign2gpt: torch'; "
        "import sign2gpt.inference.predict, sign2gpt.inference.evaluation, "
        "sign2gpt.inference.localize, sign2gpt.inference.export, sign2gpt.run_config; "
        "from sign2gpt import Translator; "
        "print(sorted({m.split('.')[0] if not m.startswith('sign2gpt') else m.rsplit('.', 1)[0]"
        " for m in sys.modules if m.startswith(('lightning', 'torchmetrics', 'sign2gpt.train.',"
        " 'sign2gpt.synthbench'))}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_new_lm_family_declares_its_blocks_for_checkpointing_and_compile():
    from sign2gpt.models.config import tiny_config
    from sign2gpt.models.decoder import base
    from sign2gpt.models.decoder.xglm import XGLMLayer, XGLMSignDecoder
    from sign2gpt.models.performance import enable_activation_checkpointing, transformer_blocks

    class ToyLayer(nn.Linear):
        pass

    class ToyDecoder(XGLMSignDecoder):
        block_types = (ToyLayer,)

        def __init__(self, cfg):
            super().__init__(cfg)
            self.extra = nn.ModuleList([ToyLayer(2, 2), ToyLayer(2, 2)])

    try:
        base.register_family("toy-test")(ToyDecoder)
        decoder = ToyDecoder(tiny_config("translate").decoder)
        blocks = list(transformer_blocks(decoder))
        # Its own blocks, not XGLM's: the family says what its repeated layer is.
        assert blocks == list(decoder.extra)
        assert not any(isinstance(b, XGLMLayer) for b in blocks)
        assert enable_activation_checkpointing(decoder) == 2
    finally:
        base.DECODER_FAMILIES.pop("toy-test", None)

    class Undeclared(XGLMSignDecoder):
        block_types = ()

    with pytest.raises(TypeError, match="block_types"):
        base.register_family("undeclared-test")(Undeclared)
    assert "undeclared-test" not in base.DECODER_FAMILIES
