"""Tag-set tables: native tagger tags -> Universal POS (the tags the pseudo-gloss rule speaks).

Only the UPOS value matters downstream (`KEEP_UPOS` in `pseudo_glosses`), so each table maps a
tag to exactly one UPOS tag. Unknown tags map to "X" (dropped), never to a kept class.
"""

from __future__ import annotations

# STTS (Stuttgart-Tübingen tag set) as HanTa writes it ("ADJ(A)" = STTS ADJA, "VV(FIN)" =
# VVFIN, ...) -> UPOS, following the mapping spaCy's German pipelines and the UD German
# conversion use. HanTa adds two noun tags: NNA (nominalised adjective) and NNI (nominalised
# infinitive); in all-lowercase text these are mostly plain adjectives and verbs, see
# `taggers.HanTaTagger` for how they are lemmatised.
STTS_TO_UPOS: dict[str, str] = {
    "ADJ": "ADJ",
    "ADV": "ADV",
    "APPO": "ADP",
    "APPR": "ADP",
    "APPRART": "ADP",
    "APZR": "ADP",
    "ART": "DET",
    "CARD": "NUM",
    "FM": "X",
    "ITJ": "INTJ",
    "KOKOM": "CCONJ",
    "KON": "CCONJ",
    "KOUI": "SCONJ",
    "KOUS": "SCONJ",
    "NE": "PROPN",
    "NN": "NOUN",
    "NNA": "ADJ",
    "NNE": "PROPN",
    "NNI": "NOUN",
    "PDAT": "DET",
    "PDS": "PRON",
    "PIAT": "DET",
    "PIDAT": "DET",
    "PIS": "PRON",
    "PPER": "PRON",
    "PPOSAT": "DET",
    "PPOSS": "PRON",
    "PRELAT": "DET",
    "PRELS": "PRON",
    "PRF": "PRON",
    "PROAV": "ADV",
    "PAV": "ADV",
    "PTKA": "PART",
    "PTKANT": "PART",
    "PTKNEG": "PART",
    "PTKVZ": "ADP",
    "PTKZU": "PART",
    "PWAT": "DET",
    "PWAV": "ADV",
    "PWS": "PRON",
    "TRUNC": "X",
    "VA": "AUX",  # sein, haben, werden
    "VM": "VERB",  # modal verbs: VERB in spaCy's German tag map
    "VV": "VERB",
    "XY": "X",
    "$,": "PUNCT",
    "$.": "PUNCT",
    "$(": "PUNCT",
}


def stts_to_upos(tag: str) -> str:
    """Map an STTS tag in HanTa's spelling ("VV(FIN)", "ADJ(A)", "NN") to UPOS."""
    return STTS_TO_UPOS.get(tag.split("(")[0], "X")


# jieba.posseg tags (ICTCLAS / PKU style) -> UPOS. Chosen to agree with the OntoNotes -> UPOS
# table spaCy's Chinese pipelines use (measure words "M" -> NUM, localisers "LC" -> ADP,
# predicative adjectives "VA" -> VERB is not distinguishable here, so adjectives stay ADJ).
# Idioms (i) and fixed expressions (l, e.g. 你好) carry content that is signed: kept as VERB.
JIEBA_TO_UPOS: dict[str, str] = {
    "a": "ADJ",
    "ad": "ADV",
    "ag": "ADJ",
    "an": "NOUN",
    "b": "ADJ",
    "c": "CCONJ",
    "d": "ADV",
    "df": "ADV",
    "dg": "ADV",
    "e": "INTJ",
    "f": "ADP",
    "g": "X",
    "h": "PART",
    "i": "VERB",
    "j": "NOUN",
    "k": "PART",
    "l": "VERB",
    "m": "NUM",
    "mg": "NUM",
    "mq": "NUM",
    "n": "NOUN",
    "ng": "NOUN",
    "nr": "PROPN",
    "nrfg": "PROPN",
    "nrt": "PROPN",
    "ns": "PROPN",
    "nt": "PROPN",
    "nz": "PROPN",
    "o": "X",
    "p": "ADP",
    "q": "NUM",
    "r": "PRON",
    "rg": "PRON",
    "rr": "PRON",
    "rz": "PRON",
    "s": "NOUN",
    "t": "NOUN",
    "tg": "NOUN",
    "u": "PART",
    "ud": "PART",
    "ug": "PART",
    "uj": "PART",
    "ul": "PART",
    "uv": "PART",
    "uz": "PART",
    "v": "VERB",
    "vd": "VERB",
    "vg": "VERB",
    "vi": "VERB",
    "vn": "VERB",
    "vq": "VERB",
    "x": "PUNCT",
    "y": "PART",
    "yg": "PART",
    "z": "ADJ",
    "zg": "ADJ",
    "eng": "X",
    "un": "X",
}


def jieba_to_upos(tag: str) -> str:
    """Map a jieba.posseg tag ("n", "nr", "v", ...) to UPOS."""
    return JIEBA_TO_UPOS.get(tag, "X")
