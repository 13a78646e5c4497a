"""The one camera convention of the data tools (R world-to-camera)."""
import numpy as np
import pytest

from mmcrossformer.data_tools import camera
from mmcrossformer.data_tools.h36m_layout import (camera_extrinsics,
                                                  make_camera_param)


def test_look_at_puts_the_target_on_the_optical_axis():
    pos, target = np.array([3.0, -4.0, 1.6]), np.array([0.2, 0.1, 0.9])
    R = camera.look_at(pos, target)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    X = camera.world_to_camera_at(target, R, pos)
    np.testing.assert_allclose(X[:2], 0.0, atol=1e-12)
    assert X[2] == pytest.approx(np.linalg.norm(target - pos))
    # image y points down: a point above the target has a smaller y
    above = camera.world_to_camera_at(target + [0, 0, 0.5], R, pos)
    assert above[1] < 0
    # a roll turns the image about the optical axis
    R_roll = camera.look_at(pos, target, roll=np.pi / 2)
    np.testing.assert_allclose(R_roll[2], R[2], atol=1e-12)
    np.testing.assert_allclose(R_roll[0], R[1], atol=1e-12)


def test_translation_and_centre_forms_agree_and_invert():
    rng = np.random.default_rng(0)
    R = camera.quaternion_to_matrix(rng.normal(size=4))
    C = rng.normal(size=3)
    X = rng.normal(size=(5, 17, 3))
    X_cam = camera.world_to_camera_at(X, R, C)
    np.testing.assert_allclose(
        camera.world_to_camera(X, R, -R @ C), X_cam, atol=1e-12)
    np.testing.assert_allclose(
        camera.camera_to_world_at(X_cam, R, C), X, atol=1e-12)
    # hand computation of one point
    np.testing.assert_allclose(X_cam[2, 3], R @ (X[2, 3] - C), atol=1e-12)


def test_cameras_pkl_entry_stores_mmpose_convention():
    """MMPose's SimpleCamera reads R camera-to-world and T the centre."""
    R = camera.look_at(np.array([4.0, 1.0, 1.5]), np.zeros(3))
    C = np.array([4.0, 1.0, 1.5])
    param = make_camera_param(R, C, (1145.0, 1146.0), (500.0, 505.0),
                              '54138969')
    np.testing.assert_array_equal(param['R'], R.T)
    np.testing.assert_array_equal(param['T'], C.reshape(3, 1))
    R_back, C_back = camera_extrinsics(param)
    np.testing.assert_array_equal(R_back, R)
    np.testing.assert_array_equal(C_back, C)


def test_pinhole_and_distortion():
    X = np.array([[0.3, -0.2, 2.0]])
    f, c = np.array([1000.0, 1010.0]), np.array([500.0, 490.0])
    np.testing.assert_allclose(
        camera.project_pinhole(X, f, c), [[650.0, 389.0]])
    # zero distortion is the pinhole model
    np.testing.assert_allclose(
        camera.project_h36m_distorted(X, f, c, np.zeros(3), np.zeros(2)),
        camera.project_pinhole(X, f, c))
    # radial k1 only: x' = x (1 + k1 r^2)
    xy = X[0, :2] / X[0, 2]
    r2 = (xy**2).sum()
    np.testing.assert_allclose(
        camera.project_h36m_distorted(X, f, c, [0.1, 0, 0], np.zeros(2))[0],
        xy * (1 + 0.1 * r2) * f + c)
