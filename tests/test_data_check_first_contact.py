"""`data check` on the mistakes of a first own corpus (issue 19): header-only manifests,
unknown split names, a bad value elsewhere in the config, counts, order; symlinks that leave
the data root."""

from __future__ import annotations

import pytest
import yaml

from conftest import make_phoenix_corpus, make_video_manifest
from sign2gpt.cli import main
from sign2gpt.data import DataConfig
from sign2gpt.data.dataset import build_dataset
from sign2gpt.data.readers import read_split
from sign2gpt.data.sources import count_frames, read_all_frames, read_selected_frames
from sign2gpt.errors import DataError


def _config(tmp_path, root, **extra) -> str:
    data = {"root": str(root), "resize": 16, "crop": 12, "num_workers": 0, "format": "manifest",
            "manifest": "manifest.csv", **extra.pop("data", {})}  # fmt: skip
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"data": data, **extra}), encoding="utf-8")
    return str(path)


def _check(capsys, config, *args) -> tuple[int, str]:
    code = main(["data", "check", "-c", config, *args])
    return code, capsys.readouterr().out


def test_a_header_only_manifest_is_an_error(tmp_path, capsys):
    root = tmp_path / "corpus"
    root.mkdir()
    for split in ("train", "dev", "test"):
        (root / f"{split}.csv").write_text("video,text\n", encoding="utf-8")
    code, out = _check(capsys, _config(tmp_path, root, data={"manifest": "{split}.csv"}))
    assert code == 1 and "corpus OK" not in out
    assert f"BAD {root / 'train.csv'}: no rows of split 'train'" in out


def test_unknown_split_names_are_reported_once_and_counts_add_up(tmp_path, capsys):
    root = tmp_path / "corpus"
    manifest = make_video_manifest(root)  # 3 train rows, 1 dev row
    lines = manifest.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",train", ",Train")
    lines.append(lines[4].replace(",dev", ",validation").replace("clip3,", "clip9,"))
    lines.append('clipX,videos/clip0.mp4,"one field too many",s0,train,extra')
    lines.append(lines[1].replace("clip0,", "clip8,").replace("clip0.mp4", "missing.mp4"))
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = _check(capsys, _config(tmp_path, root), "--split", "train", "--split", "dev")
    assert code == 1
    bad = [line.strip() for line in out.splitlines() if line.strip().startswith("BAD")]
    assert sum("unknown split 'Train'" in line for line in bad) == 1, out
    assert sum("unknown split 'validation'" in line for line in bad) == 1, out
    assert sum("row has 6 fields" in line for line in bad) == 1, out
    # train: clip0, clip2 good, clip8 missing; dev: clip3. The 3 lines of no known split are
    # charged to no split, and every row is counted once.
    assert "split train: 3 rows, 2 good, 1 bad" in out
    assert "split dev: 1 rows, 1 good, 0 bad" in out
    assert "lines of no known split: 3 bad" in out
    assert "total: 7 rows, 4 bad" in out
    shared = out[out.index("lines of no known split"):].splitlines()[1:4]
    numbers = [int(line.split("manifest.csv:")[1].split()[0].rstrip(":")) for line in shared]
    assert numbers == sorted(numbers) == [3, 6, 7]  # file order


def test_unknown_split_rows_stop_training_too(tmp_path):
    root = tmp_path / "corpus"
    manifest = make_video_manifest(root)
    manifest.write_text(manifest.read_text().replace(",dev", ",validation"), encoding="utf-8")
    cfg = DataConfig(root=str(root), format="manifest", manifest="manifest.csv")
    table = read_split(cfg, "train")
    assert [p.reason.split(" (")[0] for p in table.problems] == ["unknown split 'validation'"]


