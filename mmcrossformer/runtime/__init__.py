"""Inference and deployment fast paths (fused attention, oneDNN linear
layers, bf16, ``torch.compile``, ONNX export). Imported only when used:
``import mmcrossformer`` does not import this package."""
