# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Side-by-side rendering: the frame with the 2D skeletons (Human3.6M-17,
as the lifter sees them) and track ids, next to a matplotlib (Agg) 3D view
of the lifted poses."""
from typing import Optional, Sequence, Tuple

import numpy as np

from ..datasets.h36m_skeleton import H36M_LEFT, H36M_RIGHT, H36M_SKELETON

_PALETTE = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48),
            (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60),
            (0, 128, 128), (170, 110, 40))  # RGB


def track_color(track_id: int) -> Tuple[int, int, int]:
    """A distinct RGB colour per track id."""
    return _PALETTE[int(track_id) % len(_PALETTE)]


def _limb_rgb(link: Tuple[int, int]) -> Tuple[float, float, float]:
    if link[0] in H36M_LEFT or link[1] in H36M_LEFT:
        return (0.1, 0.5, 1.)
    if link[0] in H36M_RIGHT or link[1] in H36M_RIGHT:
        return (1., 0.4, 0.1)
    return (0.3, 0.3, 0.3)


class SideBySideRenderer:
    """Renders frames of ``img_size`` (w, h): the 2D panel (the frame scaled
    to ``height``) and a square 3D panel of the same height.

    Args:
        img_size (tuple): (w, h) of the frames.
        height (int): Output height in pixels.
        axis_limit (float): Extent of the 3D view (model units, metres).
        elev, azim (float): 3D view angles.
        kpt_thr (float): 2D keypoints scored below are not drawn.
    """

    def __init__(self,
                 img_size: Tuple[int, int],
                 height: int = 480,
                 axis_limit: float = 2.,
                 elev: float = 15.,
                 azim: float = -70.,
                 kpt_thr: float = 0.3) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        self.img_size = (int(img_size[0]), int(img_size[1]))
        self.height = int(height)
        self.scale = self.height / self.img_size[1]
        self.width_2d = int(round(self.img_size[0] * self.scale))
        self.axis_limit, self.kpt_thr = axis_limit, kpt_thr
        dpi = 100
        self.fig = Figure(
            figsize=(self.height / dpi, self.height / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot(111, projection='3d')
        self.elev, self.azim = elev, azim

    @property
    def size(self) -> Tuple[int, int]:
        """(w, h) of the rendered frames."""
        return (self.width_2d + self.height, self.height)

    def draw_2d(self,
                img: Optional[np.ndarray],
                track_ids: Sequence[int],
                keypoints_2d: Sequence[np.ndarray],
                bboxes: Optional[Sequence[np.ndarray]] = None) -> np.ndarray:
        """BGR 2D panel; ``keypoints_2d`` (17, 3) of the Human3.6M layout in
        pixels of the original frame."""
        import cv2
        if img is None:
            panel = np.full((self.height, self.width_2d, 3), 255, np.uint8)
        else:
            panel = cv2.resize(img, (self.width_2d, self.height))
        s = self.scale
        for i, (tid, kpts) in enumerate(zip(track_ids, keypoints_2d)):
            color = track_color(tid)[::-1]
            ok = np.isfinite(kpts[:, :2]).all(-1) & (
                kpts[:, 2] >= self.kpt_thr)
            pts = np.nan_to_num(kpts[:, :2] * s).astype(np.int32)
            for a, b in H36M_SKELETON:
                if ok[a] and ok[b]:
                    rgb = _limb_rgb((a, b))
                    bgr = tuple(int(255 * c) for c in rgb[::-1])
                    cv2.line(panel, tuple(pts[a]), tuple(pts[b]), bgr, 2,
                             cv2.LINE_AA)
            for j in np.flatnonzero(ok):
                cv2.circle(panel, tuple(pts[j]), 3, color, -1, cv2.LINE_AA)
            if bboxes is not None and np.isfinite(bboxes[i]).all():
                x1, y1, x2, y2 = (np.asarray(bboxes[i]) * s).astype(int)
                cv2.rectangle(panel, (x1, y1), (x2, y2), color, 1)
                anchor = (x1, max(y1 - 4, 12))
            else:
                anchor = tuple(pts[ok].min(0)) if ok.any() else (4, 16)
            cv2.putText(panel, f'id {tid}', anchor, cv2.FONT_HERSHEY_SIMPLEX,
                        0.5, color, 1, cv2.LINE_AA)
        return panel

    def draw_3d(self,
                track_ids: Sequence[int],
                keypoints_3d: Sequence[np.ndarray],
                offsets: Optional[Sequence[float]] = None,
                title: str = '') -> np.ndarray:
        """BGR 3D panel; ``keypoints_3d`` (17, 3) root-relative camera frame
        (x right, y down, z forward), drawn upright, each track shifted by
        its ``offsets`` along x."""
        ax = self.ax
        ax.cla()
        lim = self.axis_limit / 2
        n = max(len(keypoints_3d), 1)
        span = lim * n
        ax.set_xlim3d(-span, span)
        ax.set_ylim3d(-lim, lim)
        ax.set_zlim3d(-lim, lim)
        ax.set_box_aspect((n, 1, 1))
        ax.view_init(elev=self.elev, azim=self.azim)
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_zticklabels([])
        if title:
            ax.set_title(title, fontsize=9)
        if offsets is None:
            offsets = (np.arange(len(keypoints_3d)) - (n - 1) / 2) * 2 * lim
        for tid, pose, off in zip(track_ids, keypoints_3d, offsets):
            # camera frame -> plot frame: x, depth z, up = -y
            p = np.stack([pose[:, 0] + off, pose[:, 2], -pose[:, 1]], -1)
            for a, b in H36M_SKELETON:
                ax.plot(
                    p[[a, b], 0],
                    p[[a, b], 1],
                    p[[a, b], 2],
                    color=_limb_rgb((a, b)),
                    linewidth=2)
            ax.scatter(
                p[:, 0],
                p[:, 1],
                p[:, 2],
                s=6,
                color=np.array(track_color(tid)) / 255.)
            ax.text(
                p[10, 0], p[10, 1], p[10, 2] + 0.15, f'id {tid}', fontsize=8)
        self.canvas.draw()
        rgba = np.asarray(self.canvas.buffer_rgba())
        import cv2
        panel = cv2.cvtColor(rgba[..., :3], cv2.COLOR_RGB2BGR)
        if panel.shape[:2] != (self.height, self.height):
            panel = cv2.resize(panel, (self.height, self.height))
        return panel

    def render(self,
               img: Optional[np.ndarray],
               track_ids: Sequence[int],
               keypoints_2d: Sequence[np.ndarray],
               keypoints_3d: Sequence[np.ndarray],
               bboxes: Optional[Sequence[np.ndarray]] = None,
               title: str = '') -> np.ndarray:
        """One output frame (BGR, ``size``)."""
        order = np.argsort([
            np.nanmean(k[:, 0]) if np.isfinite(k[:, 0]).any() else 0
            for k in keypoints_2d
        ]) if len(keypoints_2d) else []
        ids = [track_ids[i] for i in order]
        left = self.draw_2d(img, track_ids, keypoints_2d, bboxes)
        right = self.draw_3d(
            ids, [keypoints_3d[i] for i in order], title=title)
        return np.concatenate([left, right], axis=1)


class VideoSink:
    """``cv2.VideoWriter`` (mp4v) opened on the first frame."""

    def __init__(self, path: str, fps: float) -> None:
        self.path, self.fps, self.writer = path, fps, None

    def write(self, frame: np.ndarray) -> None:
        import cv2
        if self.writer is None:
            import os
            import os.path as osp
            os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
            h, w = frame.shape[:2]
            self.writer = cv2.VideoWriter(self.path,
                                          cv2.VideoWriter_fourcc(*'mp4v'),
                                          self.fps, (w, h))
        self.writer.write(frame)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.writer = None


__all__ = ['SideBySideRenderer', 'VideoSink', 'track_color']
