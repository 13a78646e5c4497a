from .mpjpe_mm import MPJPEmm

__all__ = ['MPJPEmm']