def test_bad_rows_are_listed_in_file_order(tmp_path, capsys):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 5, "dev": 1, "test": 1})
    csv = root / "annotations" / "manual" / "PHOENIX-2014-T.train.corpus.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].rsplit("|", 1)[0] + "|"  # line 2: empty text (found by check_rows)
    lines.append(lines[5])  # line 7: duplicate id
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frames = root / "features" / "fullFrame-210x260px" / "train"
    (frames / "train_video_4" / "images0001.png").write_bytes(b"broken")  # line 6: decode
    (frames / "train_video_1" / "images0002.png").write_bytes(b"broken")  # line 3: decode
    config = _config(tmp_path, root, data={"format": "phoenix14t", "manifest": None})
    code, out = _check(capsys, config, "--split", "train")
    bad = [line for line in out.splitlines() if line.strip().startswith("BAD")]
    order = [next(n for n in ("duplicate", "video_0", "video_1", "video_4") if n in line)
             for line in bad]  # fmt: skip
    assert code == 1 and order == ["video_0", "video_1", "video_4", "duplicate"], out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"train": {"epochs": "ten"}}, "c.yaml:train.epochs: expected an integer"),
        ({"model": {"preset": "huge"}}, "c.yaml:model.preset: unknown preset 'huge'"),
        ({"text": {"lang": "fr"}}, "c.yaml:text.lang: 'fr' is not one of"),
    ],
)
def test_data_check_validates_the_whole_config(tmp_path, capsys, extra, message):
    root = tmp_path / "corpus"
    make_video_manifest(root)
    assert main(["data", "check", "-c", _config(tmp_path, root, **extra)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


# ---- item 17: symlinks inside data.root that lead outside it --------------------------------


def test_a_symlinked_video_leading_outside_the_root_is_refused(tmp_path, capsys):
    root = tmp_path / "corpus"
    manifest = make_video_manifest(root)
    outside = tmp_path / "outside.mp4"
    (root / "videos" / "clip0.mp4").rename(outside)
    (root / "videos" / "clip0.mp4").symlink_to(outside)
    (root / "videos" / "inside.mp4").symlink_to(root / "videos" / "clip1.mp4")  # fine
    manifest.write_text(
        manifest.read_text() + 'clip9,videos/inside.mp4,"ein satz",s0,train\n', encoding="utf-8"
    )
    code, out = _check(capsys, _config(tmp_path, root), "--split", "train")
    assert code == 1
    bad = [line for line in out.splitlines() if "BAD" in line]
    assert len(bad) == 1 and "[clip0]" in bad[0] and "a symlink takes" in bad[0], out
    assert "outside the data root" in bad[0] and "allow_absolute_paths" in bad[0]
    config = _config(tmp_path, root, data={"allow_absolute_paths": True})
    assert _check(capsys, config, "--split", "train")[0] == 0


def test_a_symlinked_frame_folder_leading_outside_the_root_is_refused(tmp_path):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 2, "dev": 1, "test": 1})
    frames = root / "features" / "fullFrame-210x260px" / "train"
    (frames / "train_video_1").rename(tmp_path / "elsewhere")
    (frames / "train_video_1").symlink_to(tmp_path / "elsewhere")
    table = read_split(DataConfig(root=str(root)), "train")
    assert [r.id for r in table.records] == ["train_video_0"]
    assert "a symlink takes" in table.problems[0].reason


def test_a_single_frame_file_symlinked_outside_the_root_is_refused(tmp_path):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 2, "dev": 1, "test": 1})
    folder = root / "features" / "fullFrame-210x260px" / "train" / "train_video_1"
    frame = sorted(folder.iterdir())[1]
    outside = tmp_path / "secret.png"
    frame.rename(outside)
    frame.symlink_to(outside)
    inside = sorted(folder.iterdir())[2]  # a link to another frame of the corpus is fine
    other = root / "features" / "fullFrame-210x260px" / "train" / "train_video_0"
    inside.unlink()
    inside.symlink_to(sorted(other.iterdir())[2])
    cfg = DataConfig(root=str(root), resize=16, crop=12, num_workers=0)
    table = read_split(cfg, "train")
    assert len(table.records) == 2  # the folder itself is inside: found when its files are read
    with pytest.raises(DataError, match=r"a symlink takes .* outside the data root"):
        count_frames(table.records[1], min_frames=1)
    with pytest.raises(DataError, match="a symlink takes") as info:
        build_dataset(cfg, "train")
    assert str(frame) in str(info.value)
    with pytest.raises(DataError, match="a symlink takes"):  # the cache's and loader's reads
        read_all_frames(folder, confine=root)
    with pytest.raises(DataError, match="a symlink takes"):
        read_selected_frames(folder, lambda n: [0, 1], confine=root)
    count_frames(table.records[0], min_frames=1)
    assert len(read_all_frames(folder)) == len(list(folder.iterdir()))  # inputs: no limit
    allowed = DataConfig(root=str(root), resize=16, crop=12, num_workers=0,
                         allow_absolute_paths=True)  # fmt: skip
    assert build_dataset(allowed, "train")[1].frames.shape[0] > 0


def test_data_check_names_the_frame_file_a_symlink_takes_outside(tmp_path, capsys):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 2, "dev": 1, "test": 1})
    folder = root / "features" / "fullFrame-210x260px" / "train" / "train_video_0"
    frame = sorted(folder.iterdir())[0]
    frame.rename(tmp_path / "secret.png")
    frame.symlink_to(tmp_path / "secret.png")
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": {"root": str(root), "resize": 16, "crop": 12,
                                               "num_workers": 0}}), encoding="utf-8")
    code, out = _check(capsys, str(config), "--split", "train")
    bad = [line for line in out.splitlines() if "BAD" in line]
    assert code == 1 and len(bad) == 1 and str(frame) in bad[0] and "a symlink takes" in bad[0]


def test_a_data_root_that_is_itself_a_link_still_works(tmp_path):
    real = make_phoenix_corpus(tmp_path / "real", {"train": 2, "dev": 1, "test": 1})
    (tmp_path / "link").symlink_to(real)
    table = read_split(DataConfig(root=str(tmp_path / "link")), "train")
    assert len(table.records) == 2 and not table.problems
