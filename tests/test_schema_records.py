"""fn.model.schema records: `Obj.validate` gives a typed record per
object (attributes spelled as in the config), free-form content stays plain
data, `to_data()` gives the plain structure back; the JSON Schema export
carries its own context (re-entrant, no module state)."""

import pytest

from fn.model import config as cfg
from fn.model.schema import (FILL, Any_, Field, List, Obj, Record, SchemaContext, Str, StrMap,
                             json_schema_document)

ITEM = Obj("Item", {
    "name": Field(Str(), required=True),
    "dependsOn": List(Str()),
    "mode": Field(Str(enum=("a", "b")), default="a"),
    "note": Str(),
    "labels": StrMap(),
    "values": Any_(kind=dict),
    "inner": Field(Obj("Inner", {"size": Field(Str(), default="s"), "tag": Str()}), default=FILL),
    "parts": List(Obj("Part", {"id": Field(Str(), required=True), "extra": Str()})),
})


def valid(obj: Obj, doc):
    problems: list = []
    rec = obj.validate(doc, "", problems)
    assert not problems, problems
    return rec


def test_validate_gives_a_record_with_the_configs_spelling():
    rec = valid(ITEM, {"name": "x", "dependsOn": ["y"], "parts": [{"id": "p"}]})
    assert isinstance(rec, ITEM.record) and isinstance(rec, Record)
    assert rec.name == "x" and rec.dependsOn == ["y"]
    assert rec.mode == "a"                      # a default
    assert rec.note is None and rec.labels is None and rec.values is None  # absent: None
    assert valid(ITEM, {"name": "x"}).dependsOn == []   # an absent list is empty
    assert rec.inner.size == "s" and rec.inner.tag is None  # FILL: the object's own defaults
    assert [type(p) for p in rec.parts] == [ITEM.fields["parts"].type.item.record]
    assert rec.parts[0].id == "p" and rec.parts[0].extra is None


def test_a_null_value_reads_as_absent():
    assert valid(ITEM, {"name": "x", "note": None, "mode": None}).note is None
    assert valid(ITEM, {"name": "x", "mode": None}).mode == "a"


def test_free_form_content_stays_plain_data():
    values = {"replicas": 2, "image": {"tag": "1.0"}}
    rec = valid(ITEM, {"name": "x", "values": values, "labels": {"a": "b"}})
    assert rec.values is values
    assert type(rec.labels) is dict and rec.labels == {"a": "b"}


def test_a_name_that_is_no_field_raises():
    rec = valid(ITEM, {"name": "x"})
    with pytest.raises(AttributeError):
        rec.depends_on
    with pytest.raises(AttributeError):
        rec.releaseName


def test_a_record_holds_only_its_fields():
    rec = valid(ITEM, {"name": "x"})
    with pytest.raises(AttributeError):
        rec.other = 1
    assert not hasattr(rec, "__dict__")


def test_to_data_omits_absent_fields_and_unwraps_nested_records():
    doc = {"name": "x", "parts": [{"id": "p"}], "labels": {"a": "b"}}
    data = valid(ITEM, doc).to_data()
    assert data == {"name": "x", "dependsOn": [], "mode": "a", "labels": {"a": "b"},
                    "inner": {"size": "s"}, "parts": [{"id": "p"}]}
    assert all(type(v) in (str, list, dict) for v in data.values())
    assert type(data["parts"][0]) is dict and type(data["inner"]) is dict


def test_records_compare_by_value_and_show_their_fields():
    a, b = valid(ITEM, {"name": "x"}), valid(ITEM, {"name": "x"})
    assert a == b and a != valid(ITEM, {"name": "y"})
    assert a != a.to_data()  # a record is not a mapping
    assert repr(a.inner) == "Inner(size='s')"


def test_one_record_class_per_object_type():
    assert type(valid(ITEM, {"name": "x"})) is type(valid(ITEM, {"name": "y"})) is ITEM.record
    assert ITEM.record.__slots__ == tuple(ITEM.fields)
    assert ITEM.record.__name__ == "Item"


def test_a_record_is_built_by_keyword_and_refuses_unknown_fields():
    rec = ITEM.record(name="x", mode="b")
    assert (rec.name, rec.mode, rec.note) == ("x", "b", None)
    with pytest.raises(TypeError, match="no field 'nmae'"):
        ITEM.record(nmae="x")


def test_a_mapping_of_the_wrong_type_still_gives_a_record_with_the_error():
    problems: list = []
    rec = ITEM.validate(["x"], "spec.item", problems)
    assert [str(p) for p in problems] == ["spec.item: expected a mapping (Item), got a list"]
    assert isinstance(rec, ITEM.record) and rec.mode == "a"


def test_the_cluster_model_validates_into_records():
    rec = valid(cfg.CLUSTER, {"apiVersion": cfg.API_VERSION, "kind": cfg.KIND,
                              "metadata": {"name": "c"},
                              "spec": {"nodes": [{"name": "n", "children": [{"name": "m"}]}]}})
    assert rec.spec.flux.defaults.interval == "10m"
    assert rec.spec.argocd.syncPolicy.automated.prune is True
    assert rec.spec.bootstrap is None
    child = rec.spec.nodes[0].children[0]
    assert type(child) is type(rec.spec.nodes[0]) is cfg.NODE.record and child.name == "m"


# -- recursive types and the JSON Schema context --------------------------------

TREE = Obj("Tree", lambda tree: {"name": Field(Str(), required=True),
                                 "children": List(tree, "sub-trees")})


def test_a_recursive_type_is_declared_with_its_own_reference():
    assert TREE.fields["children"].type.item is TREE
    rec = valid(TREE, {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})
    assert rec.children[0].children[0].name == "c"


def test_json_schema_of_a_recursive_type_refers_to_its_definition():
    doc = json_schema_document(TREE)
    assert doc["$ref"] == "#/definitions/Tree"
    assert doc["definitions"]["Tree"]["properties"]["children"]["items"] == \
        {"$ref": "#/definitions/Tree"}


def test_json_schema_export_is_reentrant():
    """Each export carries its own context: exporting another schema in the
    middle of one (or twice in a row) changes neither."""
    first = json_schema_document(TREE)

    class Probe(Str):
        def json_schema(self, ctx):
            assert json_schema_document(TREE) == first  # an export inside an export
            return super().json_schema(ctx)

    outer = Obj("Outer", {"probe": Probe(), "tree": TREE})
    ctx = SchemaContext()
    outer.json_schema(ctx)
    assert list(ctx.definitions()) == ["Tree"]
    assert json_schema_document(TREE) == first
    assert "definitions" not in json_schema_document(ITEM)  # nothing recursive met here
    assert cfg.json_schema() == cfg.json_schema()
