"""Paper Table 4: parameters and the CrossFormer / PoseFormer FLOP ratio,
through tools/analysis_tools/get_flops.py."""
import importlib.util

import pytest

from ..helpers import REPO

spec = importlib.util.spec_from_file_location(
    'get_flops', REPO / 'tools/analysis_tools/get_flops.py')
get_flops = importlib.util.module_from_spec(spec)
spec.loader.exec_module(get_flops)


def test_81_frame_crossformer_has_the_papers_parameter_count():
    c = get_flops.complexity(str(REPO / 'configs/crossformer_h36m_81f.py'))
    assert c['params'] / 1e6 == pytest.approx(9.93, rel=0.03)
    p = get_flops.complexity(str(REPO / 'configs/poseformer_h36m_81f.py'))
    assert p['params'] / 1e6 == pytest.approx(9.60, rel=0.03)


@pytest.mark.parametrize('frames,paper_ratio', [(9, 163 / 150),
                                                (27, 515 / 452),
                                                (81, 1739 / 1358)])
def test_flop_ratio_to_poseformer_matches_table_4(frames, paper_ratio):
    cross = get_flops.complexity(
        str(REPO / f'configs/crossformer_h36m_{frames}f.py'))
    pose = get_flops.complexity(
        str(REPO / f'configs/poseformer_h36m_{frames}f.py'))
    assert cross['flops'] / pose['flops'] == pytest.approx(
        paper_ratio, abs=0.04)
    # the fused attention products add the same amount to both models
    assert (cross['flops_with_attention'] - cross['flops'] == pytest.approx(
        pose['flops_with_attention'] - pose['flops'], rel=1e-6))
