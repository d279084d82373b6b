"""Every character survives kure-fn's emitter: what it writes, it (and any
YAML reader) reads back as the same string — plain, quoted or literal."""

import yaml

from fn.krm import yamlio

CHARS = [chr(i) for i in [*range(0, 0x250), *range(0x2000, 0x2070), *range(0xd7f0, 0xd800), *range(0xe000, 0xe010),
                          0xfeff, 0xfffd, 0xfffe, 0xffff, 0x10000, 0x1f600]]


def test_every_character_round_trips():
    doc = {f"k{i}": v for i, v in enumerate(
        v for c in CHARS for v in (c, f"a{c}b", f"line{c}\nnext\n"))}
    text = yamlio.dump(doc)
    assert yamlio.load(text) == doc
    assert yaml.load(text, Loader=yaml.SafeLoader) == doc


def test_plain_and_quoted_forms():
    assert yamlio.dump({"a": "hello"}) == "a: hello\n"
    assert yamlio.dump({"a": "true"}) == 'a: "true"\n'
    assert yamlio.dump({"a": "x\x80y"}) == 'a: "x\\u0080y"\n'
    assert yamlio.dump({"a": 'say "hi"\t'}) == 'a: "say \\"hi\\"\\t"\n'
    assert yamlio.dump({"a": "\u2028"}) == 'a: "\\L"\n'
