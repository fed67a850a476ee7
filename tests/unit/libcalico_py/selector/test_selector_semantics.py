"""Table-driven tests of selector meaning and syntax, written from Calico's documented
semantics (libcalico-go selector parser tests and the policy selector docs)."""
import pytest

from libcalico_py.selector import SelectorError, parse, validate_selector

NONE: dict = {}
A_B = {"a": "b"}

# (selector, labels, expected)
CASES = [
    # --- equality -----------------------------------------------------------
    ('a == "b"', A_B, True),
    ('a == "b"', {"a": "b", "c": "d"}, True),
    ('a == "b"', NONE, False),
    ('a == "b"', {"a": "c"}, False),
    ('a == "b"', {"c": "d"}, False),
    ("a == 'b'", A_B, True),
    ('a=="b"', A_B, True),
    ('a == ""', {"a": ""}, True),
    ('a == ""', NONE, False),
    ('a == "B"', A_B, False),  # values are case-sensitive
    ('A == "b"', A_B, False),  # keys are case-sensitive
    ('a == "b "', A_B, False),  # whitespace inside quotes is significant
    ('a == " b"', {"a": " b"}, True),
    ("a == '\"'", {"a": '"'}, True),  # the other quote inside a value
    ('a == "\'"', {"a": "'"}, True),
    ("a == 'say \"hi\"'", {"a": 'say "hi"'}, True),
    ('a == "it\'s"', {"a": "it's"}, True),
    ('a == "x\\y"', {"a": "x\\y"}, True),  # no escapes: backslash is literal
    ('a == "a b && c"', {"a": "a b && c"}, True),  # operators inside a string are text
    ('a == "héllo"', {"a": "héllo"}, True),
    ("calico/k8s_ns == 'kube-system'", {"calico/k8s_ns": "kube-system"}, True),
    ('k8s-app == "kube-dns"', {"k8s-app": "kube-dns"}, True),
    ('projectcalico.org/namespace == "default"', {"projectcalico.org/namespace": "default"}, True),
    ('a.b/c-d_e == "1"', {"a.b/c-d_e": "1"}, True),
    ('2 == "x"', {"2": "x"}, True),  # a label may be all digits
    # --- inequality: true when the label is absent ---------------------------
    ('a != "b"', NONE, True),
    ('a != "b"', {"a": "c"}, True),
    ('a != "b"', A_B, False),
    ('a != "b"', {"c": "b"}, True),
    ("a != 'a'", {"a": "a"}, False),
    ('a != ""', {"a": ""}, False),
    ('a != ""', NONE, True),
    ('a!="b"', {"a": "x"}, True),
    # --- in / not in ----------------------------------------------------------
    ('a in {"a"}', {"a": "a"}, True),
    ('a in {"a"}', {"a": "b"}, False),
    ('a in {"a"}', NONE, False),
    ('a in {"a", "b"}', {"a": "a"}, True),
    ('a in {"a", "b"}', {"a": "b"}, True),
    ('a in {"a", "b"}', {"a": "c"}, False),
    ("a in {\"'\", '\"', \"c\"}", {"a": "c"}, True),
    ("a in {\"'\", '\"', \"c\"}", {"a": '"'}, True),
    ("a in {\"'\", '\"', \"c\"}", {"a": "'"}, True),
    ("a in {\"'\", '\"', \"c\"}", {"a": "e"}, False),
    ("a in {\"'\", '\"', \"c\"}", NONE, False),
    ("a in {}", NONE, False),  # empty set: nothing is in it
    ("a in {}", {"a": ""}, False),
    ("a in {}", {"a": "x"}, False),
    ('a in {"x",}', {"a": "x"}, True),  # trailing comma accepted
    ('a in{"x"}', {"a": "x"}, True),
    ('a in {"x","y"}', {"a": "y"}, True),
    ('a in {""}', {"a": ""}, True),
    ('a in {""}', NONE, False),
    ('a in {"x", "x"}', {"a": "x"}, True),
    ('a not in {"d", "e"}', {"a": "a"}, True),
    ('a not in {"a"}', {"a": "a"}, False),
    ('a not in {"a"}', NONE, True),  # absent label is "not in" any set
    ("a not in {}", NONE, True),  # the surprising one: true without the label
    ("a not in {}", {"a": "x"}, True),
    ("a not in {\"'\", '\"', \"c\"}", NONE, True),
    ("a not in {\"'\", '\"', \"c\"}", {"a": "e"}, True),
    ("a not in {\"'\", '\"', \"c\"}", {"a": "c"}, False),
    ("a not in {\"'\", '\"', \"c\"}", {"a": '"'}, False),
    ('a notin {"x"}', {"a": "x"}, False),
    ('a notin{"x"}', {"a": "y"}, True),
    ('a not   in {"x"}', {"a": "y"}, True),
    ('a not\tin {"x"}', {"a": "x"}, False),
    ('a not in {"x",}', {"a": "x"}, False),
    ('!a in {"a"}', {"a": "b"}, True),
    ('!a in {"a"}', NONE, True),
    ('!a in {"a"}', {"a": "a"}, False),
    # --- has ----------------------------------------------------------------------
    ("has(a)", A_B, True),
    ("has(a)", {"a": ""}, True),  # present with an empty value
    ("has(a)", NONE, False),
    ("has(b)", A_B, False),
    ("has( a )", A_B, True),
    ("has(\ta)", A_B, True),
    ("has(calico/k8s_ns)", {"calico/k8s_ns": "x"}, True),
    ("has(calico/k8s_NS-.1/role)", {"calico/k8s_NS-.1/role": "x"}, True),
    ("!has(a)", {"b": "b"}, True),
    ("!has(a)", A_B, False),
    ("!has(a)", NONE, True),
    ("! has(a)", A_B, False),
    ("!!has(b)", A_B, False),
    ("!!has(a)", A_B, True),
    ("!!!has(a)", A_B, False),
    ("!! ! has(a)", A_B, False),
    ("! !!has(a)", A_B, False),
    ("!!!!has(a)", A_B, True),
    # --- all / global / empty ------------------------------------------------------
    ("", NONE, True),
    ("", A_B, True),
    (" ", NONE, True),
    ("\t ", A_B, True),
    ("all()", NONE, True),
    (" all()", A_B, True),
    ("all( )", A_B, True),
    ("!all()", A_B, False),
    ("!all()", NONE, False),
    ("global()", NONE, True),
    (" global()", A_B, True),
    ("global( )", A_B, True),
    ("!global()", A_B, False),
    ("(all())", NONE, True),
    ("all() && has(a)", NONE, False),
    ("all() || has(a)", NONE, True),
    # --- contains / starts with / ends with ----------------------------------------
    ('a contains "a"', {"a": "a"}, True),
    ('a contains "a"', {"a": "bab"}, True),
    ('a contains "a"', {"a": "aaa", "b": "c"}, True),
    ('a contains "a"', NONE, False),
    ('a contains "a"', A_B, False),
    ('a contains "a"', {"b": "aaa"}, False),
    ('a contains ""', {"a": ""}, True),
    ('a contains ""', NONE, False),  # needs the label even for an empty substring
    ('a contains"x"', {"a": "yxy"}, True),
    ("contains contains 'contains'", {"contains": "xcontainsx"}, True),
    ("contains contains 'contains'", {"contains": "nope"}, False),
    ('a starts with "a"', {"a": "a"}, True),
    ('a starts with "a"', {"a": "abb"}, True),
    ('a starts with "a"', {"a": "baa"}, False),
    ('a starts with "a"', NONE, False),
    ('a starts with "a"', {"b": "aaa"}, False),
    ('a startswith "ab"', {"a": "abc"}, True),
    ('a starts  with "ab"', {"a": "abc"}, True),
    ('a starts with ""', {"a": ""}, True),
    ('a starts with ""', NONE, False),
    ('startswith starts with "v"', {"startswith": "value"}, True),
    ('a ends with "a"', {"a": "a"}, True),
    ('a ends with "a"', {"a": "bba"}, True),
    ('a ends with "a"', {"a": "aab"}, False),
    ('a ends with "a"', NONE, False),
    ('a endswith "bc"', {"a": "abc"}, True),
    ('a ends\twith "bc"', {"a": "abc"}, True),
    ('endswith ends with "e"', {"endswith": "value"}, True),
    ('a ends with ""', NONE, False),
    ('!a contains "x"', NONE, True),
    ('!a starts with "x"', {"a": "xy"}, False),
    # --- boolean combinations and precedence -----------------------------------------
    ('a == "b" && c == "d"', {"a": "b", "c": "d"}, True),
    ('a == "b" && c == "d"', {"a": "b", "c": "e"}, False),
    ('a == "b" && c == "d"', {"a": "c", "c": "d"}, False),
    ('a == "b" && c == "d"', {"a": "b"}, False),
    ('a == "b" && c == "d"', NONE, False),
    ('a == "b" || c == "d"', {"a": "b", "c": "d"}, True),
    ('a == "b" || c == "d"', {"a": "b"}, True),
    ('a == "b" || c == "d"', {"c": "d"}, True),
    ('a == "b" || c == "d"', {"a": "e", "c": "e"}, False),
    ('a == "b" || c == "d"', NONE, False),
    ("a == 'a1' && b != 'b1'", {"a": "a1", "b": "b1"}, False),
    ("a != 'a1' && b == 'b1'", {"a": "a1", "b": "b1"}, False),
    ("a != 'a1' && !b == 'b1'", {"a": "a1", "b": "b1"}, False),
    ("!a == 'a1' && b == 'b1'", {"a": "a1", "b": "b1"}, False),
    ("!a == 'a1' && b == 'b1'", {"a": "a2", "b": "b1"}, True),
    ("a == 'a1' || b != 'b1'", {"a": "a1", "b": "b1"}, True),
    ("a != 'a1' || b != 'b1'", {"a": "a1", "b": "b1"}, False),
    ("! a == 'a1' || ! b == 'b1'", {"a": "a1", "b": "b1"}, False),
    ("! a == 'a1' || ! b == 'b1'", {"a": "a1"}, True),
    ("has(a) && !has(b)", {"a": "a"}, True),
    ("has(a) && !has(b)", {"a": "a", "b": "b"}, False),
    ("!has(b) && has(a)", {"a": "a"}, True),
    ("!(!has(a) || has(b))", {"a": "a"}, True),
    ("!(has(b) || !has(a))", {"a": "a"}, True),
    ("!(has(b) || !has(a))", {"a": "a", "b": "b"}, False),
    # The surprising one: a selector that also matches endpoints without the label.
    ("!has(a) || a == 'x'", NONE, True),
    ("!has(a) || a == 'x'", {"a": "x"}, True),
    ("!has(a) || a == 'x'", {"a": "y"}, False),
    ("!has(a) || a == 'x'", {"b": "x"}, True),
    # && binds tighter than ||
    ('a == "1" || b == "2" && c == "3"', {"a": "1"}, True),
    ('a == "1" || b == "2" && c == "3"', {"b": "2"}, False),
    ('a == "1" || b == "2" && c == "3"', {"b": "2", "c": "3"}, True),
    ('a == "1" && b == "2" || c == "3"', {"c": "3"}, True),
    ('a == "1" && b == "2" || c == "3"', {"a": "1"}, False),
    ('a == "1" && (b == "2" || c == "3")', {"c": "3"}, False),
    ('a == "1" && (b == "2" || c == "3")', {"a": "1", "c": "3"}, True),
    ('(a == "1" || b == "2") && c == "3"', {"b": "2", "c": "3"}, True),
    ('(a == "1" || b == "2") && c == "3"', {"b": "2"}, False),
    # ! binds to one operand only
    ('!a == "1" && b == "2"', {"b": "2"}, True),
    ('!(a == "1" && b == "2")', {"a": "1"}, True),
    ('!(a == "1" && b == "2")', {"a": "1", "b": "2"}, False),
    ('!(a == "1" || b == "2")', NONE, True),
    ('!(a == "1" || b == "2")', {"b": "2"}, False),
    ('!!(a == "1")', {"a": "1"}, True),
    ("((((has(a)))))", A_B, True),
    ("(has(a)) && ((has(b)))", A_B, False),
    ("has(a)&&has(b)||has(c)", {"c": "1"}, True),
    ("has(a) && has(b) && has(c) && has(d)", {"a": "", "b": "", "c": "", "d": ""}, True),
    ("has(a) && has(b) && has(c) && has(d)", {"a": "", "b": "", "c": ""}, False),
    ("has(a) || has(b) || has(c) || has(d)", {"d": ""}, True),
    ("has(a) || has(b) || has(c) || has(d)", {"e": ""}, False),
    ('a != "x" && a != "y"', NONE, True),
    ('a != "x" && a != "y"', {"a": "y"}, False),
    ('a == "x" && a == "y"', {"a": "x"}, False),
    ('a in {"x", "y"} && a not in {"y"}', {"a": "x"}, True),
    ('a in {"x", "y"} && a not in {"y"}', {"a": "y"}, False),
    # realistic policy selectors
    ("projectcalico.org/namespace == 'prod' && app in {'web', 'api'} && !has(quarantine)",
     {"projectcalico.org/namespace": "prod", "app": "web"}, True),
    ("projectcalico.org/namespace == 'prod' && app in {'web', 'api'} && !has(quarantine)",
     {"projectcalico.org/namespace": "prod", "app": "web", "quarantine": "true"}, False),
    ("projectcalico.org/namespace == 'prod' && app in {'web', 'api'} && !has(quarantine)",
     {"projectcalico.org/namespace": "dev", "app": "api"}, False),
    ("role == 'db' && (env == 'prod' || env == 'staging')", {"role": "db", "env": "staging"}, True),
    ("role == 'db' && (env == 'prod' || env == 'staging')", {"role": "db", "env": "dev"}, False),
    ("pcns.projectcalico.org/name == 'kube-system'", {"pcns.projectcalico.org/name": "kube-system"}, True),
    ("tier starts with 'front' && version ends with '-canary'",
     {"tier": "frontend", "version": "1.2-canary"}, True),
    ("tier starts with 'front' && version ends with '-canary'",
     {"tier": "frontend", "version": "1.2"}, False),
    ("\thas(a)\t&&\thas(b)\t", {"a": "", "b": ""}, True),
    # operator words are labels unless they follow a label
    ('in in {"x"}', {"in": "x"}, True),
    ('not == "x"', {"not": "x"}, True),
    ('has == "x"', {"has": "x"}, True),
    ('all != "x"', {"all": "x"}, False),
    ('starts starts with "s"', {"starts": "so"}, True),
    ('a == "x\ny"', {"a": "x\ny"}, True),  # a newline inside quotes is part of the value
]

