"""SMS encoding and segment count of a text, counted exactly as Twilio counts them.

Why: Twilio bills every segment. One character outside the GSM-7 alphabet (a curly quote, an
emoji, any Georgian or Arabic letter) switches the whole message to UCS-2, where a segment holds
70 instead of 160 characters, and once a message is split every part also gives 6 octets to the
concatenation header. Replies in a dozen languages must be sized before they are sent, so this
module follows Twilio's open-source Message Segment Calculator (npm ``sms-segments-calculator``
1.3.0) step by step, quirks included:

* the text is first cut into grapheme clusters (npm ``grapheme-splitter`` 1.0.4, Unicode 10.0
  rules, ported below) and a cluster never straddles two segments: not a surrogate pair, not a
  GSM escape pair, not a ZWJ emoji sequence, not a letter with its combining marks;
* a cluster of two or more UTF-16 code units is never GSM-7, so ``e`` + U+0301 forces UCS-2;
* ``characters`` is the number of septets for GSM-7 but the number of clusters for UCS-2;
* an empty text still counts as one segment.

tests/data/segments/ checks all of this against the JS library itself.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

SEGMENT_BITS = 1120
"""Bits in one SMS segment: 140 octets."""
UDH_BITS = 48
"""Bits of the user data header that every part of a split message carries: 6 octets."""
GSM7_UNIT_BITS = 7
"""Bits per GSM-7 code unit (a septet)."""
UCS2_UNIT_BITS = 16
"""Bits per UCS-2 code unit (a UTF-16 code unit)."""

GSM7_BASIC = (
    "\n\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
    "¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ"
)
"""Characters of the GSM 03.38 basic table, one septet each (as the JS library maps them)."""
GSM7_EXTENSION = "\f[\\]^{|}~€"
"""Characters of the GSM 03.38 extension table, two septets each (escape + code)."""

_GSM7_SEPTETS = {char: 1 for char in GSM7_BASIC} | {char: 2 for char in GSM7_EXTENSION}

# Twilio's Smart Encoding table (SmartEncodingMap.ts), grouped by replacement: each character
# of the value is replaced by the key. Applied code point by code point, before counting.
_SMART_ENCODING_GROUPS = {
    "0": "\uff10",
    "1": "\uff11",
    "2": "\uff12",
    "3": "\uff13",
    "4": "\uff14",
    "5": "\uff15",
    "6": "\uff16",
    "7": "\uff17",
    "8": "\uff18",
    "9": "\uff19",
    '"': "\u00ab\u00bb\u201c\u201d\u02ba\u02ee\u201f\u201e\u275d\u275e\u301d\u301e\uff02",
    "'": (
        "\u2018\u2019\u02bb\u02c8\u02bc\u02bd\u02b9\u201b\uff07\u00b4"
        "\u02ca`\u02cb\u275b\u275c\u0313\u0314\ufe10\ufe11"
    ),
    "/": "\u00f7\u29f8\u0337\u0338\u2044\u2215\uff0f",
    "1/4": "\u00bc",
    "1/2": "\u00bd",
    "3/4": "\u00be",
    "\\": "\u29f9\u29f5\u20e5\ufe68\uff3c",
    "_": "\u0332\uff3f\u2017",
    "|": "\u20d2\u20d3\u2223\uff5c\u23b8\u23b9\u23d0\u239c\u239f",
    "-": "\u23bc\u23bd\u2015\ufe63\uff0d\u2010\u2043\u2014\u2013\u2022",
    "@": "\ufe6b\uff20",
    "$": "\ufe69\uff04",
    "!": "\u01c3\ufe15\ufe57\uff01",
    "#": "\ufe5f\uff03",
    "%": "\ufe6a\uff05",
    "&": "\ufe60\uff06",
    ",": "\u201a\u0326\ufe50\ufe51\uff0c\uff64\u3001",
    "(": "\u2768\u276a\ufe59\uff08\u27ee\u2985",
    ")": "\u2769\u276b\ufe5a\uff09\u27ef\u2986",
    "*": (
        "\u204e\u2217\u229b\u2722\u2723\u2724\u2725\u2731\u2732\u2733\u273a"
        "\u273b\u273c\u273d\u2743\u2749\u274a\u274b\u29c6\ufe61\uff0a"
    ),
    "+": "\u02d6\ufe62\uff0b",
    ".": "\u3002\ufe52\uff0e\uff61",
    ":": "\u02d0\u02f8\u2982\ua789\ufe13\uff1a",
    ";": "\u204f\ufe14\ufe54\uff1b",
    "<": "\ufe64\uff1c\u2039",
    "=": "\u0347\ua78a\ufe66\uff1d",
    ">": "\ufe65\uff1e\u203a",
    "?": "\ufe16\ufe56\uff1f",
    "A": "\uff21\u1d00",
    "B": "\uff22\u0299",
    "C": "\uff23\u1d04",
    "D": "\uff24\u1d05",
    "E": "\uff25\u1d07",
    "F": "\uff26\ua730",
    "G": "\uff27\u0262",
    "H": "\uff28\u029c",
    "I": "\uff29\u026a",
    "J": "\uff2a\u1d0a",
    "K": "\uff2b\u1d0b",
    "L": "\uff2c\u029f",
    "M": "\uff2d\u1d0d",
    "N": "\uff2e\u0274",
    "O": "\uff2f\u1d0f",
    "P": "\uff30\u1d18",
    "Q": "\uff31",
    "R": "\uff32\u0280",
    "S": "\uff33\ua731",
    "T": "\uff34\u1d1b",
    "U": "\uff35\u1d1c",
    "V": "\uff36\u1d20",
    "W": "\uff37\u1d21",
    "X": "\uff38",
    "Y": "\uff39\u028f",
    "Z": "\uff3a\u1d22",
    "^": "\u02c6\u0302\uff3e\u1dcd",
    "{": "\u2774\ufe5b\uff5b",
    "}": "\u2775\ufe5c\uff5d",
    "[": "\uff3b",
    "]": "\uff3d",
    "~": "\u02dc\u02f7\u0303\u0330\u0334\u223c\uff5e",
    "  ": (  # two spaces, as in the JS table
        "\u00a0\u2000\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
        "\u202f\u205f\u3000\u008d\u009f\u0080\u0090\u009b"
    ),
    "": "\u0010\u0000\u0003\u0004\u0017\u0019\u0011\u0012\u0013\u0014\u2060\u200b\u200c\ufeff",
    "       ": "\t",  # seven spaces
    "!!": "\u203c",
    " ": "\u2028\u2029\u2001",
    "...": "\u2026",
}
SMART_ENCODING = {
    char: replacement for replacement, chars in _SMART_ENCODING_GROUPS.items() for char in chars
}
"""Look-alike character -> GSM-7 replacement used when Smart Encoding is on."""


@dataclass(frozen=True)
class SegmentInfo:
    """How a text travels as SMS: encoding, segment count and what forced UCS-2."""

    encoding: str
    """``"GSM-7"`` or ``"UCS-2"``."""
    segments: int
    """Number of SMS segments (each billed as one message)."""
    characters: int
    """Twilio's character count: septets for GSM-7, grapheme clusters for UCS-2."""
    units: int
    """Code units sent: GSM-7 septets or UTF-16 code units."""
    non_gsm: tuple[str, ...]
    """Grapheme clusters that forced UCS-2, in order, repeats kept (empty for GSM-7)."""


