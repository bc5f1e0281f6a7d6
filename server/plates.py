"""Vietnamese licence-plate normalisation (pure functions, no I/O, no Flask).

Reports carry a plate exactly as a citizen typed it (or as OCR read it). This module turns
that string into a :class:`Plate`: the detected plate *kind*, a compact form used for
matching, and a canonical display form. :func:`match_key` then builds the deduplication key,
which also carries the vehicle-class family chosen by the reporter.

Pipeline of :func:`normalize_plate` (formats and rationale: ``shared/data/plates.md``):

1. Clean: Unicode NFKC (full-width characters), ``upper()``, then fold Cyrillic/Greek
   look-alike capitals (``А В Е К М Н О Р С Т Х У`` ...) to Latin, and ``Ð`` (U+00D0) to
   ``Đ``. Only ``[0-9A-ZĐ]`` is kept; every other character is a separator.
2. Match the kept characters against the plate patterns, in this order: foreign,
   moto_electric, car_special, moto, the ambiguous 8-character form, car, moto_small,
   military, temporary.
3. If nothing matches, apply positional OCR fixes (``O Q D -> 0``, ``I L -> 1``, ``Z -> 2``,
   ``S -> 5``, ``B -> 8``, ``G -> 6``) to the locality and the trailing order group only --
   never to a series -- and retry. Among the candidate readings the one with the fewest fixes
   wins (ties: pattern order). A reading is rejected if it needs more than
   :data:`MAX_OCR_FIXES` fixes or if a fixed group would keep no genuine digit, so that
   garbage such as ``"SSSSSSS"`` stays ``unknown`` instead of becoming a plate.
4. The compact 8-character form ``LL L D DDDD`` is either a new car plate (``30A-123.45``)
   or an old motorbike plate (``30-A1 2345``). It is decided by the raw separators (a break
   after the 3rd kept character means car, after the 4th means motorbike; both or neither
   decides nothing), then by the reporter's vehicle class (car/truck/bus -> car,
   motorbike -> moto); otherwise the kind is ``"ambiguous"`` and there is no display form.

``Plate.compact`` folds ``Đ`` to ``D`` (so ``29-MĐ1 013.53`` and ``29-MD1 013.53`` compare
equal), while ``Plate.display`` keeps the letter as typed. Unknown locality codes are not
rejected: the locality list is unverified and changes with province mergers.
"""

import re
import unicodedata
from dataclasses import dataclass

# What the reporter picks.
VEHICLE_CLASSES = ("car", "motorbike", "truck", "bus", "bicycle", "other")

KINDS = (
    "car",
    "car_special",
    "foreign",
    "moto",
    "moto_small",
    "moto_electric",
    "military",
    "temporary",
    "ambiguous",
    "unknown",
    "empty",
)

# Vehicle classes whose plates are car-style; every other class is in the "moto" family.
CAR_FAMILY_CLASSES = frozenset({"car", "truck", "bus"})

# An OCR'd plate needing more fixes than this is treated as unreadable.
MAX_OCR_FIXES = 2

# Look-alike capitals (after upper()) -> the Latin letter or Đ they imitate.
_LOOKALIKES = str.maketrans(
    "АВЕКМНОРСТХУЅІЈΑΒΕΖΗΙΚΜΝΟΡΤΥΧÐ",  # Cyrillic, Greek, Icelandic eth
    "ABEKMHOPCTXYSIJABEZHIKMNOPTYXĐ",
)
_OCR_LETTERS = "OQDILZSBG"
_OCR_TO_DIGIT = str.maketrans(_OCR_LETTERS, "000112586")
_KEEP = re.compile(r"[0-9A-ZĐ]")


@dataclass(frozen=True)
class Plate:
    """A normalised plate. Build it with :func:`normalize_plate`."""

    raw: str  # as typed
    kind: str  # one of KINDS
    compact: str  # cleaned, separators stripped, Đ folded to D; "" when empty
    display: str | None  # canonical display form, None when ambiguous/unknown/empty


