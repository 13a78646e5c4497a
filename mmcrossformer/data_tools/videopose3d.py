"""Convert VideoPose3D's Human3.6M files to MMPose's preprocessed layout.

Inputs (format of facebookresearch/VideoPose3D, ``DATASETS.md``):

* ``data_3d_h36m.npz``: ``positions_3d[subject][action]`` -> (T, 32, 3) or
  (T, 17, 3) world coordinates in metres;
* ``data_2d_h36m_cpn_ft_h36m_dbb.npz`` and/or ``data_2d_h36m_gt.npz``:
  ``positions_2d[subject][action]`` -> list of 4 arrays (T, 17, 2) in pixels,
  one per camera in the order of :data:`H36M_CAMERA_IDS`, and ``metadata``
  (``layout_name``, ``num_joints``, ``keypoints_symmetry``).

Output: the layout written by :func:`.h36m_layout.write_mmpose_h36m`
(``S`` = camera coordinates, ``part`` = GT 2D, CPN detections in
``cpn_ft_h36m_dbb_{train,test}.npy`` with confidence 1). Without a GT 2D
file, ``part`` is the projection of the 3D joints with the Human3.6M camera
model including distortion, which is how both VideoPose3D's
``data_2d_h36m_gt.npz`` and the ``D2_Positions`` used by MMPose are made.
"""
import os
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..datasets.h36m_skeleton import H36M_LEFT, H36M_RIGHT
from .camera import (project_h36m_distorted, quaternion_to_matrix,
                     world_to_camera_at)
from .h36m_layout import (H36M_CAMERA_IDS, NUM_JOINTS, CameraSequence,
                          camera_extrinsics, make_camera_param,
                          write_mmpose_h36m)

# The 17 joints kept from Human3.6M's 32 (VideoPose3D and MMPose alike).
H36M_17_OF_32: Tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18,
                                  19, 25, 26, 27)
# (left joints, right joints) of the 17-joint layout, as in VideoPose3D's
# metadata.
KEYPOINTS_SYMMETRY = (sorted(H36M_LEFT), sorted(H36M_RIGHT))

# Human3.6M intrinsics per camera (identical for all subjects): focal length
# and principal point in pixels, radial (k1, k2, k3) and tangential
# distortion in VideoPose3D's order (MMPose's cameras.pkl stores the two
# tangential coefficients reversed).
H36M_INTRINSICS: Dict[str, Dict[str, Tuple[float, ...]]] = {
    '54138969': {
        'focal_length': (1145.0494384765625, 1143.7811279296875),
        'center': (512.54150390625, 515.4514770507812),
        'radial_distortion':
        (-0.20709891617298126, 0.24777518212795258, -0.0030751503072679043),
        'tangential_distortion':
        (-0.0009756988729350269, -0.00142447161488235),
    },
    '55011271': {
        'focal_length': (1149.6756591796875, 1147.5916748046875),
        'center': (508.8486328125, 508.0649108886719),
        'radial_distortion':
        (-0.1942136287689209, 0.2404085397720337, 0.006819975562393665),
        'tangential_distortion':
        (-0.0016190266469493508, -0.0027408944442868233),
    },
    '58860488': {
        'focal_length': (1149.1407470703125, 1148.7989501953125),
        'center': (519.8158569335938, 501.40264892578125),
        'radial_distortion':
        (-0.2083381861448288, 0.25548800826072693, -0.0024604974314570427),
        'tangential_distortion':
        (0.0014843869721516967, -0.0007599993259645998),
    },
    '60457274': {
        'focal_length': (1145.5113525390625, 1144.77392578125),
        'center': (514.9682006835938, 501.88201904296875),
        'radial_distortion':
        (-0.198384091258049, 0.21832367777824402, -0.008947807364165783),
        'tangential_distortion':
        (-0.0005872055771760643, -0.0018133620033040643),
    },
}