def smart_encode(text: str) -> str:
    """Replace look-alike characters by their GSM-7 equivalents, as Twilio's Smart Encoding."""
    return "".join(SMART_ENCODING.get(char, char) for char in text)


def analyse(text: str, *, smart_encoding: bool = False) -> SegmentInfo:
    """Return the encoding, segment count and non-GSM characters of an SMS text."""
    if smart_encoding:
        text = smart_encode(text)
    simple = one_per_character(text)
    if simple:  # what the splitter gives, CR LF counted as two
        clusters = list(text)
    else:
        clusters = [piece for cluster in _graphemes(text) for piece in _split_crlf(cluster)]
    non_gsm = tuple(cluster for cluster in clusters if cluster not in _GSM7_SEPTETS)
    if non_gsm:
        units = [1] * len(clusters) if simple else [_utf16_length(c) for c in clusters]
        bits = [UCS2_UNIT_BITS * count for count in units]
        return SegmentInfo(UCS2, len(_pack(bits)), len(clusters), sum(units), non_gsm)
    units = [_GSM7_SEPTETS[cluster] for cluster in clusters]
    bits = [GSM7_UNIT_BITS * count for count in units]
    return SegmentInfo(GSM7, len(_pack(bits)), sum(units), sum(units), ())


def _split_crlf(cluster: str) -> tuple[str, ...]:
    """The JS library counts CR LF as two clusters."""
    return ("\r", "\n") if cluster == "\r\n" else (cluster,)


