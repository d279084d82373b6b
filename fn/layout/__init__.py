"""The tree: where every generated object is written (shared by all engines)."""

from .plan import TreePlan, repo_path
from .tree import Tree

__all__ = ["TreePlan", "Tree", "repo_path"]
