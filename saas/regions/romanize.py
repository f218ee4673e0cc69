"""Hangul to Latin letters by the Revised Romanization of Korean (문화체육관광부 고시 제2000-8호).

For the English names of dongs, which the official lists give in Korean only. The main sound
changes at syllable boundaries are applied (liaison into a silent ㅇ, ㄹ+ㄹ → ll, ㄴ next to ㄹ
→ ll, nasalisation before ㄴ/ㅁ); a name the ministry romanised otherwise is not known here.
"""

from __future__ import annotations

import re

_INITIALS = [
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h",
]  # fmt: skip
_VOWELS = [
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo",
    "u", "wo", "we", "wi", "yu", "eu", "ui", "i",
]  # fmt: skip
# Final consonants (받침) by index, as pronounced at the end of a syllable: ㄱ ㄲ ㄳ → k, ...
_FINALS = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l",
    "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t",
]  # fmt: skip
# The same finals carried into a following syllable that begins with a silent ㅇ (연음).
_LIAISON = [
    "", "g", "kk", "ks", "n", "nj", "n", "d", "r", "lg", "lm", "lb", "ls", "lt", "lp", "r",
    "m", "b", "bs", "s", "ss", "ng", "j", "ch", "k", "t", "p", "",
]  # fmt: skip
_SILENT, _NIEUN, _RIEUL, _MIEUM = 11, 2, 5, 6
_FINAL_RIEUL, _FINAL_NIEUN, _FINAL_NG = 8, 4, 21
_NASAL = {"k": "ng", "t": "n", "p": "m"}


def _syllables(text: str) -> list[tuple[int, int, int] | str]:
    out: list[tuple[int, int, int] | str] = []
    for char in text:
        code = ord(char) - 0xAC00
        if 0 <= code < 11172:
            out.append((code // 588, (code % 588) // 28, code % 28))
        else:
            out.append(char)
    return out


def romanize(text: str) -> str:
    """`text` in Latin letters (lower case); characters other than Hangul syllables are kept."""
    parts = _syllables(text)
    out = []
    for i, part in enumerate(parts):
        if isinstance(part, str):
            out.append(part)
            continue
        initial, vowel, final = part
        previous = parts[i - 1] if i > 0 else None
        onset = _INITIALS[initial]
        if isinstance(previous, tuple):
            before = previous[2]
            if initial == _RIEUL and before in (_FINAL_RIEUL, _FINAL_NIEUN):
                onset = "l"  # 신라 → Silla, 별래 → Byeollae
            elif initial == _RIEUL and before != 0 and before not in (_FINAL_RIEUL, _FINAL_NIEUN):
                onset = "n"  # 종로 → Jongno, 백리 → Baengni
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        coda = _FINALS[final]
        if final and isinstance(nxt, tuple):
            n_initial = nxt[0]
            if n_initial == _SILENT:
                coda = _LIAISON[final]
            elif final == _FINAL_NIEUN and n_initial == _RIEUL:
                coda = "l"  # 신라 → Silla
            elif final == _FINAL_RIEUL and n_initial == _RIEUL:
                coda = "l"
            elif coda in _NASAL and n_initial in (_NIEUN, _MIEUM, _RIEUL):
                coda = _NASAL[coda]  # 백마 → Baengma
        out.append(onset + _VOWELS[vowel] + coda)
    return "".join(out)


def dong_name_en(name_ko: str) -> str:
    """The English name of a 행정동/읍/면 from its Korean one: 역삼1동 → Yeoksam 1-dong,
    청운효자동 → Cheongunhyoja-dong, 종로1·2·3·4가동 → Jongno 1.2.3.4ga-dong, 봉담읍 → Bongdam-eup."""
    suffix = {"동": "dong", "읍": "eup", "면": "myeon"}.get(name_ko[-1:]) if len(name_ko) > 1 else None
    stem = name_ko[:-1] if suffix else name_ko
    stem = stem.replace("·", ".").replace("제", "") if re.search(r"제\d", stem) else stem.replace("·", ".")
    match = re.match(r"^(.*?)(\d[\d.]*)(가)?$", stem)
    if match:
        base, number, ga = match.groups()
        number_part = f"{number}{'ga' if ga else ''}"
        latin = f"{romanize(base).capitalize()} {number_part}"
    else:
        latin = romanize(stem).capitalize()
    return f"{latin}-{suffix}" if suffix else latin