def _utf16_length(text: str) -> int:
    """Number of UTF-16 code units (an astral character such as an emoji counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _pack(sizes: list[int]) -> list[int]:
    """Pack cluster sizes (bits) into segments like the JS ``_buildSegments``; bits per segment.

    Clusters fill a segment until the next one does not fit whole. When the first segment
    overflows it gets its header after the fact and hands its last clusters to the second one.
    The result leaves the headers out.
    """
    segments: list[list[int]] = [[]]
    free = [SEGMENT_BITS]  # bits left in each segment
    for size in sizes:
        if free[-1] < size:
            carried: list[int] = []
            if len(segments) == 1:
                free[0] -= UDH_BITS
                while free[0] < 0:
                    carried.insert(0, segments[0].pop())
                    free[0] += carried[0]
            segments.append(carried)
            free.append(SEGMENT_BITS - UDH_BITS - sum(carried))
        segments[-1].append(size)
        free[-1] -= size
    return [sum(segment) for segment in segments]


# --- Grapheme clusters, as grapheme-splitter 1.0.4 (UAX #29 for Unicode 10.0.0) -------------
# Ported rule for rule, including its look-ahead shortcuts, because cluster boundaries decide
# where a segment may end. Newer Unicode (as in Python's unicodedata) would cut differently.

(
    _CR,
    _LF,
    _CONTROL,
    _EXTEND,
    _REGIONAL_INDICATOR,
    _SPACING_MARK,
    _L,
    _V,
    _T,
    _LV,
    _LVT,
    _OTHER,
    _PREPEND,
    _E_BASE,
    _E_MODIFIER,
    _ZWJ,
    _GLUE_AFTER_ZWJ,
    _E_BASE_GAZ,
) = range(18)

# Grapheme_Cluster_Break values as grapheme-splitter has them: hex code point ranges.
# Everything not listed is Other; Hangul syllables (LV, LVT) are computed.
_BREAK_RANGES = {
    _CONTROL: (
        "0000-0009 000B-000C 000E-001F 007F-009F 00AD 061C 180E 200B 200E-200F 2028-202E "
        "2060-206F D800-DFFF FEFF FFF0-FFFB 1BCA0-1BCA3 1D173-1D17A E0000-E001F E0080-E00FF "
        "E01F0-E0FFF"
    ),
    _LF: "000A",
    _CR: "000D",
    _EXTEND: (
        "0300-036F 0483-0489 0591-05BD 05BF 05C1-05C2 05C4-05C5 05C7 0610-061A 064B-065F 0670 "
        "06D6-06DC 06DF-06E4 06E7-06E8 06EA-06ED 0711 0730-074A 07A6-07B0 07EB-07F3 0816-0819 "
        "081B-0823 0825-0827 0829-082D 0859-085B 08D4-08E1 08E3-0902 093A 093C 0941-0948 094D "
        "0951-0957 0962-0963 0981 09BC 09BE 09C1-09C4 09CD 09D7 09E2-09E3 0A01-0A02 0A3C "
        "0A41-0A42 0A47-0A48 0A4B-0A4D 0A51 0A70-0A71 0A75 0A81-0A82 0ABC 0AC1-0AC5 0AC7-0AC8 "
        "0ACD 0AE2-0AE3 0AFA-0AFF 0B01 0B3C 0B3E-0B3F 0B41-0B44 0B4D 0B56-0B57 0B62-0B63 0B82 "
        "0BBE 0BC0 0BCD 0BD7 0C00 0C3E-0C40 0C46-0C48 0C4A-0C4D 0C55-0C56 0C62-0C63 0C81 0CBC "
        "0CBF 0CC2 0CC6 0CCC-0CCD 0CD5-0CD6 0CE2-0CE3 0D00-0D01 0D3B-0D3C 0D3E 0D41-0D44 0D4D "
        "0D57 0D62-0D63 0DCA 0DCF 0DD2-0DD4 0DD6 0DDF 0E31 0E34-0E3A 0E47-0E4E 0EB1 0EB4-0EB9 "
        "0EBB-0EBC 0EC8-0ECD 0F18-0F19 0F35 0F37 0F39 0F71-0F7E 0F80-0F84 0F86-0F87 0F8D-0F97 "
        "0F99-0FBC 0FC6 102D-1030 1032-1037 1039-103A 103D-103E 1058-1059 105E-1060 1071-1074 "
        "1082 1085-1086 108D 109D 135D-135F 1712-1714 1732-1734 1752-1753 1772-1773 17B4-17B5 "
        "17B7-17BD 17C6 17C9-17D3 17DD 180B-180D 1885-1886 18A9 1920-1922 1927-1928 1932 "
        "1939-193B 1A17-1A18 1A1B 1A56 1A58-1A5E 1A60 1A62 1A65-1A6C 1A73-1A7C 1A7F 1AB0-1ABE "
        "1B00-1B03 1B34 1B36-1B3A 1B3C 1B42 1B6B-1B73 1B80-1B81 1BA2-1BA5 1BA8-1BA9 1BAB-1BAD "
        "1BE6 1BE8-1BE9 1BED 1BEF-1BF1 1C2C-1C33 1C36-1C37 1CD0-1CD2 1CD4-1CE0 1CE2-1CE8 1CED "
        "1CF4 1CF8-1CF9 1DC0-1DF9 1DFB-1DFF 200C 20D0-20F0 2CEF-2CF1 2D7F 2DE0-2DFF 302A-302F "
        "3099-309A A66F-A672 A674-A67D A69E-A69F A6F0-A6F1 A802 A806 A80B A825-A826 A8C4-A8C5 "
        "A8E0-A8F1 A926-A92D A947-A951 A980-A982 A9B3 A9B6-A9B9 A9BC A9E5 AA29-AA2E AA31-AA32 "
        "AA35-AA36 AA43 AA4C AA7C AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AAEC-AAED AAF6 ABE5 "
        "ABE8 ABED FB1E FE00-FE0F FE20-FE2F FF9E-FF9F 101FD 102E0 10376-1037A 10A01-10A03 "
        "10A05-10A06 10A0C-10A0F 10A38-10A3A 10A3F 10AE5-10AE6 11001 11038-11046 1107F-11081 "
        "110B3-110B6 110B9-110BA 11100-11102 11127-1112B 1112D-11134 11173 11180-11181 "
        "111B6-111BE 111CA-111CC 1122F-11231 11234 11236-11237 1123E 112DF 112E3-112EA "
        "11300-11301 1133C 1133E 11340 11357 11366-1136C 11370-11374 11438-1143F 11442-11444 "
        "11446 114B0 114B3-114B8 114BA 114BD 114BF-114C0 114C2-114C3 115AF 115B2-115B5 "
        "115BC-115BD 115BF-115C0 115DC-115DD 11633-1163A 1163D 1163F-11640 116AB 116AD "
        "116B0-116B5 116B7 1171D-1171F 11722-11725 11727-1172B 11A01-11A06 11A09-11A0A "
        "11A33-11A38 11A3B-11A3E 11A47 11A51-11A56 11A59-11A5B 11A8A-11A96 11A98-11A99 "
        "11C30-11C36 11C38-11C3D 11C3F 11C92-11CA7 11CAA-11CB0 11CB2-11CB3 11CB5-11CB6 "
        "11D31-11D36 11D3A 11D3C-11D3D 11D3F-11D45 11D47 16AF0-16AF4 16B30-16B36 16F8F-16F92 "
        "1BC9D-1BC9E 1D165 1D167-1D169 1D16E-1D172 1D17B-1D182 1D185-1D18B 1D1AA-1D1AD "
        "1D242-1D244 1DA00-1DA36 1DA3B-1DA6C 1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF 1E000-1E006 "
        "1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A 1E8D0-1E8D6 1E944-1E94A E0020-E007F "
        "E0100-E01EF"
    ),
    _PREPEND: "0600-0605 06DD 070F 08E2 0D4E 110BD 111C2-111C3 11A3A 11A86-11A89 11D46",
    _SPACING_MARK: (
        "0903 093B 093E-0940 0949-094C 094E-094F 0982-0983 09BF-09C0 09C7-09C8 09CB-09CC 0A03 "
        "0A3E-0A40 0A83 0ABE-0AC0 0AC9 0ACB-0ACC 0B02-0B03 0B40 0B47-0B48 0B4B-0B4C 0BBF "
        "0BC1-0BC2 0BC6-0BC8 0BCA-0BCC 0C01-0C03 0C41-0C44 0C82-0C83 0CBE 0CC0-0CC1 0CC3-0CC4 "
        "0CC7-0CC8 0CCA-0CCB 0D02-0D03 0D3F-0D40 0D46-0D48 0D4A-0D4C 0D82-0D83 0DD0-0DD1 "
        "0DD8-0DDE 0DF2-0DF3 0E33 0EB3 0F3E-0F3F 0F7F 1031 103B-103C 1056-1057 1084 17B6 "
        "17BE-17C5 17C7-17C8 1923-1926 1929-192B 1930-1931 1933-1938 1A19-1A1A 1A55 1A57 "
        "1A6D-1A72 1B04 1B35 1B3B 1B3D-1B41 1B43-1B44 1B82 1BA1 1BA6-1BA7 1BAA 1BE7 1BEA-1BEC "
        "1BEE 1BF2-1BF3 1C24-1C2B 1C34-1C35 1CE1 1CF2-1CF3 1CF7 A823-A824 A827 A880-A881 "
        "A8B4-A8C3 A952-A953 A983 A9B4-A9B5 A9BA-A9BB A9BD-A9C0 AA2F-AA30 AA33-AA34 AA4D AAEB "
        "AAEE-AAEF AAF5 ABE3-ABE4 ABE6-ABE7 ABE9-ABEA ABEC 11000 11002 11082 110B0-110B2 "
        "110B7-110B8 1112C 11182 111B3-111B5 111BF-111C0 1122C-1122E 11232-11233 11235 "
        "112E0-112E2 11302-11303 1133F 11341-11344 11347-11348 1134B-1134D 11362-11363 "
        "11435-11437 11440-11441 11445 114B1-114B2 114B9 114BB-114BC 114BE 114C1 115B0-115B1 "
        "115B8-115BB 115BE 11630-11632 1163B-1163C 1163E 116AC 116AE-116AF 116B6 11720-11721 "
        "11726 11A07-11A08 11A39 11A57-11A58 11A97 11C2F 11C3E 11CA9 11CB1 11CB4 16F51-16F7E "
        "1D166 1D16D"
    ),
    _L: "1100-115F A960-A97C",
    _V: "1160-11A7 D7B0-D7C6",
    _T: "11A8-11FF D7CB-D7FB",
    _ZWJ: "200D",
    _E_BASE: (
        "261D 26F9 270A-270D 1F385 1F3C2-1F3C4 1F3C7 1F3CA-1F3CC 1F442-1F443 1F446-1F450 "
        "1F46E 1F470-1F478 1F47C 1F481-1F483 1F485-1F487 1F4AA 1F574-1F575 1F57A 1F590 "
        "1F595-1F596 1F645-1F647 1F64B-1F64F 1F6A3 1F6B4-1F6B6 1F6C0 1F6CC 1F918-1F91C "
        "1F91E-1F91F 1F926 1F930-1F939 1F93D-1F93E 1F9D1-1F9DD"
    ),
    _GLUE_AFTER_ZWJ: (
        "2640 2642 2695-2696 2708 2764 1F308 1F33E 1F373 1F393 1F3A4 1F3A8 1F3EB 1F3ED 1F48B "
        "1F4BB-1F4BC 1F527 1F52C 1F5E8 1F680 1F692"
    ),
    _REGIONAL_INDICATOR: "1F1E6-1F1FF",
    _E_MODIFIER: "1F3FB-1F3FF",
    _E_BASE_GAZ: "1F466-1F469",
}
_HANGUL_FIRST, _HANGUL_LAST, _HANGUL_T_COUNT = 0xAC00, 0xD7A3, 28


def _parse_ranges() -> tuple[list[int], list[int], list[int]]:
    """Turn _BREAK_RANGES into sorted (starts, ends, values) lists for bisect."""
    rows = []
    for value, spec in _BREAK_RANGES.items():
        for item in spec.split():
            first, _, last = item.partition("-")
            rows.append((int(first, 16), int(last or first, 16), value))
    rows.sort()
    return [row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]


_STARTS, _ENDS, _VALUES = _parse_ranges()


@functools.lru_cache(maxsize=4096)
def break_property(code_point: int) -> int:
    """Grapheme_Cluster_Break value of a code point, as grapheme-splitter 1.0.4 has it."""
    if _HANGUL_FIRST <= code_point <= _HANGUL_LAST:
        return _LV if (code_point - _HANGUL_FIRST) % _HANGUL_T_COUNT == 0 else _LVT
    index = bisect.bisect_right(_STARTS, code_point) - 1
    if index >= 0 and code_point <= _ENDS[index]:
        return _VALUES[index]
    return _OTHER


BREAK_PROPERTY_NAMES = (
    "CR LF Control Extend Regional_Indicator SpacingMark L V T LV LVT Other Prepend "
    "E_Base E_Modifier ZWJ Glue_After_Zwj E_Base_GAZ"
).split()
"""Names of the values break_property returns, by value."""


def _complex_pattern() -> re.Pattern[str]:
    """BMP characters that may join a cluster with a neighbour: all but Other, CR, LF, Control.

    (Characters beyond the BMP are looked for apart, by `_ASTRAL`: a class with all the
    astral ranges is searched range by range, about 100 times slower.)
    """
    simple = (_OTHER, _CR, _LF, _CONTROL)
    ranges = [f"{chr(_HANGUL_FIRST)}-{chr(_HANGUL_LAST)}"]  # LV and LVT syllables
    for start, end, value in zip(_STARTS, _ENDS, _VALUES, strict=True):
        if value not in simple and end <= 0xFFFF:
            last = "-" + re.escape(chr(end)) if end > start else ""
            ranges.append(re.escape(chr(start)) + last)
    return re.compile("[" + "".join(ranges) + "]")


_COMPLEX_BMP = _complex_pattern()
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def one_per_character(text: str) -> bool:
    """True when every character of the text is a cluster of its own (CR LF aside) and
    one UTF-16 code unit: no character of it can join a neighbour, none is astral.

    Most replies are such texts (Latin, Cyrillic, Georgian, Armenian, Arabic script without
    vowel marks, bidi isolates); for them every rule of the splitter breaks between
    characters except GB3 (CR LF), so they need not run, about 2 µs a character.
    """
    return _COMPLEX_BMP.search(text) is None and _ASTRAL.search(text) is None


def graphemes(text: str) -> list[str]:
    """Split a text into grapheme clusters exactly as grapheme-splitter 1.0.4 does."""
    if not one_per_character(text):
        return _graphemes(text)
    if "\r\n" not in text:
        return list(text)
    clusters: list[str] = []
    for line in text.split("\r\n"):
        clusters += [*line, "\r\n"]
    return clusters[:-1]


def _graphemes(text: str) -> list[str]:
    """graphemes(), rule by rule."""
    props = [break_property(ord(char)) for char in text]
    clusters = []
    start = 0
    while start < len(text):
        end = start + 1
        mid: list[int] = []
        while end < len(text) and not _should_break(props[start], mid, props[end]):
            mid.append(props[end])
            end += 1
        clusters.append(text[start:end])
        start = end
    return clusters


def _last_index(values: list[int], value: int) -> int:
    """Like JavaScript's Array.prototype.lastIndexOf."""
    for index in range(len(values) - 1, -1, -1):
        if values[index] == value:
            return index
    return -1