# Human3.6M extrinsics per subject, one row per camera (order of
# H36M_CAMERA_IDS): camera-to-world rotation as a unit quaternion
# (w, x, y, z) and camera centre in world coordinates (millimetres).
H36M_EXTRINSICS: Dict[str, Tuple[Tuple[Tuple[float, ...], Tuple[
    float, ...]], ...]] = {
        'S1': (
            ((0.1407056450843811, -0.1500701755285263, -0.755240797996521,
              0.6223280429840088), (1841.1070556640625, 4955.28466796875,
                                    1563.4454345703125)),
            ((0.6157187819480896, -0.764836311340332, -0.14833825826644897,
              0.11794740706682205), (1761.278564453125, -5078.0068359375,
                                     1606.2650146484375)),
            ((0.14651472866535187, -0.14647851884365082, 0.7653023600578308,
              -0.6094175577163696), (-1846.7777099609375, 5215.04638671875,
                                     1491.972412109375)),
            ((0.5834008455276489, -0.7853162288665771, 0.14548823237419128,
              -0.14749594032764435),
             (-1794.7896728515625, -3722.698974609375,
              1574.8927001953125)),
        ),
        'S5': (
            ((0.1467377245426178, -0.162370964884758, -0.7551892995834351,
              0.6178938746452332), (2097.3916015625, 4880.94482421875,
                                    1605.732421875)),
            ((0.6159758567810059, -0.7626792192459106, -0.15728192031383514,
              0.1189815029501915), (2031.7008056640625, -5167.93310546875,
                                    1612.923095703125)),
            ((0.14291371405124664, -0.12907841801643372, 0.7678384780883789,
              -0.6110143065452576), (-1620.5948486328125, 5171.65869140625,
                                     1496.43701171875)),
            ((0.5920479893684387, -0.7814217805862427, 0.1274748593568802,
              -0.15036417543888092),
             (-1637.1737060546875, -3867.3173828125, 1547.033203125)),
        ),
        'S6': (
            ((0.1337897777557373, -0.15692396461963654, -0.7571090459823608,
              0.6198879480361938), (1935.4517822265625, 4950.24560546875,
                                    1618.0838623046875)),
            ((0.6147197484970093, -0.7628812789916992, -0.16174767911434174,
              0.11819244921207428), (1969.803955078125, -5128.73876953125,
                                     1632.77880859375)),
            ((0.1529948115348816, -0.13529130816459656, 0.7646096348762512,
              -0.6112781167030334), (-1769.596435546875, 5185.361328125,
                                     1476.993408203125)),
            ((0.5916101336479187, -0.7804774045944214, 0.12832270562648773,
              -0.1561593860387802), (-1721.668701171875, -3884.13134765625,
                                     1540.4879150390625)),
        ),
        'S7': (
            ((0.1435241848230362, -0.1631336808204651, -0.7548328638076782,
              0.6188824772834778), (1974.512939453125, 4926.3544921875,
                                    1597.8326416015625)),
            ((0.6141672730445862, -0.7638262510299683, -0.1596645563840866,
              0.1177929937839508), (1937.0584716796875, -5119.7900390625,
                                    1631.5665283203125)),
            ((0.14550060033798218, -0.12874816358089447, 0.7660516500473022,
              -0.6127139329910278), (-1741.8111572265625, 5208.24951171875,
                                     1464.8245849609375)),
            ((0.5912848114967346, -0.7821764349937439, 0.12445473670959473,
              -0.15196487307548523), (-1734.7105712890625, -3832.42138671875,
                                      1548.5830078125)),
        ),
        'S8': (
            ((0.14110587537288666, -0.15589867532253265, -0.7561917304992676,
              0.619644045829773), (2150.65185546875, 4896.1611328125,
                                   1611.9046630859375)),
            ((0.6169601678848267, -0.7647668123245239, -0.14846350252628326,
              0.11158157885074615), (2219.965576171875, -5148.453125,
                                     1613.0440673828125)),
            ((0.1471444070339203, -0.13377119600772858, 0.7670128345489502,
              -0.6100369691848755), (-1571.2215576171875, 5137.0185546875,
                                     1498.1761474609375)),
            ((0.5927824378013611, -0.7825870513916016, 0.12147816270589828,
              -0.14631995558738708), (-1476.913330078125, -3896.7412109375,
                                      1547.97216796875)),
        ),
        'S9': (
            ((0.15540587902069092, -0.15548215806484222, -0.7532095313072205,
              0.6199594736099243), (2044.45849609375, 4935.1171875,
                                    1481.2275390625)),
            ((0.618784487247467, -0.7634735107421875, -0.14132238924503326,
              0.11933968216180801), (1990.959716796875, -5123.810546875,
                                     1568.8048095703125)),
            ((0.13357827067375183, -0.1367100477218628, 0.7689454555511475,
              -0.6100738644599915), (-1670.9921875, 5211.98583984375,
                                     1528.387939453125)),
            ((0.5879399180412292, -0.7823407053947449, 0.1427614390850067,
              -0.14794869720935822), (-1696.04345703125, -3827.099853515625,
                                      1591.4127197265625)),
        ),
        'S11': (
            ((0.15232472121715546, -0.15442320704460144, -0.7547563314437866,
              0.6191070079803467), (2098.440185546875, 4926.5546875,
                                    1500.278564453125)),
            ((0.6189449429512024, -0.7600917220115662, -0.15300633013248444,
              0.1255258321762085), (2083.182373046875, -4912.1728515625,
                                    1561.07861328125)),
            ((0.14943228662014008, -0.15650227665901184, 0.7681233882904053,
              -0.6026304364204407), (-1609.8153076171875, 5177.3359375,
                                     1537.896728515625)),
            ((0.5894251465797424, -0.7818877100944519, 0.13991211354732513,
              -0.14715361595153809), (-1590.738037109375, -3854.1689453125,
                                      1578.017578125)),
        ),
    }

