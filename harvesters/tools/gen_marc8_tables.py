#!/usr/bin/env python3
"""Writes harvesters/src/marc/marc8_tables.bin, the MARC-8 code tables the decoder in
charset.rs searches.

Provenance: the tables are the Library of Congress MARC-8 code tables ("MARC 21
Specifications for Record Structure, Character Sets, and Exchange Media", Part 3: Code
Tables), as pymarc 5.4.0 (BSD-2-Clause) carries them in `pymarc/marc8_mapping.py`
(`CODESETS`: final byte of the set's escape sequence -> {position: (code point,
is_combining)}). Only that table data is read; none of pymarc's decoding logic is used.
pymarc's `ODD_MAP` (vendor-specific extras, not LoC) is deliberately left out.

Run it with the peers' python (it has pymarc):

    python=$(bash ../shared/peers/setup.sh | tail -1)
    $python harvesters/tools/gen_marc8_tables.py

The file is a sorted array of 8-byte records, searched with a binary search:

    byte 0      the set's final byte (0x31 EACC, 0x45 ANSEL, 0x4E basic Cyrillic, ...)
    bytes 1-3   the position in the set, big-endian, each byte reduced to its 7-bit form
                (0x21-0x7E; 0x20 also as an EACC third byte); one-byte sets use byte 3 only
    byte 4      flags: bit 0 = combining mark (MARC-8 writes it before its base character)
    bytes 5-7   the Unicode scalar value, big-endian

Positions are stored in 7-bit form because a set may be designated as G0 (bytes
0x21-0x7E) or as G1 (the same positions with the high bit set, 0xA1-0xFE): pymarc keys
some sets in their usual G1 form (ANSEL, extended Cyrillic, extended Arabic) and the
others in G0 form. Basic Latin (ASCII, 0x42) is not stored: it is the identity, decoded
directly. ANSEL's 0x88/0x89/0x8D/0x8E are C1 control functions (non-sort begin/end,
joiner, non-joiner), decoded directly as well.
"""

import argparse
import importlib.metadata
import pathlib
import struct
import sys

from pymarc import marc8_mapping

EXPECTED_PYMARC = "5.4.0"
ASCII = 0x42
ANSEL = 0x45
EACC = 0x31
ANSEL_CONTROLS = {0x88, 0x89, 0x8D, 0x8E}


def seven_bit(position, width):
    """The 7-bit form of a position; refuses bytes outside the graphic ranges."""
    out = 0
    for shift in range(8 * (width - 1), -8, -8):
        byte = (position >> shift) & 0xFF
        low = byte & 0x7F
        # 0x20 is a valid EACC byte only in trailing positions (e.g. 0x212320, the
        # ideographic space); single-byte sets use 0x21-0x7E.
        lowest = 0x20 if (width == 3 and shift < 16) else 0x21
        if not lowest <= low <= 0x7E:
            raise SystemExit(f"position 0x{position:X} has byte 0x{byte:02X} outside a graphic range")
        out = (out << 8) | low
    if position >> (8 * width):
        raise SystemExit(f"position 0x{position:X} is wider than {width} bytes")
    return out


def records():
    rows = {}
    for final, table in marc8_mapping.CODESETS.items():
        if final == ASCII:
            for position, (code_point, combining) in table.items():
                if 0x20 <= position <= 0x7E and (code_point, combining) != (position, 0):
                    raise SystemExit(f"ASCII 0x{position:02X} is not the identity")
            continue
        width = 3 if final == EACC else 1
        for position, (code_point, combining) in table.items():
            if final == ANSEL and position in ANSEL_CONTROLS:
                continue
            key = (final, seven_bit(position, width))
            if key in rows:
                raise SystemExit(f"set 0x{final:02X}: two entries for position 0x{key[1]:X}")
            if not 0 < code_point <= 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
                raise SystemExit(f"set 0x{final:02X}: 0x{code_point:X} is not a scalar value")
            rows[key] = (1 if combining else 0, code_point)
    return sorted(rows.items())


def main():
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=here.parent / "src" / "marc" / "marc8_tables.bin",
    )
    args = parser.parse_args()
    version = importlib.metadata.version("pymarc")
    if version != EXPECTED_PYMARC:
        raise SystemExit(f"expected pymarc {EXPECTED_PYMARC}, found {version}")
    out = bytearray()
    counts = {}
    for (final, position), (flags, code_point) in records():
        out += struct.pack(">B", final) + position.to_bytes(3, "big")
        out += struct.pack(">B", flags) + code_point.to_bytes(3, "big")
        counts[final] = counts.get(final, 0) + 1
    args.out.write_bytes(bytes(out))
    summary = ", ".join(f"0x{final:02X}: {n}" for final, n in sorted(counts.items()))
    print(f"{args.out}: {len(out) // 8} entries ({summary})", file=sys.stderr)


if __name__ == "__main__":
    main()