def _should_break(start: int, mid: list[int], end: int) -> bool:
    """grapheme-splitter's shouldBreak: may a cluster begun by start (then mid) end before end?"""
    seq = [start, *mid, end]
    previous = seq[-2]
    # Look-ahead terminators for GB10 and GB12/GB13.
    modifier = _last_index(seq, _E_MODIFIER)
    if (
        modifier > 1
        and all(value == _EXTEND for value in seq[1:modifier])
        and start not in (_EXTEND, _E_BASE, _E_BASE_GAZ)
    ):
        return True
    regional = _last_index(seq, _REGIONAL_INDICATOR)
    if (
        regional > 0
        and all(value == _REGIONAL_INDICATOR for value in seq[1:regional])
        and previous not in (_PREPEND, _REGIONAL_INDICATOR)
    ):
        return True
    if previous == _CR and end == _LF:  # GB3
        return False
    if previous in (_CONTROL, _CR, _LF) or end in (_CONTROL, _CR, _LF):  # GB4, GB5
        return True
    if previous == _L and end in (_L, _V, _LV, _LVT):  # GB6
        return False
    if previous in (_LV, _V) and end in (_V, _T):  # GB7
        return False
    if previous in (_LVT, _T) and end == _T:  # GB8
        return False
    if end in (_EXTEND, _ZWJ, _SPACING_MARK) or previous == _PREPEND:  # GB9, GB9a, GB9b
        return False
    base = _last_index(seq, _EXTEND) - 1 if _EXTEND in seq else len(seq) - 2
    if (  # GB10
        end == _E_MODIFIER
        and base >= 0
        and seq[base] in (_E_BASE, _E_BASE_GAZ)
        and all(value == _EXTEND for value in seq[base + 1 : -1])
    ):
        return False
    if previous == _ZWJ and end in (_GLUE_AFTER_ZWJ, _E_BASE_GAZ):  # GB11
        return False
    if _REGIONAL_INDICATOR in mid:  # GB12, GB13
        return True
    return not (previous == _REGIONAL_INDICATOR and end == _REGIONAL_INDICATOR)
