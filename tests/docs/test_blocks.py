"""The harness finds the blocks a reader sees, with their markers, and refuses markers it does
not understand (a typo must not quietly leave a block unrun)."""

from __future__ import annotations

import pytest

from tests.docs.blocks import ROOT, MarkerError, all_blocks, blocks_of, parse_marker

PAGE = ROOT / "docs" / "example.md"
TEXT = """# Example

```python
x = 1
```

<!-- docs-test: server -->
```bash
vigil models list
```

```text
output, not run
```

<!-- docs-test: file="checks.yaml" -->
```yaml
checks: []
```

<!-- docs-test: skip reason="serves until Ctrl-C" -->
```sh
vigil server
```

- a list item with a block:

  ```python
  y = x + 1
  ```

```console
$ vigil --version
vigil, version 0.1.0
```
"""


def test_finds_runnable_blocks_with_their_lines_and_markers() -> None:
    blocks = blocks_of(PAGE, TEXT)
    assert [(b.line, b.lang, b.needs, b.skip) for b in blocks] == [
        (3, "python", frozenset(), None),
        (8, "bash", frozenset({"server"}), None),
        (17, "yaml", frozenset(), None),
        (22, "sh", frozenset(), "serves until Ctrl-C"),
        (28, "python", frozenset(), None),
        (32, "console", frozenset(), None),
    ]
    assert blocks[0].id == "docs/example.md:3"
    assert blocks[2].file == "checks.yaml"  # saved, not run
    assert blocks[4].code == "y = x + 1"  # the list item's indent is removed
    assert blocks[5].script() == "vigil --version"  # a console block runs its `$ ` lines


@pytest.mark.parametrize(
    ("body", "needs", "skip", "file"),
    [
        (" server ", {"server"}, None, None),
        (" server, spark ", {"server", "spark"}, None, None),
        (' skip reason="needs a GPU" ', set(), "needs a GPU", None),
        (' file="conf/monitors.yaml" ', set(), None, "conf/monitors.yaml"),
    ],
)
def test_parses_markers(body: str, needs: set[str], skip: str | None, file: str | None) -> None:
    assert parse_marker(body) == (frozenset(needs), skip, file)


@pytest.mark.parametrize("body", [" sever ", " skip ", " skip reason=gpu ", ' file="../x" '])
def test_refuses_unknown_markers(body: str) -> None:
    with pytest.raises(MarkerError, match="unknown docs-test marker"):
        parse_marker(body)


def test_refuses_a_marker_away_from_a_fence_and_an_unclosed_fence() -> None:
    with pytest.raises(MarkerError, match="must precede a fence"):
        blocks_of(PAGE, "<!-- docs-test: server -->\n\n```python\nx = 1\n```\n")
    with pytest.raises(MarkerError, match="never closed"):
        blocks_of(PAGE, "```python\nx = 1\n")


def test_the_docs_skip_few_blocks_each_with_a_reason() -> None:
    blocks = all_blocks()
    skipped = [b for b in blocks if b.skip is not None]
    assert len(blocks) >= 30
    assert len(skipped) <= len(blocks) // 5, [b.id for b in skipped]
    assert all(b.skip.strip() for b in skipped if b.skip is not None)
