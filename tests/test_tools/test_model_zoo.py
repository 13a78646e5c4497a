"""configs/README.md's model-zoo table and the metafile
configs/crossformer_h36m.yml (MMPose's format) agree with each other and
with the configs they name."""
import re

import yaml
from mmengine.config import Config

from ..helpers import REPO


def metafile() -> dict:
    with open(REPO / 'configs' / 'crossformer_h36m.yml') as f:
        return yaml.safe_load(f)


def readme_rows() -> dict:
    """config file name -> (2D input, frames, MPJPE) of the README table."""
    rows = {}
    for line in (REPO / 'configs' / 'README.md').read_text().splitlines():
        m = re.match(r'\| \[(\S+\.py)\]\(\S+\) \| ([^|]+) \| (\d+) \| '
                     r'([\d.]+)', line)
        if m:
            rows[m.group(1)] = (m.group(2).strip(), int(m.group(3)),
                                float(m.group(4)))
    return rows


def test_metafile_has_mmpose_structure():
    meta = metafile()
    (collection, ) = meta['Collections']
    assert collection['Name'] == 'CrossFormer'
    assert collection['Paper']['URL'].endswith('2203.13387')
    names = [m['Name'] for m in meta['Models']]
    assert len(names) == len(set(names))
    for model in meta['Models']:
        assert model['In Collection'] == 'CrossFormer'
        assert model['Metadata']['Architecture'] == ['CrossFormer']
        assert model['Name'] == model['Config'].split('/')[-1][:-3]
        (result, ) = model['Results']
        assert result['Task'] == 'Body 3D Keypoint'
        assert result['Dataset'] == model['Metadata']['Training Data']
        # weights only where the authors released them
        assert ('Weights' in model) == model['Name'].endswith('_official')


def test_metafile_matches_configs_and_readme_table():
    rows = readme_rows()
    models = metafile()['Models']
    assert sorted(rows) == sorted(m['Config'].split('/')[-1] for m in models)
    for model in models:
        cfg = Config.fromfile(str(REPO / model['Config']))
        frames = model['Metadata']['Frames']
        assert cfg.model.backbone.num_frames == frames
        assert cfg.test_dataloader.dataset.seq_len == frames
        src = cfg.test_dataloader.dataset.get('keypoint_2d_src', 'gt')
        gt_input = model['Metadata']['Input'] == 'ground truth'
        assert (src == 'gt') == gt_input, model['Name']
        readme_input, readme_frames, readme_mpjpe = rows[
            model['Config'].split('/')[-1]]
        assert readme_frames == frames
        assert readme_input == model['Metadata']['Input']
        assert readme_mpjpe == model['Results'][0]['Metrics']['MPJPE']


def test_paper_numbers():
    """The reported figures, from the paper's tables and the file names of
    the authors' release."""
    got = {m['Name']: m['Results'][0]['Metrics']
           for m in metafile()['Models']}
    assert got['crossformer_h36m_81f'] == {'MPJPE': 43.7, 'P-MPJPE': 34.3}
    assert got['crossformer_h36m_9f']['MPJPE'] == 48.5
    assert got['crossformer_h36m_27f']['MPJPE'] == 46.5
    assert got['crossformer_h36m_81f_gt']['MPJPE'] == 28.3
    assert got['crossformer_h36m_81f_official']['MPJPE'] == 44.4
    assert got['crossformer_h36m_81f_gt_official']['MPJPE'] == 28.5
    assert got['crossformer_3dhp_9f'] == {'3DPCK': 89.1, 'AUC': 57.5,
                                          'MPJPE': 76.3}
