#!/usr/bin/env python3
"""Golden renderings of small templates for the ChatTemplate engine's unit tests.

Each snippet exercises one rule of jinja2 as transformers configures it (whitespace control with trim_blocks and
lstrip_blocks, scoping, loop variables, macros, Python's str/repr of values, operators, filters, tests, string
methods, tojson's options, the sandbox, errors). The environment is the one transformers builds
(transformers.utils.chat_template_utils._compile_jinja_template), so globals and tojson are transformers' own.

    python3 Fixtures/scripts/make_template_snippet_goldens.py

writes Fixtures/chat-templates/snippets.jsonl: one line per snippet, {"name", "template", "variables", "output"}
or {"name", "template", "variables", "error": {"type", "message"}}; and Fixtures/chat-templates/models.jsonl: what
`AutoTokenizer.from_pretrained(DIR).apply_chat_template(messages, tokenize=False, add_generation_prompt=...)` gives
for the checkpoints in Fixtures/checkpoints (the model supplies its template and special tokens), one line per
{"model", "conversation", "add_generation_prompt", "output"}, conversations from conversations.json.
"""
import json
import os
import sys

import jinja2
import transformers
from transformers.utils import chat_template_utils as ctu

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "chat-templates", "snippets.jsonl")

# (name, template, variables)
SNIPPETS = [
    # Whitespace control
    ("trim-blocks", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("lstrip-blocks", "a\n    {% if true %}\n    b\n    {% endif %}\nc", {}),
    ("lstrip-not-variables", "a\n    {{ 'x' }}\nc", {}),
    ("minus-both", "a   {%- if true -%}   b   {%- endif -%}   c", {}),
    ("minus-variable", "a \n {{- 'x' -}} \n b", {}),
    ("plus-lstrip", "a\n    {%+ if true %}b{% endif %}", {}),
    ("plus-trim", "{% if true +%}\nb{% endif %}", {}),
    ("comment-trim", "a\n  {# note #}\nb", {}),
    ("comment-minus", "a  {#- note -#}  b", {}),
    ("inline-block-no-lstrip", "x  {% if true %}y{% endif %}", {}),
    ("trailing-newline-dropped", "line\n", {}),
    ("two-trailing-newlines", "line\n\n", {}),
    ("crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc", {}),
    ("raw", "{% raw %}{{ not evaluated }}{% endraw %}", {}),
    ("after-variable-no-trim", "{{ 'a' }}\nb", {}),
    ("block-then-spaces-line", "{% set x = 1 %}   \n  {% if x %}z{% endif %}", {}),
    # Scoping
    ("loop-scope", "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}", {}),
    ("loop-reset-per-iteration", "{% for x in [1, 2, 3] %}{% if loop.first %}{% set y = 1 %}{% endif %}[{{ y }}]{% endfor %}", {}),
    ("if-no-scope", "{% if true %}{% set q = 3 %}{% endif %}{{ q }}", {}),
    ("namespace", "{% set ns = namespace(n=0, found=false) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }} {{ ns.found }}", {}),
    ("macro-sees-later-globals", "{% macro m() %}{{ z }}{% endmacro %}{% set z = 6 %}{{ m() }}", {}),
    ("macro-defaults", "{% macro greet(name, greeting='Hello', punct='!') %}{{ greeting }}, {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }}|{{ greet('Bo', punct='?') }}|{{ greet('Cy', 'Hi') }}", {}),
    ("macro-varargs-kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k='v') }}", {}),
    ("macro-missing-arg", "{% macro m(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ m(1) }}", {}),
    ("loop-vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}", {}),
    ("loop-filter", "{% for x in range(10) if x is odd %}{{ x }}{{ loop.length }},{% endfor %}", {}),
    ("loop-else", "{% for x in [] %}no{% else %}empty{% endfor %}", {}),
    ("loop-break-continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop-unpack", "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", {}),
    ("loop-cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
    ("set-block", "{% set x %}  inner {{ 1 + 1 }}  {% endset %}[{{ x }}]", {}),
    ("set-block-filter", "{% set x | upper %}abc{% endset %}{{ x }}", {}),
    ("filter-block", "{% filter upper %}hello {{ 'w' }}{% endfilter %}", {}),
    ("set-tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}", {}),
    # Values as Python prints them
    ("repr-list", "{{ [1, 'a', none, true, 1.5, {'k': (1, 2)}, \"it's\", 'q\"\\'x'] }}", {}),
    ("repr-tuples", "{{ (1,) }} {{ () }} {{ (1, 2) }}", {}),
    ("floats", "{{ 1e20 }} {{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 0.0001 }} {{ 123456789012345678.0 }} {{ 1e16 }} {{ 9999999999999998.0 }} {{ -0.0 }} {{ 2.5e-7 }}", {}),
    ("arithmetic", "{{ 10 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + true }}", {}),
    ("string-ops", "{{ 'ab' ~ 1 ~ none }} {{ 'ab' * 3 }} {{ 'x' + 'y' }} {{ '%s-%d' % ('a', 3) }} {{ [1] + [2] }}", {}),
    ("comparisons", "{{ 1 < 2 < 3 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ 'a' in 'abc' }} {{ 2 not in [1] }} {{ 'k' in {'k': 1} }} {{ none == none }}", {}),
    ("and-or-values", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }} {{ none or [] }} {{ not [] }}", {}),
    ("conditional", "{{ 'y' if true else 'n' }} {{ 'y' if false }}|{{ 'y' if false else 'n' if true else 'm' }}", {}),
    ("undefined-prints-empty", "[{{ missing }}][{{ d.nothing }}][{{ d['nothing'] }}][{{ 'abc'[5] }}][{{ [1][4] }}]", {"d": {}}),
    ("negative-index-slices", "{{ 'hello'[-1] }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ [1, 2, 3, 4][::2] }} {{ [1, 2, 3][-2:] }} {{ 'hello'[:-10] }} {{ 'abc'[5:] }} {{ [1,2,3,4,5][4:1:-2] }}", {}),
    ("dict-attribute-vs-item", "{{ d.items is defined }} {{ d['items'] }} {{ d.get('x', 'dflt') }} {{ d.keys() | list }} {{ d.values() | list }}", {"d": {"items": 5, "k": 1}}),
    ("non-ascii", "{{ 'héllo wörld 你好 🙂' | upper }} {{ 'ÉCOLE' | lower }} {{ '你好🙂' | length }} {{ 'abc🙂'[3] }}", {}),
    ("unicode-escapes", "{{ '\\u00e9\\t\\x41\\101\\n' }}|{{ \"tab\\tq\\\"\" }}|{{ '\\d\\w' }}", {}),
    # String methods
    ("split", "{{ ' a  b c '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ ''.split() }} {{ ''.split(',') }}", {}),
    ("strip", "[{{ '  x  '.strip() }}][{{ 'xxhixx'.strip('x') }}][{{ '\\n x'.lstrip() }}][{{ 'x \\n'.rstrip() }}][{{ '<<a>>'.rstrip('>') }}]", {}),
    ("starts-ends", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.startswith('') }}", {}),
    ("replace-find", "{{ 'aaa'.replace('a', 'b', 2) }} {{ 'abc'.replace('', '-') }} {{ 'hello'.find('l') }} {{ 'hello'.count('l') }} {{ '-'.join(['a', 'b']) }}", {}),
    ("case", "{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ \"they're bill's\".title() }}", {}),
    ("format", "{{ 'a{}b{}'.format(1, 'x') }} {{ '{0}{0}{1}'.format('p', 'q') }} {{ '{name}!'.format(name='n') }} {{ '{{}}'.format() }}", {}),
    ("splitlines", "{{ 'a\\nb\\r\\nc\\n'.splitlines() }} {{ 'a\\nb'.splitlines(true) }}", {}),
    # Filters
    ("filter-trim-length", "[{{ '  x '|trim }}][{{ 'xxyxx'|trim('x') }}] {{ [1, 2]|length }} {{ 'abc'|count }} {{ {'a': 1}|length }} {{ missing|length }}", {}),
    ("filter-default", "{{ missing|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }} {{ none|default('d') }} {{ missing|d('x') }}", {}),
    ("filter-join", "{{ [1, 2, 3]|join(', ') }} {{ users|join('/', attribute='name') }} {{ 'abc'|join('.') }}", {"users": [{"name": "a"}, {"name": "b"}]}),
    ("filter-string-list", "{{ 1|string }} {{ none|string }} {{ 'ab'|list }} {{ {'x': 1, 'y': 2}|list }} {{ (1, 2)|list }}", {}),
    ("filter-items-dictsort", "{{ d|items|list }} {{ d|dictsort }} {{ d|dictsort(reverse=true) }} {{ d|dictsort(by='value') }}", {"d": {"b": 2, "A": 3, "a": 1}}),
    ("filter-select", "{{ users|selectattr('active')|map(attribute='name')|list }} {{ users|rejectattr('active')|list|length }} {{ users|selectattr('role', 'equalto', 'admin')|list }} {{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('even')|list }} {{ users|map(attribute='missing', default='?')|list }}", {"users": [{"name": "a", "active": True, "role": "admin"}, {"name": "b", "active": False, "role": "user"}]}),
    ("filter-map-filter", "{{ ['a', 'B']|map('upper')|list }} {{ [' x ', 'y ']|map('trim')|join }}", {}),
    ("filter-first-last-reverse", "{{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }} {{ []|first }}", {}),
    ("filter-sort-unique", "{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'a']|sort }} {{ ['b', 'A', 'a']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }} {{ ['a', 'A', 'b']|unique|list }} {{ items|sort(attribute='n')|map(attribute='n')|list }}", {"items": [{"n": 2}, {"n": 1}]}),
    ("filter-min-max-sum", "{{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ [1, 2, 3]|sum }} {{ ['b', 'A']|min }}", {}),
    ("filter-numbers", "{{ '42'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '1.5'|float }} {{ -3|abs }} {{ '0x1A'|int }}", {}),
    ("filter-replace-case", "{{ 'aXa'|replace('a', 'b') }} {{ 'abc'|upper }} {{ 'ABC'|lower }} {{ 'hello world'|title }} {{ 'hello World'|capitalize }}", {}),
    ("filter-indent", "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}", {}),
    ("filter-safe-escape", "{{ '<a>'|safe + '<b>' }} {{ '<a>'|e }} {{ '<x>' + ('&'|safe) }} {{ ('a'|safe) ~ '<' }}", {}),
    ("tojson", "{{ d|tojson }} {{ d|tojson(indent=2) }} {{ d|tojson(sort_keys=true) }} {{ d|tojson(separators=(',', ':')) }} {{ 'é\"\\n'|tojson }} {{ 'é'|tojson(ensure_ascii=true) }} {{ [1.0, 2, none, true]|tojson }} {{ {}|tojson(indent=2) }} {{ [[]]|tojson(indent=2) }}", {"d": {"b": [1, {"c": "🙂"}], "a": 1.5}}),
    ("tojson-indent-string", "{{ {'a': [1]}|tojson(indent='\\t') }}", {}),
    # Tests
    ("tests", "{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 's' is string }} {{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ {} is mapping }} {{ [] is sequence }} {{ 's' is sequence }} {{ {} is iterable }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 1 is eq 1 }} {{ 'a' is in 'abc' }} {{ false is sameas false }} {{ 'abc' is lower }}", {"x": 1}),
    ("tests-generators", "{{ [1]|select is iterable }} {{ [1]|select is sequence }} {{ [] | select | list | length }} {{ 'x' if ([]|select) else 'y' }}", {}),
    ("test-not", "{{ x is not none }} {{ not x is defined }} {{ x is not string }}", {"x": 1}),
    # Globals
    ("range", "{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(5, 0, -2)|list }}", {}),
    ("dict-global", "{{ dict(a=1, b=2) }} {{ dict({'x': 1}, y=2) }}", {}),
    ("strftime", "{{ strftime_now('%Y-%m-%d %H:%M %a %b %j') }}", {}),
    # Errors
    ("raise", "{{ raise_exception('custom message') }}", {}),
    ("undefined-attribute-of-undefined", "{{ x.y }}", {}),
    ("undefined-in-arithmetic", "{{ x + 1 }}", {}),
    ("undefined-attribute-message", "{{ d.missing.z }}", {"d": {}}),
    ("type-error-concat", "{{ 'a' + 1 }}", {}),
    ("type-error-int-plus-str", "{{ 1 + 'a' }}", {}),
    ("type-error-compare", "{{ 1 < 'a' }}", {}),
    ("type-error-length", "{{ 5|length }}", {}),
    ("type-error-generator-json", "{{ [1]|map('string')|tojson }}", {}),
    ("type-error-not-iterable", "{% for x in 5 %}{% endfor %}", {}),
    ("items-of-string", "{% for k, v in 'ab'|items %}{% endfor %}", {}),
    ("security-append", "{% set l = [] %}{{ l.append(1) }}", {}),
    ("security-update", "{% set d = {} %}{{ d.update({}) }}", {}),
    ("namespace-underscore", "{% set ns = namespace() %}{% set ns._x = 1 %}", {}),
    ("zero-division", "{{ 1 / 0 }}", {}),
    ("range-too-big", "{{ range(1000000)|length }}", {}),
    ("unknown-filter", "{{ 1|nosuchfilter }}", {}),
    ("unknown-filter-in-if", "{% if false %}{{ 1|nosuchfilter }}{% endif %}ok", {}),
    ("unknown-filter-in-if-reached", "{% if true %}{{ 1|nosuchfilter }}{% endif %}", {}),
    ("unknown-test", "{{ 1 is nosuchtest }}", {}),
    ("syntax-unclosed", "{% if true %}x", {}),
    ("syntax-unknown-tag", "{% frobnicate %}", {}),
    ("syntax-bad-expression", "{{ 1 + }}", {}),
    ("unpack-mismatch", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("call-non-callable", "{{ 'x'() }}", {}),
]


def main():
    env = ctu._compile_jinja_template("").environment
    # A fixed clock, as make_chat_template_goldens.py does.
    import datetime as _dt

    class FixedDateTime(_dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 12, 7, 10, 30, 0)

    ctu.datetime = FixedDateTime
    lines = []
    for name, template, variables in SNIPPETS:
        record = {"name": name, "template": template, "variables": variables}
        try:
            record["output"] = env.from_string(template).render(**variables)
        except Exception as e:  # noqa: BLE001 - every exception is a golden outcome
            record["error"] = {"type": type(e).__name__, "message": str(e)}
        lines.append(json.dumps(record, ensure_ascii=False))
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    errors = sum('"error"' in l for l in lines)
    model_lines = []
    from transformers import AutoTokenizer
    conversations = json.load(open(os.path.join(HERE, "..", "chat-templates", "conversations.json"), encoding="utf-8"))
    for model in ["q2-tied", "q2moe"]:
        tok = AutoTokenizer.from_pretrained(os.path.join(HERE, "..", "checkpoints", model))
        for conv in ["plain", "multi-turn", "braces-quotes"]:
            for agp in (False, True):
                out = tok.apply_chat_template(conversations[conv]["messages"], tokenize=False, add_generation_prompt=agp)
                model_lines.append(json.dumps({"model": model, "conversation": conv, "add_generation_prompt": agp,
                                               "output": out}, ensure_ascii=False))
    with open(os.path.join(HERE, "..", "chat-templates", "models.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(model_lines) + "\n")
    print(f"{len(lines)} snippets ({errors} errors) -> {os.path.relpath(OUT)}; transformers {transformers.__version__}, "
          f"jinja2 {jinja2.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
