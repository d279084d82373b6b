"""fn.records: the dataclass subset kure-fn uses, with dataclasses' meaning."""

import pytest

from fn.records import FrozenInstanceError, dataclass, field


@dataclass
class Point:
    x: int
    y: int = 0
    tags: list = field(default_factory=list)


@dataclass(frozen=True)
class Key:
    name: str
    size: int = 1


@dataclass(eq=False)
class Node:
    name: str


class Labelled(Key):
    """A subclass without its own fields (as Warning_ is of Problem)."""


@dataclass
class Point3(Point):
    z: int = 0


def test_init_defaults_and_factories():
    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, [])
    assert Point(1).tags is not Point(1).tags
    assert Point(1, 2, ["a"]).tags == ["a"]
    assert Point(x=3, y=4).y == 4
    with pytest.raises(TypeError):
        Point()


def test_repr_and_eq():
    assert repr(Point(1, 2)) == "Point(x=1, y=2, tags=[])"
    assert Point(1, 2) == Point(1, 2) and Point(1, 2) != Point(2, 1)
    assert Point(1) != (1, 0, [])
    with pytest.raises(TypeError):
        hash(Point(1))


def test_frozen_is_hashable_and_read_only():
    k = Key("a")
    assert {k: 1}[Key("a")] == 1
    with pytest.raises(FrozenInstanceError):
        k.name = "b"
    assert Labelled("a") != Key("a")  # as dataclasses: the exact class must match
    assert Labelled("a") == Labelled("a")


def test_eq_false_is_identity():
    a, b = Node("a"), Node("a")
    assert a != b and a == a and len({a, b}) == 2


def test_inherited_fields_come_first():
    assert repr(Point3(1, 2, [], 3)) == "Point3(x=1, y=2, tags=[], z=3)"
