"""Learned femoral-head finder: synthetic training data by domain randomisation (``synth``),
a small MONAI U-Net (``net``), training with checkpoints and resume (``train``), inference
(``infer``) and the model card (``model_card``).

torch and MONAI are imported only inside the functions that need them.
"""
