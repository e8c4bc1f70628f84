#!/usr/bin/env python3
"""SQL only through bound parameters (ops/SECURITY.md, "SQL injection").

Scans the C++ sources of every module for SQL text that is assembled with a runtime value:
a string literal holding SQL that is joined (`+`, std::to_string, fmt/std::format) with something
that is not another literal. Values must go through `?` placeholders and Statement::bind.

A few statements are built from trusted, non-user text: schema names read from sqlite_master,
PRAGMA constants, or the audience filter compiler, which emits only whitelisted column names and
`?` placeholders. Such a line (or one of the four before it) carries a `// sql-trusted: <why>`
comment, and this check lists them so a reviewer sees every exception.

Exit 0 when clean; 1 with file:line for each finding.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = ["engine", "campaigns", "templates", "adapters"]
LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
SQL = re.compile(r"\bSELECT\b.*\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b|"
                 r"\bDELETE\s+FROM\b|\bWHERE\b|\bPRAGMA\b|\bDROP\s+(INDEX|TABLE)\b|"
                 r"\bCREATE\s+(UNIQUE\s+)?(INDEX|TABLE)\b|\bAND\s*\(|\bVALUES\s*\(")
MARK = "sql-trusted:"


def joins_runtime_value(code):
    flat = LITERAL.sub('"L"', code)
    for m in re.finditer(r'\+', flat):
        left, right = flat[:m.start()].rstrip(), flat[m.end():].lstrip()
        if not (left.endswith('"L"') or right.startswith('"L"')):
            continue  # arithmetic, not text
        other = right if left.endswith('"L"') else left
        if left.endswith('"L"') and right.startswith('"L"'):
            continue
        if other is right and re.match(r'(k[A-Z]|std::string(_view)?\(k[A-Z])', other):
            continue
        if other is left and re.search(r'(\bk[A-Z]\w*|std::string(_view)?\(k[A-Z]\w*\))$', left):
            continue
        return True
    return bool(re.search(r'\bto_string\(|\bformat\(', flat))


findings, trusted = [], []
for module in MODULES:
    for path in sorted((ROOT / module).rglob("*.cpp")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            code = line
            # SQL text may sit on this line or, for a statement split over lines, the one before.
            texts = " ".join(LITERAL.findall((lines[i - 1] if i else "") + "\n" + code))
            if not SQL.search(texts) or ".bind(" in code or not joins_runtime_value(code):
                continue
            marked = any(MARK in lines[j] for j in range(max(0, i - 4), i + 1))  # the statement's lines
            where = f"{path.relative_to(ROOT)}:{i + 1}: {line.strip()}"
            (trusted if marked else findings).append(where)

for t in trusted:
    print("trusted  " + t)
for f in findings:
    print("UNBOUND  " + f)
if findings:
    print(f"\n{len(findings)} SQL statement(s) joined with runtime values; bind them with '?' "
          f"or, when the text is not user data, say why with '// {MARK} ...'", file=sys.stderr)
    sys.exit(1)
print(f"sql bound-parameter check: clean ({len(trusted)} trusted exceptions listed above)")
