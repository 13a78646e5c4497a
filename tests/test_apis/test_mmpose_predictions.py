"""``--kpt-file`` reads the prediction JSON that MMPose's own inferencer
writes (``demo/inferencer_demo.py --pred-out-dir``): the file is produced
here by ``MMPoseInferencer(...)(video, pred_out_dir=...)`` itself, with a
random-weight 2D model on a short rendered video."""
import json

import numpy as np
import pytest

from mmcrossformer.apis import (load_keypoints_file,
                                load_mmpose_predictions_json)

from .test_inference import (  # noqa: F401  (fixtures)
    _run_demo, pose2d_cfg, video)


@pytest.fixture(scope='module')
def mmpose_predictions(video, pose2d_cfg, tmp_path_factory):  # noqa: F811
    """(path of MMPose's JSON, the inferencer's returned predictions)."""
    from mmpose.apis import MMPoseInferencer
    out = tmp_path_factory.mktemp('pred')
    inferencer = MMPoseInferencer(pose2d=pose2d_cfg, det_model='whole_image',
                                  device='cpu')
    results = [r['predictions'][0]
               for r in inferencer(video, pred_out_dir=str(out))]
    return out / 'two.json', results


def test_reader_reproduces_the_inferencer_predictions(mmpose_predictions):
    path, results = mmpose_predictions
    raw = json.loads(path.read_text())
    # the writer's format (mmpose.structures.split_instances, per frame)
    assert [f['frame_id'] for f in raw] == list(range(8))
    inst = raw[0]['instances'][0]
    assert np.shape(inst['keypoints']) == (17, 2)
    assert np.shape(inst['keypoint_scores']) == (17, )
    assert np.shape(inst['bbox']) == (1, 4)  # a one-element tuple of xyxy

    kf = load_keypoints_file(str(path))
    assert len(kf) == 8 and kf.num_keypoints == 17 and not kf.tracked
    for frame, preds in zip(kf.frames, results):
        assert len(frame) == len(preds) == 1
        np.testing.assert_allclose(frame[0].keypoints[:, :2],
                                   preds[0]['keypoints'], rtol=1e-6)
        np.testing.assert_allclose(frame[0].keypoints[:, 2],
                                   preds[0]['keypoint_scores'], rtol=1e-6)
        # whole_image: the box is the frame
        np.testing.assert_allclose(frame[0].bbox, [0, 0, 320, 240])
        assert frame[0].score == pytest.approx(preds[0]['bbox_score'])


def test_demo_lifts_mmpose_predictions(mmpose_predictions, tmp_path):
    path, results = mmpose_predictions
    _run_demo('--kpt-file', str(path), '--kpt-layout', 'coco', '--img-size',
              '320', '240', '--no-vis', '--output-root', str(tmp_path))
    out = json.loads((tmp_path / 'two_3d.json').read_text())
    assert len(out['frames']) == 8
    inst = out['frames'][3]['instances'][0]
    assert np.shape(inst['keypoints_3d']) == (17, 3)
    # the 2D keypoints carried through are MMPose's, with their scores
    np.testing.assert_allclose(
        np.asarray(inst['keypoints_2d'])[:, :2], results[3][0]['keypoints'],
        atol=0.01)


def test_image_predictions_tracked_and_malformed_files(tmp_path):
    """One image's file (a list of instances), track ids, and files the
    reader must refuse with a reason."""
    rng = np.random.default_rng(0)

    def inst(**extra):
        return dict(keypoints=rng.uniform(0, 99, (17, 2)).tolist(),
                    keypoint_scores=rng.uniform(0, 1, 17).tolist(), **extra)

    path = tmp_path / 'img.json'
    path.write_text(json.dumps([inst(bbox=[[1, 2, 30, 40]]), inst()]))
    kf = load_mmpose_predictions_json(str(path))
    assert len(kf) == 1 and len(kf.frames[0]) == 2
    np.testing.assert_array_equal(kf.frames[0][0].bbox, [1, 2, 30, 40])
    # no box: the keypoints' extent, score the mean keypoint score
    second = kf.frames[0][1]
    assert second.score == pytest.approx(second.keypoints[:, 2].mean())

    video = [dict(frame_id=0, instances=[inst(track_id=3)]),
             dict(frame_id=2, instances=[inst(track_id=3)])]
    path.write_text(json.dumps(video))
    kf = load_keypoints_file(str(path))
    assert kf.tracked and [len(f) for f in kf.frames] == [1, 0, 1]

    lifted = [dict(frame_id=0, instances=[dict(
        keypoints=np.zeros((17, 3)).tolist(), keypoint_scores=[1] * 17)])]
    path.write_text(json.dumps(lifted))
    with pytest.raises(ValueError, match='3D predictions: give the 2D'):
        load_keypoints_file(str(path))
    short = [inst()]
    short[0]['keypoint_scores'] = short[0]['keypoint_scores'][:5]
    path.write_text(json.dumps(short))
    with pytest.raises(ValueError, match='17 keypoints but 5'):
        load_keypoints_file(str(path))
    path.write_text(json.dumps([dict(frame_id=0, instances=[])]))
    with pytest.raises(ValueError, match='no person in any frame'):
        load_keypoints_file(str(path))
    path.write_text(json.dumps([dict(foo=1)]))
    with pytest.raises(ValueError, match='neither MMPose inferencer'):
        load_keypoints_file(str(path))
