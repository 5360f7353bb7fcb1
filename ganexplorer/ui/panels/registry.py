"""The view panels, in tab order: one per registered view (ganexplorer.views.REGISTRY).

The window adds each as a tab (its `title`, `shortcut`), and showing a tab shows its `view`.
A new view adds its panel class here (an explicit list: no registration by import).
"""
from __future__ import annotations

from .arithmetic import ArithmeticPanel
from .directions import DirectionsPanel
from .drag import DragPanel
from .interpolate import InterpolatePanel
from .labels import LabelsPanel
from .layers import LayersPanel
from .mixing import MixingPanel
from .sample import SamplePanel

VIEW_PANELS = (SamplePanel, InterpolatePanel, ArithmeticPanel, MixingPanel, DirectionsPanel, LabelsPanel, DragPanel,
               LayersPanel)