@dataclass(frozen=True)
class _Pattern:
    """A plate pattern as regex groups; ``#`` stands for one digit position."""

    kind: str
    groups: tuple[str, ...]
    fixable: tuple[int, ...]  # groups where positional OCR fixes are allowed

    def regex(self, lenient: bool) -> re.Pattern[str]:
        ocr_digit = f"[0-9{_OCR_LETTERS}]"
        parts = [
            g.replace("#", ocr_digit if lenient and i in self.fixable else "[0-9]")
            for i, g in enumerate(self.groups)
        ]
        return re.compile("^" + "".join(f"({p})" for p in parts) + "$")


_AMBIGUOUS = "moto_or_car"
_PATTERNS = (
    _Pattern("foreign", ("##", "###", "NG|QT|NN|CV", "#{2,3}"), (0, 3)),
    _Pattern("moto_electric", ("##", "M[ĐD]#", "#{4,5}"), (0, 2)),
    _Pattern("car_special", ("##", "LD|KT|DA|MK|TĐ|HC", "#{4,5}"), (0, 2)),
    _Pattern("moto", ("##", "[A-Z]#", "#{5}"), (0, 2)),
    _Pattern(_AMBIGUOUS, ("##", "[A-Z]", "#", "#{4}"), (0, 3)),
    _Pattern("car", ("##", "[A-Z]", "#{4,5}"), (0, 2)),
    _Pattern("moto_small", ("##", "[A-Z]{2}", "#{4,5}"), (0, 2)),
    _Pattern("military", ("[A-Z]{2}", "#{4,6}"), (1,)),
    _Pattern("temporary", ("T", "##", "#{5}"), (1, 2)),
)
_STRICT = tuple((p, p.regex(lenient=False)) for p in _PATTERNS)
_LENIENT = tuple((p, p.regex(lenient=True)) for p in _PATTERNS)


def normalize_plate(raw: str | None, vehicle_class: str | None = None) -> Plate:
    """Normalise a plate as typed; never raises for any ``raw`` string.

    ``vehicle_class`` (one of :data:`VEHICLE_CLASSES`, or None/"") only decides the
    ambiguous 8-character form when the raw separators do not; an unknown class raises
    ``ValueError``. A ``raw`` with no plate character at all (None, blank, ``"!!!"``) gives
    kind ``"empty"``; anything unrecognised gives kind ``"unknown"`` with the cleaned
    characters as ``compact``.
    """
    vclass = _check_class(vehicle_class, allow_empty=True)
    raw = raw or ""
    kept, breaks = _clean(raw)
    if not kept:
        return Plate(raw, "empty", "", None)
    parsed = _parse(kept) or _parse_ocr(kept)
    if parsed is None:
        return Plate(raw, "unknown", _fold(kept), None)
    fixed, pattern, groups = parsed
    kind = pattern.kind
    if kind == _AMBIGUOUS:
        kind = _resolve_ambiguous(breaks, vclass)
        groups = _regroup_ambiguous(groups, kind)
    display = None if kind == "ambiguous" else _display(kind, groups)
    return Plate(raw, kind, _fold(fixed), display)


def match_key(plate: Plate, vehicle_class: str) -> str | None:
    """Dedup key: includes the vehicle class family so a motorbike 29-B1 1234 and a car
    29B-112.34 never collide. None when the plate is empty/unknown.

    Format: ``"<family>:<compact>"``, e.g. ``"car:30A12345"`` or ``"moto:29B11234"``. The
    family is ``"car"`` for car, truck and bus, and ``"moto"`` for motorbike, bicycle and
    other. Ambiguous plates get a key too (the family separates the two readings).
    ``vehicle_class`` must be one of :data:`VEHICLE_CLASSES`, else ``ValueError``.
    """
    vclass = _check_class(vehicle_class, allow_empty=False)
    if plate.kind in ("empty", "unknown") or not plate.compact:
        return None
    family = "car" if vclass in CAR_FAMILY_CLASSES else "moto"
    return f"{family}:{plate.compact}"


def _check_class(vehicle_class: str | None, *, allow_empty: bool) -> str | None:
    """Lower-case and validate a vehicle class; None/"" become None when allowed."""
    vclass = (vehicle_class or "").strip().lower()
    if not vclass and allow_empty:
        return None
    if vclass not in VEHICLE_CLASSES:
        raise ValueError(f"unknown vehicle class {vehicle_class!r}; expected {VEHICLE_CLASSES}")
    return vclass


