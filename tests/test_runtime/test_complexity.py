"""Paper Table 4: parameters and the CrossFormer / PoseFormer FLOP ratio,
through mmcrossformer.runtime.complexity (and its CLI,
tools/analysis_tools/get_flops.py)."""
import subprocess
import sys

import pytest

from mmcrossformer.runtime import complexity as get_flops

from ..helpers import REPO


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


def test_get_flops_tool_prints_the_table():
    """The README's command, on one config."""
    cfg = 'configs/crossformer_h36m_9f.py'
    out = subprocess.run(
        [sys.executable, 'tools/analysis_tools/get_flops.py', cfg],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True).stdout
    c = get_flops.complexity(str(REPO / cfg))
    assert (f'| {cfg} | 9 | {c["params"] / 1e6:.2f} | '
            f'{c["flops"] / 1e6:.0f} | '
            f'{c["flops_with_attention"] / 1e6:.0f} |') in out
