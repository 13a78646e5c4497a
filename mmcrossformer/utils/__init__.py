from .io import atomic_save

__all__ = ['atomic_save']
