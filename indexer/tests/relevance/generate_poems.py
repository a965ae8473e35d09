#!/usr/bin/env python3
"""Writes poems.jsonl: the 唐诗三百首 of the `chinese-poetry` npm package (MIT licence;
the poems themselves are in the public domain), in the package's traditional characters
(牀前看月光 …), one poem a line: {"id", "title", "author", "lines", "tags"}.

Usage: npm pack chinese-poetry && tar xzf chinese-poetry-*.tgz
       python3 generate_poems.py package/dist/quantangshi/唐诗三百首.json > poems.jsonl
"""
import json
import sys

poems = json.load(open(sys.argv[1], encoding="utf-8"))
for number, poem in enumerate(poems, start=1):
    print(json.dumps({
        "id": f"poem:{number:03d}",
        "title": poem["title"],
        "author": poem["author"],
        "lines": poem["paragraphs"],
        "tags": [t for t in poem.get("tags", []) if t != "唐诗三百首"],
    }, ensure_ascii=False))
