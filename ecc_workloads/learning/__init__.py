"""The learning side: the modular encoder and its bundles, distillation, few-label training,
local adaptation, the delta wire format, merge-back and drift."""
