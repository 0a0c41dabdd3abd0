"""Chinese pseudo-glosses (jieba): segmented words, content POS kept, particles dropped."""

from __future__ import annotations

import pytest

from sign2gpt.text import build_pseudo_glosses

# CSL-Daily-style daily-life sentences (written for this test) -> expected pseudo-glosses.
CASES = {
    "我今天早上去医院看病了。": ["我", "今天", "早上", "去", "医院", "看病"],  # 了 。 dropped
    "他的妈妈是一名医生。": ["他", "妈妈", "是", "一名", "医生"],  # 的 dropped
    "明天下午三点我们在学校门口见面。": ["明天", "下午", "三点", "我们", "学校", "门口", "见面"],
    "这些苹果多少钱一斤？": ["这些", "苹果", "多少", "钱", "一斤"],
    "请问，北京大学怎么走？": ["请问", "北京大学", "怎么", "走"],
    # Spaces (CSL-Daily word-split text) do not change the segmentation.
    "你 昨天 为什么 没有 来 上班 ？": ["你", "昨天", "为什么", "没有", "来", "上班"],
    "周末我和朋友一起去公园散步。": ["周末", "我", "朋友", "一起", "去", "公园", "散步"],  # 和
}


@pytest.fixture(scope="module")
def result():
    return build_pseudo_glosses(list(CASES), "zh", "auto", progress=False)


def test_chinese_targets(result):
    assert result.vocab.backend == "jieba"
    assert result.targets == list(CASES.values())


def test_chinese_vocabulary_and_stats(result):
    vocab = result.vocab
    # 去 and 我 are in two sentences each (ties in code-point order), the rest in one.
    assert (vocab.words[:2], vocab.counts[:3]) == (["去", "我"], [2, 2, 1])
    stats = result.stats()
    assert stats["pseudo_glosses"] == len(vocab) == 38  # 40 glosses, 2 repeated
    # Chinese "vocabulary" counts characters (as Table 1a does for CSL-Daily), no punctuation.
    chars = {c for s in CASES for c in s if c not in "。，？ "}
    assert stats["vocabulary"] == len(chars)
    assert vocab.extract("我明天去公园。") == ["我", "明天", "去", "公园"]
    assert result.tokens[0] == ["我", "今天", "早上", "去", "医院", "看病", "了", "。"]
