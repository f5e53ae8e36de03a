"""Ventricle models coupled to circulation blocks."""

from .sphere import SphereModel, SphereParameters

__all__ = ["SphereModel", "SphereParameters"]