# Invalid selectors (each must raise SelectorError).
INVALID = [
    "b == b",  # label == label
    "b contains b",
    "b starts with b",
    "b ends with b",
    "'b1' == b",  # literal on the left
    "b",  # bare label
    "a b",
    "!",
    '!!',
    'foo == "bar" &',
    'foo == "bar" |',
    'foo != ||',
    'foo in {"", ||',
    'foo in ""',  # set literal expected
    'foo in "x", "y"',
    '"FOO',
    '"FOO\'',
    "'FOO",
    "(",
    '(a == "foo"',
    ")",
    "()",
    "%",
    'a == "b" && %',
    'a == "b" || %',
    "a ",
    "has(foo) &&",
    "has(foo) ||",
    "&& has(foo)",
    'a = "b"',  # lone =
    'a === "b"',
    'has(a) & has(b)',
    'has(a) | has(b)',
    'a == "b" c == "d"',  # missing operator between terms
    'a in {"x" "y"}',  # missing comma
    'a in {,}',
    'a in {"x",,}',
    'a in {"x"',
    'a in ("x")',
    "has (a)",  # space before ( is not allowed
    "all ()",
    "global ()",
    "has()",
    "has( )",
    "has(a",
    "has(a b)",
    "has('a')",
    "all(a)",
    "global(x)",
    "all",
    'a startswith',
    'a starts "x"',
    'a ends foo "value"',
    'a squiggles "value"',
    'a containsx "x"',  # operator must end at a word boundary
    'a inx {"x"}',
    'a not {"x"}',
    'a not in',
    'a ==',
    'a == "b" )',
    '(a == "b"))',
    'a == "b" && (c == "d"',
    "a\n== 'b'",  # only space and tab are whitespace
    "a == 'b'\n",
    "has(a)\r",
    "ä == 'x'",  # non-ASCII label
    "a@b == 'x'",
    "a == b'x'",
    "a == 'x' 'y'",
    "!= 'x'",
    "x" * 513 + " == 'a'",  # label longer than 512
    "has(" + "y" * 513 + ")",
    'a not in {"x"} in {"y"}',
    '{"x"}',
    '"x"',
    ",",
]