# (subject, VideoPose3D action, camera id) whose video is corrupted in the
# original release (no usable 2D detections); skipped by default.
KNOWN_CORRUPTED: Tuple[Tuple[str, str, str],
                       ...] = (('S11', 'Directions', '54138969'), )
# VideoPose3D renames S1's 'TakingPhoto'/'WalkingDog' sequences; MMPose's
# image names keep the original Human3.6M names.
_S1_ORIGINAL_NAMES = {'Photo': 'TakingPhoto', 'WalkDog': 'WalkingDog'}
DEFAULT_MAX_LENGTH_MISMATCH = 10  # frames


class ConversionError(ValueError):
    """The VideoPose3D input is incomplete or inconsistent."""


def h36m_cameras() -> Dict[Tuple[str, str], dict]:
    """cameras.pkl content for the 7 annotated subjects x 4 cameras."""
    cameras = {}
    for subject, extrinsics in H36M_EXTRINSICS.items():
        for cam_id, (quat, centre_mm) in zip(H36M_CAMERA_IDS, extrinsics):
            intr = H36M_INTRINSICS[cam_id]
            cameras[(subject, cam_id)] = make_camera_param(
                R=quaternion_to_matrix(quat).T,
                C=np.asarray(centre_mm) / 1000.0,
                f=intr['focal_length'],
                c=intr['center'],
                camera_id=cam_id,
                k=intr['radial_distortion'],
                p=intr['tangential_distortion'][::-1])
    return cameras


def project_h36m(X: np.ndarray, param: Mapping) -> np.ndarray:
    """Camera points (..., 3) -> distorted pixels (..., 2) with the
    intrinsics of a cameras.pkl entry (whose tangential coefficients are in
    MMPose's order, the reverse of Human3.6M's)."""
    return project_h36m_distorted(X, param['f'], param['c'], param['k'],
                                  param['p'].ravel()[::-1])


