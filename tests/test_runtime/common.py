"""A small lifting model with every option of the released architecture,
shared by the runtime tests."""
import torch
from mmengine.config import Config

from mmpose.registry import MODELS

from ..helpers import REPO


def small_model(seed: int = 0, fast: bool = False) -> torch.nn.Module:
    """Every option of the released architecture (the official config), in
    a one-layer, 27-frame network; the plain layers unless ``fast``
    (the configs' ``fast_inference``)."""
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'crossformer_h36m_81f_official.py'))
    cfg.model.backbone.update(
        num_frames=27, depth=1, drop_path_rate=0., fast_inference=fast)
    cfg.model.head.num_frames = 27
    with torch.random.fork_rng():  # leave the global generator as it was
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model)
        model.init_weights()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # weights that make every branch matter
        for name, p in model.named_parameters():
            if 'layer_scales' in name:
                p.copy_(0.5 + 0.1 * torch.randn(p.shape, generator=g))
            elif 'pos_embed' in name:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    return model.eval()


def keypoints(batch: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 27, 17, 2, generator=g) * 0.5


def reference_output(model, x):
    with torch.no_grad():
        return model(x, None, 'tensor')


def spy_encode(backbone) -> list:
    """The batch size of every ``encode`` call of ``backbone``."""
    sizes = []
    encode = backbone.encode
    backbone.encode = lambda x: sizes.append(len(x)) or encode(x)
    return sizes
