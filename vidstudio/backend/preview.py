"""Step previews: a small RGB image of the current latents, cheap enough to make at every denoising step.

Two ways:

- **linear latent-to-RGB factors** (default, no weights): ``rgb = latent @ F + bias`` per latent cell, then
  mapped from [-1, 1] to [0, 1]. The factors are the published ones:

  ============  =================  ======================================================================
  family        latent format      source
  ============  =================  ======================================================================
  animatediff   SD 1.5 (4 ch)      ComfyUI ``comfy/latent_formats.py``, class ``SD15``
  svd           SD 1.5 (4 ch)      the same (SVD's VAE shares SD 1.x's latent space)
  ltx           LTX-Video (128 ch) ComfyUI ``comfy/latent_formats.py``, class ``LTXV`` (with bias)
  wan           Wan 2.1 (16 ch)    ComfyUI ``comfy/latent_formats.py``, class ``Wan21`` (with bias)
  wan (TI2V)    Wan 2.2 (48 ch)    ComfyUI ``comfy/latent_formats.py``, class ``Wan22`` (with bias)
  cogvideox     CogVideoX (16 ch)  kijai/ComfyUI-CogVideoXWrapper ``latent_preview.py`` (commit 666f7832)
  ltx2          LTX-2 (128 ch)     ComfyUI ``comfy/latent_formats.py``, class ``LTXAV`` (video stream, with bias)
  hunyuan15     HunyuanVideo 1.5   ComfyUI ``comfy/latent_formats.py``, class ``HunyuanVideo15`` (32 ch, with bias)
  ============  =================  ======================================================================

  ComfyUI is Comfy-Org/ComfyUI (formerly comfyanonymous/ComfyUI) at commit 75399d78 (:data:`COMFYUI`): every
  factor and bias above was diffed against that file, number by number, and all are equal. A family's latents
  take the format whose channel count they have (:func:`latent_format`).

  They apply to the latents as the pipelines hold them (scaled / normalised model space). A latent with
  another channel count (a custom or tiny model) falls back to its first three channels, standardised.
- **a tiny autoencoder** when one is configured (Load Model's ``preview_decoder``): a local TAESD folder
  (diffusers ``AutoencoderTiny``, SD latents: AnimateDiff, SVD) or a TAEHV weights file (madebyollin/taehv:
  ``taew2_1`` for Wan, ``taecvx`` for CogVideoX; needs its ``taehv`` module importable). TAEHV decodes the
  latents the diffusion model uses, in NTCHW, to [0, 1].

A preview is one frame: the middle latent frame, shape ``(h, w, 3)`` float32 in [0, 1] (latent resolution
for the linear factors, pixel resolution for a tiny autoencoder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidstudio.backend.loader import dtype_kwargs
from vidstudio.errors import ModelError

_SD15 = [[0.3512, 0.2297, 0.3227], [0.3250, 0.4974, 0.2350], [-0.2829, 0.1762, 0.2721], [-0.2120, -0.2616, -0.7177]]

_WAN21 = [
    [-0.1299, -0.1692, 0.2932],
    [0.0671, 0.0406, 0.0442],
    [0.3568, 0.2548, 0.1747],
    [0.0372, 0.2344, 0.1420],
    [0.0313, 0.0189, -0.0328],
    [0.0296, -0.0956, -0.0665],
    [-0.3477, -0.4059, -0.2925],
    [0.0166, 0.1902, 0.1975],
    [-0.0412, 0.0267, -0.1364],
    [-0.1293, 0.0740, 0.1636],
    [0.0680, 0.3019, 0.1128],
    [0.0032, 0.0581, 0.0639],
    [-0.1251, 0.0927, 0.1699],
    [0.0060, -0.0633, 0.0005],
    [0.3477, 0.2275, 0.2950],
    [0.1984, 0.0913, 0.1861],
]
_WAN21_BIAS = [-0.1835, -0.0868, -0.3360]

_WAN22 = [
    [0.0119, 0.0103, 0.0046],
    [-0.1062, -0.0504, 0.0165],
    [0.014, 0.0409, 0.0491],
    [-0.0813, -0.0677, 0.0607],
    [0.0656, 0.0851, 0.0808],
    [0.0264, 0.0463, 0.0912],
    [0.0295, 0.0326, 0.059],
    [-0.0244, -0.027, 0.0025],
    [0.0443, -0.0102, 0.0288],
    [-0.0465, -0.009, -0.0205],
    [0.0359, 0.0236, 0.0082],
    [-0.0776, 0.0854, 0.1048],
    [0.0564, 0.0264, 0.0561],
    [0.0006, 0.0594, 0.0418],
    [-0.0319, -0.0542, -0.0637],
    [-0.0268, 0.0024, 0.026],
    [0.0539, 0.0265, 0.0358],
    [-0.0359, -0.0312, -0.0287],
    [-0.0285, -0.1032, -0.1237],
    [0.1041, 0.0537, 0.0622],
    [-0.0086, -0.0374, -0.0051],
    [0.039, 0.067, 0.2863],
    [0.0069, 0.0144, 0.0082],
    [0.0006, -0.0167, 0.0079],
    [0.0313, -0.0574, -0.0232],
    [-0.1454, -0.0902, -0.0481],
    [0.0714, 0.0827, 0.0447],
    [-0.0304, -0.0574, -0.0196],
    [0.0401, 0.0384, 0.0204],
    [-0.0758, -0.0297, -0.0014],
    [0.0568, 0.1307, 0.1372],
    [-0.0055, -0.031, -0.038],
    [0.0239, -0.0305, 0.0325],
    [-0.0663, -0.0673, -0.014],
    [-0.0416, -0.0047, -0.0023],
    [0.0166, 0.0112, -0.0093],
    [-0.0211, 0.0011, 0.0331],
    [0.1833, 0.1466, 0.225],
    [-0.0368, 0.037, 0.0295],
    [-0.3441, -0.3543, -0.2008],
    [-0.0479, -0.0489, -0.042],
    [-0.066, -0.0153, 0.08],
    [-0.0101, 0.0068, 0.0156],
    [-0.069, -0.0452, -0.0927],
    [-0.0145, 0.0041, 0.0015],
    [0.0421, 0.0451, 0.0373],
    [0.0504, -0.0483, -0.0356],
    [-0.0837, 0.0168, 0.0055],
]
_WAN22_BIAS = [0.0317, -0.0878, -0.1388]

_COGVIDEOX = [
    [0.11945946736445662, 0.09919175788574555, -0.004832707433877734],
    [-0.0011977028264356232, 0.05496505130267682, 0.021321622433638193],
    [-0.014088548986590666, -0.008701477861945644, -0.020991313281459367],
    [0.03063921972519621, 0.12186477097625073, 0.0139593690235148],
    [0.0927403067854673, 0.030293187650929136, 0.05083134241694003],
    [0.0379112441305742, 0.04935199882777209, 0.058562766246777774],
    [0.017749911959153715, 0.008839453404921545, 0.036005638019226294],
    [0.10610119248526109, 0.02339855688237826, 0.057154257614084596],
    [0.1273639464837117, -0.010959856130713416, 0.043268631260428896],
    [-0.01873510946881321, 0.08220930648486932, 0.10613256772247093],
    [0.008429116376722327, 0.07623856561000408, 0.09295712117576727],
    [0.12938137079617007, 0.12360403483892413, 0.04478930933220116],
    [0.04565908794779364, 0.041064156741596365, -0.017695041535528512],
    [0.00019003240570281826, -0.013965147883381978, 0.05329669529635849],
    [0.08082391586738358, 0.11548306825496074, -0.021464170006615893],
    [-0.01517932393230994, -0.0057985555313003236, 0.07216646476618871],
]

_LTXV = [
    [1.1202e-02, -6.3815e-04, -1.0021e-02],
    [8.6031e-02, 6.5813e-02, 9.5409e-04],
    [-1.2576e-02, -7.5734e-03, -4.0528e-03],
    [9.4063e-03, -2.1688e-03, 2.6093e-03],
    [3.7636e-03, 1.2765e-02, 9.1548e-03],
    [2.1024e-02, -5.2973e-03, 3.4373e-03],
    [-8.8896e-03, -1.9703e-02, -1.8761e-02],
    [-1.3160e-02, -1.0523e-02, 1.9709e-03],
    [-1.5152e-03, -6.9891e-03, -7.5810e-03],
    [-1.7247e-03, 4.6560e-04, -3.3839e-03],
    [1.3617e-02, 4.7077e-03, -2.0045e-03],
    [1.0256e-02, 7.7318e-03, 1.3948e-02],
    [-1.6108e-02, -6.2151e-03, 1.1561e-03],
    [7.3407e-03, 1.5628e-02, 4.4865e-04],
    [9.5357e-04, -2.9518e-03, -1.4760e-02],
    [1.9143e-02, 1.0868e-02, 1.2264e-02],
    [4.4575e-03, 3.6682e-05, -6.8508e-03],
    [-4.5681e-04, 3.2570e-03, 7.7929e-03],
    [3.3902e-02, 3.3405e-02, 3.7454e-02],
    [-2.3001e-02, -2.4877e-03, -3.1033e-03],
    [5.0265e-02, 3.8841e-02, 3.3539e-02],
    [-4.1018e-03, -1.1095e-03, 1.5859e-03],
    [-1.2689e-01, -1.3107e-01, -2.1005e-01],
    [2.6276e-02, 1.4189e-02, -3.5963e-03],
    [-4.8679e-03, 8.8486e-03, 7.8029e-03],
    [-1.6610e-03, -4.8597e-03, -5.2060e-03],
    [-2.1010e-03, 2.3610e-03, 9.3796e-03],
    [-2.2482e-02, -2.1305e-02, -1.5087e-02],
    [-1.5753e-02, -1.0646e-02, -6.5083e-03],
    [-4.6975e-03, 5.0288e-03, -6.7390e-03],
    [1.1951e-02, 2.0712e-02, 1.6191e-02],
    [-6.3704e-03, -8.4827e-03, -9.5483e-03],
    [7.2610e-03, -9.9326e-03, -2.2978e-02],
    [-9.1904e-04, 6.2882e-03, 9.5720e-03],
    [-3.7178e-02, -3.7123e-02, -5.6713e-02],
    [-1.3373e-01, -1.0720e-01, -5.3801e-02],
    [-5.3702e-03, 8.1256e-03, 8.8397e-03],
    [-1.5247e-01, -2.1437e-01, -2.1843e-01],
    [3.1441e-02, 7.0335e-03, -9.7541e-03],
    [2.1528e-03, -8.9817e-03, -2.1023e-02],
    [3.8461e-03, -5.8957e-03, -1.5014e-02],
    [-4.3470e-03, -1.2940e-02, -1.5972e-02],
    [-5.4781e-03, -1.0842e-02, -3.0204e-03],
    [-6.5347e-03, 3.0806e-03, -1.0163e-02],
    [-5.0414e-03, -7.1503e-03, -8.9686e-04],
    [-8.5851e-03, -2.4351e-03, 1.0674e-03],
    [-9.0016e-03, -9.6493e-03, 1.5692e-03],
    [5.0914e-03, 1.2099e-02, 1.9968e-02],
    [1.3758e-02, 1.1669e-02, 8.1958e-03],
    [-1.0518e-02, -1.1575e-02, -4.1307e-03],
    [-2.8410e-02, -3.1266e-02, -2.2149e-02],
    [2.9336e-03, 3.6511e-02, 1.8717e-02],
    [-1.6703e-02, -1.6696e-02, -4.4529e-03],
    [4.8818e-02, 4.0063e-02, 8.7410e-03],
    [-1.5066e-02, -5.7328e-04, 2.9785e-03],
    [-1.7613e-02, -8.1034e-03, 1.3086e-02],
    [-9.2633e-03, 1.0803e-02, -6.3489e-03],
    [3.0851e-03, 4.7750e-04, 1.2347e-02],
    [-2.2785e-02, -2.3043e-02, -2.6005e-02],
    [-2.4787e-02, -1.5389e-02, -2.2104e-02],
    [-2.3572e-02, 1.0544e-03, 1.2361e-02],
    [-7.8915e-03, -1.2271e-03, -6.0968e-03],
    [-1.1478e-02, -1.2543e-03, 6.2679e-03],
    [-5.4229e-02, 2.6644e-02, 6.3394e-03],
    [4.4216e-03, -7.3338e-03, -1.0464e-02],
    [-4.5013e-03, 1.6082e-03, 1.4420e-02],
    [1.3673e-02, 8.8877e-03, 4.1253e-03],
    [-1.0145e-02, 9.0072e-03, 1.5695e-02],
    [-5.6234e-03, 1.1847e-03, 8.1261e-03],
    [-3.7171e-03, -5.3538e-03, 1.2590e-03],
    [2.9476e-02, 2.1424e-02, 3.0424e-02],
    [-3.4925e-02, -2.4340e-02, -2.5316e-02],
    [-3.4127e-02, -2.2406e-02, -1.0589e-02],
    [-1.7342e-02, -1.3249e-02, -1.0719e-02],
    [-2.1478e-03, -8.6051e-03, -2.9878e-03],
    [1.2089e-03, -4.2391e-03, -6.8569e-03],
    [9.0411e-04, -6.6886e-03, -6.7547e-05],
    [1.6048e-02, -1.0057e-02, -2.8929e-02],
    [1.2290e-03, 1.0163e-02, 1.8861e-02],
    [1.7264e-02, 2.7257e-04, 1.3785e-02],
    [-1.3482e-02, -3.6427e-03, 6.7481e-04],
    [4.6782e-03, -5.2423e-03, 2.4467e-03],
    [-5.9113e-03, -6.2244e-03, -1.8162e-03],
    [1.5496e-02, 1.4582e-02, 1.9514e-03],
    [7.4958e-03, 1.5886e-03, -8.2305e-03],
    [1.9086e-02, 1.6360e-03, -3.9674e-03],
    [-5.7021e-03, -2.7307e-03, -4.1066e-03],
    [1.7450e-03, 1.4602e-02, 2.5794e-02],
    [-8.2788e-04, 2.2902e-03, 4.5161e-03],
    [1.1632e-02, 8.9193e-03, -7.2813e-03],
    [7.5721e-03, 2.6784e-03, 1.1393e-02],
    [5.1939e-03, 3.6903e-03, 1.4049e-02],
    [-1.8383e-02, -2.2529e-02, -2.4477e-02],
    [5.8842e-04, -5.7874e-03, -1.4770e-02],
    [-1.6125e-02, -8.6101e-03, -1.4533e-02],
    [2.0540e-02, 2.0729e-02, 6.4338e-03],
    [3.3587e-03, -1.1226e-02, -1.6444e-02],
    [-1.4742e-03, -1.0489e-02, 1.7097e-03],
    [2.8130e-02, 2.3546e-02, 3.2791e-02],
    [-1.8532e-02, -1.2842e-02, -8.7756e-03],
    [-8.0533e-03, -1.0771e-02, -1.7536e-02],
    [-3.9009e-03, 1.6150e-02, 3.3359e-02],
    [-7.4554e-03, -1.4154e-02, -6.1910e-03],
    [3.4734e-03, -1.1370e-02, -1.0581e-02],
    [1.1476e-02, 3.9281e-03, 2.8231e-03],
    [7.1639e-03, -1.4741e-03, -3.8066e-03],
    [2.2250e-03, -8.7552e-03, -9.5719e-03],
    [2.4146e-02, 2.1696e-02, 2.8056e-02],
    [-5.4365e-03, -2.4291e-02, -1.7802e-02],
    [7.4263e-03, 1.0510e-02, 1.2705e-02],
    [6.2669e-03, 6.2658e-03, 1.9211e-02],
    [1.6378e-02, 9.4933e-03, 6.6971e-03],
    [1.7173e-02, 2.3601e-02, 2.3296e-02],
    [-1.4568e-02, -9.8279e-03, -1.1556e-02],
    [1.4431e-02, 1.4430e-02, 6.6362e-03],
    [-6.8230e-03, 1.8863e-02, 1.4555e-02],
    [6.1156e-03, 3.4700e-03, -2.6662e-03],
    [-2.6983e-03, -5.9402e-03, -9.2276e-03],
    [1.0235e-02, 7.4173e-03, -7.6243e-03],
    [-1.3255e-02, 1.9322e-02, -9.2153e-04],
    [2.4222e-03, -4.8039e-03, -1.5759e-02],
    [2.6244e-02, 2.5951e-02, 2.0249e-02],
    [1.5711e-02, 1.8498e-02, 2.7407e-03],
    [-2.1714e-03, 4.7214e-03, -2.2443e-02],
    [-7.4747e-03, 7.4166e-03, 1.4430e-02],
    [-8.3906e-03, -7.9776e-03, 9.7927e-03],
    [3.8321e-02, 9.6622e-03, -1.9268e-02],
    [-1.4605e-02, -6.7032e-03, 3.9675e-03],
]
_LTXV_BIAS = [-0.0571, -0.1657, -0.2512]

_HUNYUAN15 = [
    [0.0568, -0.0521, -0.0131],
    [0.0014, 0.0735, 0.0326],
    [0.0186, 0.0531, -0.0138],
    [-0.0031, 0.0051, 0.0288],
    [0.0110, 0.0556, 0.0432],
    [-0.0041, -0.0023, -0.0485],
    [0.0530, 0.0413, 0.0253],
    [0.0283, 0.0251, 0.0339],
    [0.0277, -0.0372, -0.0093],
    [0.0393, 0.0944, 0.1131],
    [0.0020, 0.0251, 0.0037],
    [-0.0017, 0.0012, 0.0234],
    [0.0468, 0.0436, 0.0203],
    [0.0354, 0.0439, -0.0233],
    [0.0090, 0.0123, 0.0346],
    [0.0382, 0.0029, 0.0217],
    [0.0261, -0.0300, 0.0030],
    [-0.0088, -0.0220, -0.0283],
    [-0.0272, -0.0121, -0.0363],
    [-0.0664, -0.0622, 0.0144],
    [0.0414, 0.0479, 0.0529],
    [0.0355, 0.0612, -0.0247],
    [0.0147, 0.0264, 0.0174],
    [0.0438, 0.0038, 0.0542],
    [0.0431, -0.0573, -0.0033],
    [-0.0162, -0.0211, -0.0406],
    [-0.0487, -0.0295, -0.0393],
    [0.0005, -0.0109, 0.0253],
    [0.0296, 0.0591, 0.0353],
    [0.0119, 0.0181, -0.0306],
    [-0.0085, -0.0362, 0.0229],
    [0.0005, -0.0106, 0.0242],
]
_HUNYUAN15_BIAS = [0.0456, -0.0202, -0.0644]

_LTXAV = [
    [0.001135, -0.010555, -0.004925],
    [-0.008019, -0.006231, -0.005564],
    [0.012637, 0.005605, 0.012713],
    [0.023454, 0.020771, 0.017844],
    [-0.01194, -0.000932, 0.009292],
    [0.018602, 0.011018, 0.013969],
    [-0.036369, -0.046631, -0.057898],
    [-0.031919, 0.000131, 0.015214],
    [0.014519, 0.021041, 0.015325],
    [0.018889, 0.016149, -0.002836],
    [-0.003784, -0.006057, -0.008195],
    [0.013262, 0.030259, 0.029775],
    [0.050465, 0.050366, 0.025255],
    [0.018628, 0.007691, 0.002893],
    [-0.015698, -0.008451, -0.000676],
    [-0.0136, -0.012587, -0.004437],
    [0.012482, 0.021469, 0.027913],
    [-0.018241, -0.013488, -0.010975],
    [0.013828, 0.012568, 0.021984],
    [0.017911, 0.006552, 0.005567],
    [0.026769, 0.006803, -0.00936],
    [-0.006794, -0.008447, -0.013921],
    [0.029708, 0.018671, 0.022811],
    [-0.014732, -0.019169, 0.000903],
    [0.019607, 0.032595, 0.053409],
    [-0.003721, 0.003976, 0.010364],
    [-0.020193, -0.026076, -0.036068],
    [-0.002328, 0.006527, 0.013052],
    [0.017171, 0.009224, 0.006548],
    [0.001104, -0.000591, 0.000147],
    [-0.000217, 0.011834, 0.017945],
    [-0.015329, -0.012463, -0.006178],
    [-0.009478, -0.00868, -0.004107],
    [-0.005565, -0.006006, -0.001493],
    [0.009451, 0.008794, 0.013207],
    [-0.009989, -0.008027, -0.009568],
    [-0.001505, -0.008805, -0.006828],
    [0.001105, 0.008999, 0.009079],
    [0.025935, 0.016426, 0.008036],
    [0.006313, 0.000694, -0.006039],
    [-0.001893, -0.006951, -0.00956],
    [-0.007082, -0.002566, -0.007152],
    [-0.005231, 0.004829, 0.00822],
    [-0.004333, 0.001251, -0.004852],
    [-0.017024, -0.01273, -0.007457],
    [0.024988, 0.032963, 0.036556],
    [0.013697, 0.012278, 0.009979],
    [-0.013751, -0.008369, -0.015446],
    [-0.009348, -0.001047, 0.007622],
    [-0.003135, -0.00335, -0.003766],
    [0.007436, 0.004957, 0.01048],
    [0.018315, 0.022066, 0.021104],
    [-0.005621, -0.00677, -0.008219],
    [-0.007427, 0.001911, -0.001231],
    [-0.007413, 0.000486, -0.006039],
    [-0.014698, -0.00716, 0.006509],
    [0.013775, 0.014185, 0.008203],
    [0.060246, 0.069787, 0.072833],
    [0.009861, 0.00487, 0.001194],
    [-0.00366, 0.003251, 0.008015],
    [0.003696, -0.00368, -0.008851],
    [0.014924, 0.006196, 0.005282],
    [-0.00674, -0.004319, -0.006729],
    [0.020635, 0.015163, 0.012385],
    [-0.032623, -0.006105, 0.010436],
    [-0.058988, -0.030162, -0.037961],
    [-0.035614, -0.021929, -0.011062],
    [-0.023412, -0.011305, -0.005054],
    [-0.002716, -0.005184, -0.004084],
    [0.014591, 0.015294, 0.014045],
    [0.00831, 0.002466, -0.003225],
    [0.005176, 0.001119, 0.000695],
    [-0.021569, -0.030886, -0.044732],
    [0.007517, 0.003891, 0.000551],
    [-0.006793, 0.004059, 0.010184],
    [-0.086481, -0.082033, -0.083414],
    [0.004192, 0.000762, -0.008658],
    [0.01097, 0.009002, 0.007384],
    [0.004042, -0.006732, -0.011031],
    [0.012164, 0.006401, 0.007483],
    [0.029252, 0.01399, 0.011128],
    [0.048452, 0.034648, 0.016269],
    [0.024104, 0.012647, 0.011754],
    [-0.013216, -0.020192, -0.019752],
    [-0.010799, -0.008535, -0.005467],
    [0.005823, 0.001403, 0.00189],
    [0.052393, 0.044771, 0.032777],
    [0.007576, -0.00808, -0.012453],
    [0.00983, 0.004244, 0.001213],
    [-0.025867, -0.013169, -0.010636],
    [0.008494, 0.003135, 0.00079],
    [0.003969, -0.002625, -0.010204],
    [0.006509, 0.008272, 0.020819],
    [-0.004943, -0.013424, -0.015351],
    [0.005541, 0.009136, -0.003666],
    [-0.0143, -0.015864, -0.016853],
    [0.00265, 0.028393, 0.014125],
    [-0.027661, -0.045422, -0.064995],
    [0.00922, 0.015522, 0.010574],
    [-0.002236, 0.002915, 0.004557],
    [-0.020269, -0.008212, -0.000532],
    [0.019294, 0.003655, -0.002809],
    [0.007116, -0.002784, 1.7e-05],
    [0.057277, 0.07327, 0.074401],
    [-0.002616, -0.001696, -0.000498],
    [0.007248, 0.009793, 0.022829],
    [-0.00259, -0.005601, -0.000436],
    [-0.007681, 0.003893, -0.004119],
    [-0.057392, -0.045545, -0.02529],
    [0.045188, 0.047985, 0.054059],
    [0.000937, -0.008861, -0.038406],
    [-0.010192, -0.008036, -0.005385],
    [-0.030222, -0.027498, -0.030765],
    [-0.008359, 0.013247, 0.010918],
    [0.004102, 0.002093, 0.006934],
    [0.039461, 0.027339, 0.008284],
    [-0.075747, -0.07634, -0.071625],
    [0.002692, 0.005096, -0.002247],
    [-0.002453, -0.002785, -0.010483],
    [0.012265, 0.005481, 0.001729],
    [0.017755, 0.008655, 0.003532],
    [0.05556, 0.049128, 0.044137],
    [-0.025861, -0.023798, -0.018815],
    [-0.014876, -0.01077, -0.010713],
    [-0.017315, -0.012599, -0.008661],
    [-0.008461, -0.00621, -0.007744],
    [-0.040175, -0.042255, -0.048119],
    [-0.019355, -0.021055, -0.021919],
]
_LTXAV_BIAS = [-0.347892, -0.363814, -0.370287]

#: Where the ComfyUI factors were read and diffed, number by number (all equal): the newest stored commit.
COMFYUI = "Comfy-Org/ComfyUI comfy/latent_formats.py @ 75399d78"

#: latent format -> (factors (C, 3), bias (3,) or None, source).
LATENT_RGB: dict[str, tuple[list[list[float]], list[float] | None, str]] = {
    "sd15": (_SD15, None, f"{COMFYUI}, SD15.latent_rgb_factors"),
    "ltxv": (_LTXV, _LTXV_BIAS, f"{COMFYUI}, LTXV.latent_rgb_factors(_bias)"),
    "wan21": (_WAN21, _WAN21_BIAS, f"{COMFYUI}, Wan21.latent_rgb_factors(_bias)"),
    "wan22": (_WAN22, _WAN22_BIAS, f"{COMFYUI}, Wan22.latent_rgb_factors(_bias)"),
    "cogvideox": (
        _COGVIDEOX,
        None,
        "kijai/ComfyUI-CogVideoXWrapper latent_preview.py @ 666f7832, Latent2RGBPreviewer",
    ),
    "ltxav": (_LTXAV, _LTXAV_BIAS, f"{COMFYUI}, LTXAV.latent_rgb_factors(_bias) (video stream)"),
    "hunyuan15": (_HUNYUAN15, _HUNYUAN15_BIAS, f"{COMFYUI}, HunyuanVideo15.latent_rgb_factors(_bias)"),
}

#: family -> its latent formats; a latent takes the first whose channel count it has (Wan: 16 for Wan 2.1 and
#: 2.2 A14B, 48 for the Wan 2.2 TI2V-5B VAE).
FAMILY_FORMAT: dict[str, tuple[str, ...]] = {
    "animatediff": ("sd15",),
    "svd": ("sd15",),
    "ltx": ("ltxv",),
    "wan": ("wan21", "wan22"),
    "cogvideox": ("cogvideox",),
    "hunyuan15": ("hunyuan15",),
    "ltx2": ("ltxav",),
}


def latent_format(family: str, channels: int) -> str | None:
    """The latent format of ``family`` whose factors have ``channels`` rows, or None (a custom or tiny model:
    :func:`linear_preview` falls back to the first three channels, standardised).

    Raises:
        KeyError: for an unknown family.
    """
    return next((f for f in FAMILY_FORMAT[family] if len(LATENT_RGB[f][0]) == channels), None)


def linear_preview(latents: torch.Tensor, family: str, frame: int | None = None) -> np.ndarray:
    """One frame of latents to RGB with the family's published linear factors.

    Args:
        latents: ``(C, T, h, w)`` latents as the pipeline holds them.
        family: the model family (chooses the factors); frame: the latent frame (default the middle one).

    Returns:
        ``(h, w, 3)`` float32 in [0, 1].
    """
    C, T = latents.shape[0], latents.shape[1]
    f = T // 2 if frame is None else int(frame)
    x = latents[:, f].float()  # (C, h, w)
    fmt = latent_format(family, C)
    if fmt is not None:
        factors, bias, _ = LATENT_RGB[fmt]
        m = torch.tensor(factors, dtype=torch.float32, device=x.device)
        rgb = torch.einsum("chw,cd->hwd", x, m)
        if bias is not None:
            rgb = rgb + torch.tensor(bias, dtype=torch.float32, device=x.device)
    else:  # another channel count: the first three channels, standardised
        y = x[:3] if C >= 3 else x[:1].expand(3, -1, -1)
        y = (y - y.mean(dim=(1, 2), keepdim=True)) / (y.std(dim=(1, 2), keepdim=True) + 1e-6)
        rgb = (0.5 * y).permute(1, 2, 0)
    return ((rgb + 1.0) * 0.5).clamp(0, 1).cpu().numpy().astype(np.float32)


class Previewer:
    """Makes step previews for one family, with a tiny autoencoder when configured.

    Args:
        family: the model family.
        decoder: "" for linear factors, or a local TAESD folder / TAEHV weights file (see the module docstring).
        device, dtype: where a tiny autoencoder runs.

    Raises:
        ModelError: for a decoder path that does not exist or cannot be loaded (a TAEHV file without the
            ``taehv`` module names the module to install).
    """

    def __init__(self, family: str, decoder: str = "", device: str = "cpu", dtype: torch.dtype = torch.float32):
        self.family = family
        self.kind = "linear"
        self.source = "; ".join(LATENT_RGB[f][2] for f in FAMILY_FORMAT[family])
        self._model: Any = None
        if decoder:
            path = Path(decoder).expanduser()
            if not path.exists():
                raise ModelError(f"preview decoder {path} does not exist (a TAESD folder or a TAEHV weights file)")
            if path.is_dir():
                from diffusers import AutoencoderTiny

                if FAMILY_FORMAT[family] != ("sd15",):
                    raise ModelError(
                        f"preview decoder {path} is a TAESD folder, which decodes Stable Diffusion "
                        f"latents (AnimateDiff, SVD); {family} needs a TAEHV weights file (taew2_1 for "
                        "Wan, taecvx for CogVideoX) or none"
                    )

                try:
                    self._model = AutoencoderTiny.from_pretrained(str(path), **dtype_kwargs(dtype)).to(device).eval()
                except (OSError, ValueError) as e:
                    raise ModelError(f"preview decoder {path} is not a TAESD (AutoencoderTiny) folder: {e}") from None
                self.kind, self.source = "taesd", str(path)
            else:
                if family not in ("wan", "cogvideox"):
                    raise ModelError(
                        f"preview decoder {path} is a TAEHV weights file, for Wan and CogVideoX latents; "
                        f"{family} needs a TAESD folder (AnimateDiff, SVD) or none"
                    )
                try:
                    import taehv  # madebyollin/taehv, not on PyPI: the user puts taehv.py on the path
                except ImportError:
                    raise ModelError(
                        f"preview decoder {path} is a TAEHV weights file, but the 'taehv' module is not "
                        "importable: put taehv.py from https://github.com/madebyollin/taehv on the "
                        "Python path (or leave the preview decoder empty for linear previews)"
                    ) from None
                self._model = taehv.TAEHV(checkpoint_path=str(path)).to(device, dtype).eval()
                self.kind, self.source = "taehv", str(path)
        self.device, self.dtype = device, dtype

    @torch.no_grad()
    def __call__(self, latents: torch.Tensor, frame: int | None = None) -> np.ndarray:
        """One preview frame of ``(C, T, h, w)`` latents: ``(H, W, 3)`` float32 in [0, 1]."""
        T = latents.shape[1]
        f = T // 2 if frame is None else int(frame)
        if self.kind == "taesd":
            x = latents[:, f][None].to(self.device, self.dtype)
            img = self._model.decode(x).sample[0]  # (3, H, W) in [-1, 1]
            return ((img.float() + 1) * 0.5).clamp(0, 1).permute(1, 2, 0).cpu().numpy()
        if self.kind == "taehv":
            x = latents[:, f : f + 1].permute(1, 0, 2, 3)[None].to(self.device, self.dtype)  # N T C H W
            out = self._model.decode_video(x, parallel=False, show_progress_bar=False)  # N T C H W in [0, 1]
            return out[0, -1].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
        return linear_preview(latents, self.family, f)
