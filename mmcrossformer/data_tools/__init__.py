"""Offline data tooling: the Human3.6M file layout writer, converters of
public data files and the synthetic data generators. Nothing here is
registered; ``import mmcrossformer`` does not import it."""
