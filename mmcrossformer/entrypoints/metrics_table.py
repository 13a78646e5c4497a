# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Print evaluation results as the paper's Tables 1-2 do."""
from typing import Dict

from ..evaluation.mpjpe_mm import ACTION_MEAN


def format_metrics(metrics: Dict[str, float]) -> str:
    """A markdown table: one row per action, the mean over the actions (the
    paper's protocol) and the mean over the frames; one column per metric
    (``MPJPE``, ``P-MPJPE``, ... and their ``<metric>_<action>`` and
    ``<metric>_action_mean`` entries, as :class:`MPJPEmm` names them).
    Without ``_action_mean`` entries (other metrics) that row is left out."""
    names = [k for k in metrics if '_' not in k]
    actions = sorted({
        k.split('_', 1)[1]
        for k in metrics if '_' in k and k.split('_', 1)[0] in names
    } - {ACTION_MEAN})
    lines = ['| action | ' + ' | '.join(names) + ' |',
             '|---' * (len(names) + 1) + '|']

    def row(label: str, keys) -> str:
        return f'| {label} | ' + ' | '.join(
            f'{metrics.get(k, float("nan")):.1f}' for k in keys) + ' |'

    for action in actions:
        lines.append(row(action, [f'{n}_{action}' for n in names]))
    if any(f'{n}_{ACTION_MEAN}' in metrics for n in names):
        lines.append(
            row('**Average over actions (paper protocol)**',
                [f'{n}_{ACTION_MEAN}' for n in names]))
    lines.append(row('Average over frames', names))
    return '\n'.join(lines)
