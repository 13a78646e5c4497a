"""Keypoint files given to the inference APIs: empty or unreadable files are
named; frames without a person and files without scores."""
import numpy as np
import pytest


def test_keypoint_files_empty_or_unreadable_are_named(tmp_path):
    from mmcrossformer.apis import load_keypoints_file
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_keypoints_file(str(tmp_path / 'missing.json'))
    for name, data in (('a.json', b''), ('b.npy', b'')):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=f'{name} is empty'):
            load_keypoints_file(str(tmp_path / name))
    (tmp_path / 'c.json').write_text('{"predictions": ')
    with pytest.raises(ValueError, match='c.json is not readable'):
        load_keypoints_file(str(tmp_path / 'c.json'))
    (tmp_path / 'd.json').write_text('[]')
    with pytest.raises(ValueError, match='non-empty list'):
        load_keypoints_file(str(tmp_path / 'd.json'))
    np.save(tmp_path / 'e.npy', np.zeros((0, 17, 2)))
    with pytest.raises(ValueError, match='holds no frames'):
        load_keypoints_file(str(tmp_path / 'e.npy'))


def test_frames_without_a_person_and_missing_scores(tmp_path):
    """Documented behaviour: frames where nobody was found (all-NaN rows)
    carry no instance; a track's gaps are filled by linear interpolation
    before lifting; files without a confidence channel get score 1."""
    from mmcrossformer.apis import load_keypoints_file
    from mmcrossformer.apis.lifting import fill_gaps
    kpts = np.random.default_rng(0).uniform(100, 900, (6, 17, 2))
    kpts[2:4] = np.nan  # nobody in frames 2 and 3
    np.save(tmp_path / 'k.npy', kpts)
    kf = load_keypoints_file(str(tmp_path / 'k.npy'))
    assert [len(f) for f in kf.frames] == [1, 1, 0, 0, 1, 1]
    assert all(inst.keypoints.shape == (17, 3) and
               (inst.keypoints[:, 2] == 1).all()
               for f in kf.frames for inst in f)
    frames = np.array([0, 1, 4, 5])
    dense = fill_gaps(frames, kpts[frames])
    np.testing.assert_allclose(dense[2], kpts[1] + (kpts[4] - kpts[1]) / 3,
                               rtol=1e-5)
    assert np.isfinite(dense).all()
