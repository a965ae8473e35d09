#!/usr/bin/env python3
"""Writes distractors.jsonl: the poems of the whole `chinese-poetry` corpus (npm 2.0.1, every
collection) that compete with the poem a near-miss query means (`queries.tsv`, corpus `near`),
so the relevance test ranks the 唐诗三百首 of poems.jsonl among the poems that a search of
the whole corpus puts beside them: for each query, the best 20 records of the query and the
best 10 of each of its clauses, and the 15 best of each relevant poem's title, as a Jincheng
holding the whole corpus ranks them (`jincheng bench http --corpus … --data DIR`, then
`jincheng serve` on DIR at 127.0.0.1:18080). A poem's `collection` (its OAI-PMH set: the
collection's directory) becomes its source in the test, so a poem printed in two collections
has two holders.

Usage: python3 generate_distractors.py queries.tsv poems.jsonl [base URL] > distractors.jsonl
"""
import json
import sys
import urllib.parse
import urllib.request

queries_tsv, poems_jsonl = sys.argv[1], sys.argv[2]
base = sys.argv[3] if len(sys.argv) > 3 else "http://127.0.0.1:18080"


def search(q, size):
    url = f"{base}/api/v1/search?" + urllib.parse.urlencode(
        {"q": q, "page_size": size, "collapse": "false"})
    return [h["id"] for h in json.load(urllib.request.urlopen(url))["hits"]]


titles = {}
for line in open(poems_jsonl, encoding="utf-8"):
    poem = json.loads(line)
    titles[poem["id"]] = poem["title"]

wanted = []
for line in open(queries_tsv, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    corpus, _, query, relevant = line.rstrip("\n").split("\t")
    if corpus != "near":
        continue
    searches = [(query, 20)] + [(c, 10) for c in query.split()]
    searches += [(titles[r], 15) for r in relevant.split() if r in titles]
    for text, size in searches:
        for record_id in search(text, size):
            if record_id not in wanted:
                wanted.append(record_id)

for record_id in sorted(wanted, key=lambda i: int(i.rsplit(":", 1)[1])):
    url = f"{base}/api/v1/records/" + urllib.parse.quote(record_id)
    record = json.load(urllib.request.urlopen(url))
    record = record.get("record", record)
    subjects = record.get("subjects") or ["poetry"]
    number = record_id.rsplit(":", 1)[1]
    print(json.dumps({
        "id": f"{subjects[0]}:{number}",
        "title": record.get("title", ""),
        "author": (record.get("creators") or [""])[0],
        "lines": [l for l in (record.get("description") or "").split("\n") if l],
    }, ensure_ascii=False))
