# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Print evaluation results as the paper's Tables 1-2 do."""
from typing import Dict


def format_metrics(metrics: Dict[str, float]) -> str:
    """A markdown table: one row per action and the average, one column per
    metric (``MPJPE``, ``P-MPJPE``, ... and their ``<metric>_<action>``
    entries, as MMPose's MPJPE metrics name them)."""
    names = [k for k in metrics if '_' not in k]
    actions = sorted({
        k.split('_', 1)[1]
        for k in metrics if '_' in k and k.split('_', 1)[0] in names
    })
    lines = ['| action | ' + ' | '.join(names) + ' |',
             '|---' * (len(names) + 1) + '|']
    for action in actions:
        lines.append(f'| {action} | ' + ' | '.join(
            f'{metrics.get(f"{n}_{action}", float("nan")):.1f}'
            for n in names) + ' |')
    lines.append('| **Average** | ' +
                 ' | '.join(f'**{metrics[n]:.1f}**' for n in names) + ' |')
    return '\n'.join(lines)
