"""Render the benchmark results (Markdown) as reStructuredText include files.

``benchmarks/quality.py`` and ``benchmarks/speed.py`` write their results as
Markdown: headings, paragraphs, bullet lists, code fences and pipe tables.
At the start of every build this extension turns each file listed in
``md_include_files`` (``(path, command, title)`` tuples) into
``<md_include_dir>/<stem>.rst.inc``, which the documentation pulls in with
``.. include::``. Markdown headings become sections (``#`` the top level
below the page title). Tables become ``list-table``
directives; any other text is escaped, so nothing in a result file can break
the build. A missing result file gives a section ``title`` saying how to
generate it, instead of a warning.
"""

import re
from pathlib import Path

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d+)[.)]\s+(.*)$")
_LIST_START = re.compile(r"^(?:[-+*]|#\.|\d+[.)]|[a-zA-Z][.)])(?:\s|$)")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_INLINE = re.compile(
    r"(?P<code>`+)(?P<code_text>.+?)(?P=code)"
    r"|\[(?P<link_text>[^\]]+)\]\((?P<url>[^)\s]+)\)"
    r"|\*\*(?P<bold>[^*]+)\*\*"
    r"|(?<![\w*])\*(?P<em>[^*\s][^*]*)\*(?![\w*])"
)
# Characters with a meaning in reStructuredText inline markup.
_SPECIAL = re.compile(r"([\\`*_|<>\[\]])")
# Section adornments for Markdown heading levels 1 to 6, below the page title
# (which the including page writes with an overline).
_ADORNMENTS = "=-~^\"'"


def _escape(text):
    return _SPECIAL.sub(r"\\\1", text)


def _inline(text):
    """Convert Markdown inline markup of one line to reStructuredText."""
    out = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(_escape(text[position : match.start()]))
        if match.group("code"):
            code = match.group("code_text").strip()
            markup = f"``{code}``" if "``" not in code else _escape(code)
        elif match.group("link_text"):
            label = _escape(match.group("link_text"))
            markup = f"`{label} <{match.group('url')}>`__"
        elif match.group("bold"):
            markup = f"**{_escape(match.group('bold'))}**"
        else:
            markup = f"*{_escape(match.group('em'))}*"
        # Inline markup must be separated from surrounding word characters.
        before = text[match.start() - 1] if match.start() > 0 else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if before.isalnum():
            markup = "\\ " + markup
        if after.isalnum():
            markup = markup + "\\ "
        out.append(markup)
        position = match.end()
    out.append(_escape(text[position:]))
    return "".join(out)


def _split_row(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [cell.strip().replace("\\|", "|") for cell in cells]


def _table(lines):
    header = _split_row(lines[0])
    rows = [_split_row(line) for line in lines[2:]]
    width = max([len(header)] + [len(row) for row in rows])
    out = [".. list-table::", "   :header-rows: 1", "   :class: benchmark-table", ""]
    for row in [header] + rows:
        row = row + [""] * (width - len(row))
        for j, cell in enumerate(row):
            bullet = "   * -" if j == 0 else "     -"
            content = _inline(cell)
            if _LIST_START.match(content):
                content = "\\" + content  # a cell "-" is text, not a list
            out.append(f"{bullet} {content}" if content else bullet)
    out.append("")
    return out


def markdown_to_rst(text, title="Results"):
    """Convert the Markdown subset of the benchmark reports to reST.

    The highest Markdown heading level becomes the first section level; a
    text without headings, or with text before its first heading, is put
    under a section named ``title``.
    """
    lines = text.splitlines()
    levels = []
    in_fence = False
    for line in lines:
        if line.strip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and _HEADING.match(line):
            levels.append(len(_HEADING.match(line).group(1)))
    shift = min(levels) - 1 if levels else 0
    first = next((line for line in lines if line.strip()), "")
    out = []
    if (
        not levels
        or not _HEADING.match(first)
        or len(_HEADING.match(first).group(1)) - shift != 1
    ):
        out.extend([title, "=" * len(title), ""])
        shift -= 1
    paragraph = []
    in_item = False  # the previous line belongs to a list item

    def flush():
        if paragraph:
            out.extend([" ".join(paragraph), ""])
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        i += 1
        if not stripped:
            flush()
            in_item = False
            continue
        if stripped.startswith(("```", "~~~")):
            flush()
            in_item = False
            fence = stripped[:3]
            block = []
            while i < len(lines) and not lines[i].strip().startswith(fence):
                block.append(lines[i].rstrip())
                i += 1
            i += 1
            if any(b.strip() for b in block):
                out.extend([".. code-block:: text", ""])
                out.extend(f"   {b}" if b.strip() else "" for b in block)
                out.append("")
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            in_item = False
            title = _inline(heading.group(2)) or "\\ "
            level = len(heading.group(1)) - shift
            mark = _ADORNMENTS[min(max(level, 1), len(_ADORNMENTS)) - 1]
            out.extend([title, mark * max(len(title), 4), ""])
            continue
        if (
            stripped.startswith("|")
            and i < len(lines)
            and _TABLE_SEPARATOR.match(lines[i].strip())
        ):
            flush()
            in_item = False
            block = [line]
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i])
                i += 1
            out.extend(_table(block))
            continue
        if _RULE.match(line):
            flush()
            in_item = False
            continue
        item = _BULLET.match(line) or _NUMBERED.match(line)
        if item:
            flush()
            indent = " " * (len(item.group(1)) // 2 * 2)
            marker = "-" if item.re is _BULLET else "#."
            previous = out[-2].lstrip() if len(out) >= 2 and not out[-1] else ""
            if previous.startswith(marker + " "):
                out.pop()  # keep the items of one list together
            out.extend([f"{indent}{marker} {_inline(item.group(item.re.groups))}", ""])
            in_item = True
            continue
        if in_item:
            out[-2] += " " + _inline(stripped)  # a continuation of the item
            continue
        paragraph.append(_inline(stripped))
    flush()
    return "\n".join(out).rstrip() + "\n"


def _missing_note(title, path, command):
    return (
        f"{title}\n{'=' * len(title)}\n\n"
        f"The results file ``{path}`` has not been generated yet. Run"
        f" ``{command}`` from the repository root, then rebuild the"
        " documentation.\n"
    )


def generate(app):
    """Write one ``.rst.inc`` file per Markdown results file."""
    srcdir = Path(app.srcdir)
    target = srcdir / app.config.md_include_dir
    target.mkdir(parents=True, exist_ok=True)
    for relative, command, title in app.config.md_include_files:
        source = (srcdir / relative).resolve()
        if source.is_file():
            rst = markdown_to_rst(source.read_text(encoding="utf-8"), title)
        else:
            rst = _missing_note(title, relative.replace("../", "", 1), command)
        out = target / (Path(relative).stem + ".rst.inc")
        if not out.is_file() or out.read_text(encoding="utf-8") != rst:
            out.write_text(rst, encoding="utf-8")


def setup(app):
    app.add_config_value("md_include_files", [], "env")
    app.add_config_value("md_include_dir", "gen_modules/includes", "env")
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
