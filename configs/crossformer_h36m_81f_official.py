# The authors' released 81-frame CrossFormer (CPN-detected 2D input; they
# report 44.4 mm MPJPE). Builds their network exactly, so that checkpoints
# converted by tools/model_converters/crossformer_official_to_mmpose.py load
# with strict=True and reproduce their outputs. The released constructor
# overrides its arguments: MLP ratio 4, no qkv bias, LayerNorm eps 1e-5, one
# temporal positional embedding shared by all frames, CJI/CFI with their own
# residual inside the block's, layer scales initialised to 1e-5, and its
# forward zeroes the 2D input of window frames 10-15.
_base_ = ['./crossformer_h36m_81f.py']
model = dict(
    backbone=dict(
        mlp_ratio=4.,
        qkv_bias=False,
        norm_eps=1e-5,
        temporal_pos_embed='shared',
        interaction_residual=True,
        layer_scale_init=1e-5,
        zero_input_frames=(10, 16)))
