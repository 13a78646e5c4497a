# MPI-INF-3DHP, the 17-joint skeleton of its test set (MMPose's dataset_info
# format; `MpiInf3dhpDataset` reads it by default). The first 14 joints are
# the ones the benchmark's 3DPCK / AUC are reported on; 14 is the pelvis
# (the root of the root-relative targets).
_l, _r, _c = [0, 255, 0], [255, 128, 0], [51, 153, 255]
dataset_info = dict(
    dataset_name='mpi_inf_3dhp',
    paper_info=dict(
        author='Mehta, Dushyant and Rhodin, Helge and Casas, Dan and '
        'Fua, Pascal and Sotnychenko, Oleksandr and Xu, Weipeng and '
        'Theobalt, Christian',
        title='Monocular 3D Human Pose Estimation In The Wild Using Improved '
        'CNN Supervision',
        container='2017 International Conference on 3D Vision (3DV)',
        year='2017',
        homepage='http://gvv.mpi-inf.mpg.de/3dhp-dataset',
    ),
    keypoint_info={
        0: dict(name='head_top', id=0, color=_c, type='upper', swap=''),
        1: dict(name='neck', id=1, color=_c, type='upper', swap=''),
        2: dict(name='right_shoulder', id=2, color=_r, type='upper',
                swap='left_shoulder'),
        3: dict(name='right_elbow', id=3, color=_r, type='upper',
                swap='left_elbow'),
        4: dict(name='right_wrist', id=4, color=_r, type='upper',
                swap='left_wrist'),
        5: dict(name='left_shoulder', id=5, color=_l, type='upper',
                swap='right_shoulder'),
        6: dict(name='left_elbow', id=6, color=_l, type='upper',
                swap='right_elbow'),
        7: dict(name='left_wrist', id=7, color=_l, type='upper',
                swap='right_wrist'),
        8: dict(name='right_hip', id=8, color=_r, type='lower',
                swap='left_hip'),
        9: dict(name='right_knee', id=9, color=_r, type='lower',
                swap='left_knee'),
        10: dict(name='right_ankle', id=10, color=_r, type='lower',
                 swap='left_ankle'),
        11: dict(name='left_hip', id=11, color=_l, type='lower',
                 swap='right_hip'),
        12: dict(name='left_knee', id=12, color=_l, type='lower',
                 swap='right_knee'),
        13: dict(name='left_ankle', id=13, color=_l, type='lower',
                 swap='right_ankle'),
        14: dict(name='root', id=14, color=_c, type='lower', swap=''),
        15: dict(name='spine', id=15, color=_c, type='upper', swap=''),
        16: dict(name='head', id=16, color=_c, type='upper', swap=''),
    },
    skeleton_info={
        0: dict(link=('neck', 'right_shoulder'), id=0, color=_r),
        1: dict(link=('right_shoulder', 'right_elbow'), id=1, color=_r),
        2: dict(link=('right_elbow', 'right_wrist'), id=2, color=_r),
        3: dict(link=('neck', 'left_shoulder'), id=3, color=_l),
        4: dict(link=('left_shoulder', 'left_elbow'), id=4, color=_l),
        5: dict(link=('left_elbow', 'left_wrist'), id=5, color=_l),
        6: dict(link=('root', 'right_hip'), id=6, color=_r),
        7: dict(link=('right_hip', 'right_knee'), id=7, color=_r),
        8: dict(link=('right_knee', 'right_ankle'), id=8, color=_r),
        9: dict(link=('root', 'left_hip'), id=9, color=_l),
        10: dict(link=('left_hip', 'left_knee'), id=10, color=_l),
        11: dict(link=('left_knee', 'left_ankle'), id=11, color=_l),
        12: dict(link=('head_top', 'head'), id=12, color=_c),
        13: dict(link=('head', 'neck'), id=13, color=_c),
        14: dict(link=('neck', 'spine'), id=14, color=_c),
        15: dict(link=('spine', 'root'), id=15, color=_c),
    },
    joint_weights=[1.] * 17,
    sigmas=[])