def _clean(raw: str) -> tuple[str, frozenset[int]]:
    """Return the kept characters and the separator positions.

    A position ``n`` in the set means the raw input had a separator between the ``n``-th
    and ``n+1``-th kept character.
    """
    text = unicodedata.normalize("NFKC", raw).upper().translate(_LOOKALIKES)
    kept: list[str] = []
    breaks: set[int] = set()
    for char in text:
        if _KEEP.fullmatch(char):
            kept.append(char)
        elif kept:
            breaks.add(len(kept))
    return "".join(kept), frozenset(breaks)


def _fold(text: str) -> str:
    return text.replace("Đ", "D")


def _parse(text: str) -> tuple[str, _Pattern, tuple[str, ...]] | None:
    """First strict pattern matching ``text``, as (text, pattern, groups)."""
    for pattern, regex in _STRICT:
        m = regex.match(text)
        if m:
            return text, pattern, m.groups()
    return None


def _parse_ocr(text: str) -> tuple[str, _Pattern, tuple[str, ...]] | None:
    """Retry with positional OCR fixes; the reading needing the fewest fixes wins."""
    best: tuple[int, str] | None = None
    for pattern, regex in _LENIENT:
        m = regex.match(text)
        if not m:
            continue
        fixed_groups = [m.group(i + 1) for i in pattern.fixable]
        if not all(any(c.isascii() and c.isdigit() for c in g) for g in fixed_groups):
            continue  # a locality or order made only of look-alike letters is no reading
        fixes = sum(c in _OCR_LETTERS for g in fixed_groups for c in g)
        candidate = _apply_fixes(m.groups(), pattern.fixable)
        if fixes <= MAX_OCR_FIXES and (best is None or fixes < best[0]):
            best = (fixes, candidate)
    return _parse(best[1]) if best else None


def _apply_fixes(groups: tuple[str, ...], fixable: tuple[int, ...]) -> str:
    return "".join(g.translate(_OCR_TO_DIGIT) if i in fixable else g for i, g in enumerate(groups))


def _resolve_ambiguous(breaks: frozenset[int], vclass: str | None) -> str:
    """Decide ``LL L D DDDD``: "car", "moto" or "ambiguous"."""
    after3, after4 = 3 in breaks, 4 in breaks
    if after3 != after4:
        return "car" if after3 else "moto"
    if vclass in CAR_FAMILY_CLASSES:
        return "car"
    if vclass == "motorbike":
        return "moto"
    return "ambiguous"


def _regroup_ambiguous(groups: tuple[str, ...], kind: str) -> tuple[str, ...]:
    """Turn (locality, letter, digit, 4 digits) into the resolved kind's groups."""
    locality, letter, digit, order = groups
    if kind == "moto":
        return locality, letter + digit, order
    return locality, letter, digit + order


def _order(digits: str) -> str:
    """``12345`` -> ``123.45``; a 4-digit (old-style) order is shown as is."""
    return f"{digits[:3]}.{digits[3:]}" if len(digits) == 5 else digits


def _military_digits(digits: str) -> str:
    """``3386`` -> ``33-86``, ``123456`` -> ``12-34-56``, ``12345`` -> ``123-45`` (unverified)."""
    if len(digits) == 6:
        return f"{digits[:2]}-{digits[2:4]}-{digits[4:]}"
    return f"{digits[:-2]}-{digits[-2:]}"


def _display(kind: str, groups: tuple[str, ...]) -> str:
    """Canonical display form of a recognised (non-ambiguous) plate."""
    if kind == "foreign":
        return "-".join(groups)
    if kind == "military":
        return f"{groups[0]}-{_military_digits(groups[1])}"
    if kind == "temporary":
        return f"T{groups[1]}-{_order(groups[2])}"
    locality, series, order = groups
    if kind in ("car", "car_special"):
        return f"{locality}{series}-{_order(order)}"
    return f"{locality}-{series} {_order(order)}"  # moto, moto_small, moto_electric