@pytest.mark.parametrize("text,labels,expected", CASES)
def test_evaluate(text, labels, expected):
    sel = parse(text)
    assert sel.evaluate(labels) is expected
    # The canonical text means the same thing.
    assert parse(str(sel)).evaluate(labels) is expected
    assert validate_selector(text) is None


@pytest.mark.parametrize("text", INVALID)
def test_invalid(text):
    with pytest.raises(SelectorError) as info:
        parse(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert 0 <= err.position <= len(text)
    assert "position" in str(err)
    assert validate_selector(text) == err.reason


def test_table_sizes():
    assert len(CASES) >= 150
    assert len(INVALID) >= 40


def test_label_of_512_is_accepted():
    key = "k" * 512
    assert parse(f"{key} == 'v'").evaluate({key: "v"})
    assert parse(f"has({key})").evaluate({key: ""})


@pytest.mark.parametrize("text,position,expected", [
    ('a == ', 5, "quoted string"),
    ('a', 1, "operator"),
    ('(a == "x"', 9, "')'"),
    ('a == "x")', 8, "end of selector"),
    ('a = "x"', 2, "'=='"),
    ('a in {"x" "y"}', 10, "','"),
    ('has(a', 5, "')'"),
    ('"abc', 0, 'closing "'),
    ('a == "x" && ', 12, "label"),
])
def test_error_position_and_expectation(text, position, expected):
    with pytest.raises(SelectorError) as info:
        parse(text)
    assert info.value.position == position
    assert expected in info.value.expected


def test_deep_nesting_is_a_selector_error_not_a_crash():
    deep = "(" * 5000 + "has(a)" + ")" * 5000
    with pytest.raises(SelectorError):
        parse(deep)
    moderate = "(" * 100 + "has(a)" + ")" * 100
    assert parse(moderate).evaluate({"a": "1"})


def test_deep_negation_collapses():
    assert str(parse("!" * 10001 + "has(a)")) == "!has(a)"


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError):
        parse(None)


@pytest.mark.parametrize("text,entity_ns,expected", [
    ("has(a)", False, None),
    ("has(a)", True, None),
    ("", False, None),
    ("global()", True, None),
    (" ( global( ) ) ", True, None),
    ("global()", False, "can only be used in an EntityRule namespaceSelector"),
    ("has(a) && global()", False, "can only be used"),
    ("global() || has(a)", True, "cannot be combined"),
    ("!global()", True, "cannot be combined"),
    ("a == 'global()'", False, None),  # a value is not a use of global()
])
def test_global_selector_rules(text, entity_ns, expected):
    from libcalico_py.selector import global_selector_error
    reason = global_selector_error(text, entity_namespace_selector=entity_ns)
    if expected is None:
        assert reason is None
    else:
        assert expected in reason