def load_videopose3d(path: str, key: str) -> Tuple[dict, dict]:
    """``key`` ('positions_3d' or 'positions_2d') dict and the metadata dict
    (empty for 3D files) of a VideoPose3D npz."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'VideoPose3D file not found: {path}')
    with np.load(path, allow_pickle=True) as data:
        if key not in data.files:
            raise ConversionError(f'{path} has no {key!r} array (keys: '
                                  f'{data.files}); is it a VideoPose3D '
                                  f'{key[-2:]} file?')
        positions = data[key].item()
        metadata = data['metadata'].item() if 'metadata' in data.files \
            else {}
    _check_metadata(path, metadata)
    return positions, metadata


def _check_metadata(path: str, metadata: Mapping) -> None:
    """Reject 2D files whose metadata is not the 17-joint H36M layout."""
    symmetry = metadata.get('keypoints_symmetry', KEYPOINTS_SYMMETRY)
    if (metadata.get('layout_name', 'h36m') != 'h36m'
            or metadata.get('num_joints', NUM_JOINTS) != NUM_JOINTS
            or [list(s) for s in symmetry] != list(KEYPOINTS_SYMMETRY)):
        raise ConversionError(
            f'{path}: metadata {metadata} does not describe the Human3.6M '
            f"17-joint layout (layout_name 'h36m', num_joints 17, "
            f'keypoints_symmetry {list(KEYPOINTS_SYMMETRY)})')


def mmpose_action_name(subject: str, action: str) -> str:
    """MMPose (original Human3.6M) name of a VideoPose3D sequence name."""
    if subject != 'S1':
        return action
    base, _, sub = action.partition(' ')
    return ' '.join(filter(None, (_S1_ORIGINAL_NAMES.get(base, base), sub)))


def _world_joints(positions: np.ndarray, where: str) -> np.ndarray:
    """(T, 32|17, 3) -> (T, 17, 3) float64."""
    if positions.ndim != 3 or positions.shape[1:] not in ((32, 3), (17, 3)):
        raise ConversionError(f'{where}: 3D positions have shape '
                              f'{positions.shape}, expected (T, 32, 3) or '
                              '(T, 17, 3)')
    if positions.shape[1] == 32:
        positions = positions[:, list(H36M_17_OF_32)]
    return positions.astype(np.float64)


def _camera_arrays(data: dict, name: str, subject: str,
                   action: str) -> List[np.ndarray]:
    """The 4 per-camera (T, 17, C) arrays of ``data[subject][action]``."""
    if subject not in data:
        raise ConversionError(f'subject {subject} is missing from the {name} '
                              f'file (it has {sorted(data)})')
    if action not in data[subject]:
        raise ConversionError(
            f'action {action!r} of subject {subject} is missing from the '
            f'{name} file (it has {sorted(data[subject])})')
    arrays = data[subject][action]
    if len(arrays) != len(H36M_CAMERA_IDS):
        raise ConversionError(
            f'{name} file, {subject} {action!r}: {len(arrays)} camera arrays, '
            f'expected {len(H36M_CAMERA_IDS)} (cameras {H36M_CAMERA_IDS})')
    for cam_id, arr in zip(H36M_CAMERA_IDS, arrays):
        if arr.ndim != 3 or arr.shape[1] != NUM_JOINTS or arr.shape[2] not in (
                2, 3):
            raise ConversionError(
                f'{name} file, {subject} {action!r} camera {cam_id}: shape '
                f'{arr.shape}, expected (T, 17, 2) or (T, 17, 3)')
    return list(arrays)


def _camera_sequence(subject: str, action: str, param: Mapping,
                     world: np.ndarray,
                     arrays: Mapping[str, np.ndarray]) -> CameraSequence:
    """One camera's sequence from world joints (T, 17, 3) and the 'CPN' /
    'GT 2D' arrays (T, 17, 2|3) that are given."""
    X = world_to_camera_at(world, *camera_extrinsics(param))
    gt = arrays.get('GT 2D')
    uv = project_h36m(X, param) if gt is None else gt[..., :2]
    det = arrays.get('CPN')
    if det is not None and det.shape[2] == 2:  # confidence 1
        det = np.concatenate([det, np.ones(det.shape[:2] + (1, ))], axis=-1)
    return CameraSequence(subject, mmpose_action_name(subject, action),
                          param['id'], X, uv.astype(np.float64), det)


def convert_videopose3d(
    data_3d: str,
    out_dir: str,
    *,
    cpn_2d: Optional[str] = None,
    gt_2d: Optional[str] = None,
    subjects: Optional[Sequence[str]] = None,
    max_length_mismatch: int = DEFAULT_MAX_LENGTH_MISMATCH,
    skip: Sequence[Tuple[str, str, str]] = KNOWN_CORRUPTED,
) -> dict:
    """Convert VideoPose3D files to MMPose's Human3.6M layout in ``out_dir``.

    Args:
        data_3d: ``data_3d_h36m.npz``.
        out_dir: output root (``annotation_body3d/``, ``joint_2d_det_files/``).
        cpn_2d: ``data_2d_h36m_cpn_ft_h36m_dbb.npz``; without it no detection
            files are written.
        gt_2d: ``data_2d_h36m_gt.npz`` for ``part``; without it ``part`` is
            the distorted projection of the 3D joints.
        subjects: subjects to convert (default: all in ``data_3d``).
        max_length_mismatch: per camera, the 3D and 2D sequences are cropped
            to the shortest; a larger length difference is an error.
        skip: (subject, VideoPose3D action, camera id) to leave out.

    Every 3D sequence (subject, action) must have 4 camera arrays in each
    given 2D file; 2D sequences without 3D are ignored.

    Returns:
        {'samples': {split: N}, 'skipped': [(subject, action, camera)],
        'cropped': [(subject, action, camera, {source: length})]}.
    """
    positions_3d, _ = load_videopose3d(data_3d, 'positions_3d')
    sources_2d = {
        name: load_videopose3d(path, 'positions_2d')[0]
        for name, path in (('CPN', cpn_2d), ('GT 2D', gt_2d)) if path
    }
    subjects = list(positions_3d) if subjects is None else list(subjects)
    for subject in subjects:
        if subject not in positions_3d:
            raise ConversionError(f'subject {subject} is missing from the 3D '
                                  f'file {data_3d} (it has '
                                  f'{sorted(positions_3d)})')
        if subject not in H36M_EXTRINSICS:
            raise ConversionError(f'no Human3.6M camera parameters for '
                                  f'subject {subject}')

    cameras = h36m_cameras()
    sequences, skipped, cropped = [], [], []
    for subject in subjects:
        for action in sorted(positions_3d[subject]):
            where = f'{data_3d}: {subject} {action!r}'
            world = _world_joints(
                np.asarray(positions_3d[subject][action]), where)
            per_source = {
                name: _camera_arrays(data, name, subject, action)
                for name, data in sources_2d.items()
            }
            for c, cam_id in enumerate(H36M_CAMERA_IDS):
                if (subject, action, cam_id) in skip:
                    skipped.append((subject, action, cam_id))
                    continue
                arrays = {name: arrs[c] for name, arrs in per_source.items()}
                lengths = {'3D': len(world)}
                lengths.update({k: len(v) for k, v in arrays.items()})
                n = min(lengths.values())
                if max(lengths.values()) - n > max_length_mismatch:
                    raise ConversionError(
                        f'{subject} {action!r} camera {cam_id}: sequence '
                        f'lengths {lengths} differ by more than '
                        f'{max_length_mismatch} frames')
                if len(set(lengths.values())) > 1:
                    cropped.append((subject, action, cam_id, lengths))
                arrays = {k: v[:n] for k, v in arrays.items()}
                sequences.append(
                    _camera_sequence(subject, action,
                                     cameras[(subject, cam_id)], world[:n],
                                     arrays))
    counts = write_mmpose_h36m(out_dir, sequences, cameras)
    return {'samples': counts, 'skipped': skipped, 'cropped': cropped}
