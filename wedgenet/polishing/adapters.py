"""Models in, models out: torch ``nn.Sequential`` and numpy weight lists as one internal network.

Internally a network is a list of *ops* (``("affine", k)``, ``("relu",)``, ``("flatten", s, e)``,
``("identity",)``, ``("module", torch_module)``) and a list of affine layers ``(W, b)`` in float64,
where a ``Conv2d`` layer's ``W`` is its filters flattened to ``(C_out, C_in * kh * kw)``.  The
samples of a ``Conv2d`` layer are its input patches, unfolded with ``torch.nn.functional.unfold``
(the same ordering as the flattened filters), so a convolution is the Linear layer
``patches @ W.T + b`` applied at every position.

Supported torch layers: ``Linear``, ``ReLU``, ``Flatten``, ``Identity``, ``Dropout`` (identity:
polishing uses the model in evaluation mode), and a ``Conv2d`` as the *first* affine layer
(``groups=1``, zero padding), optionally followed by ``MaxPool2d`` / ``AvgPool2d`` before the
first ``Linear``.  Every hidden affine layer is followed by exactly one ``ReLU``; the last
``Linear`` is the output layer (no activation after it: train with logits).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import as_float_array

__all__ = ["Affine", "Net", "parse_model", "prepare_input", "forward", "layer_samples", "export"]


@dataclass
class Affine:
    W: np.ndarray                 # (m, d)
    b: np.ndarray | None          # (m,)
    kind: str = "linear"          # "linear" | "conv2d"
    module_index: int | None = None
    conv: dict | None = None      # kernel_size, stride, padding, dilation, in_channels, out_channels


@dataclass
class Net:
    ops: list
    layers: list[Affine]
    source: str                   # "torch" | "numpy"
    layer_only: bool = False      # a single layer without an output layer (numpy input only)
    template: Any = None          # the torch model, or the numpy structure to rebuild
    meta: dict = field(default_factory=dict)

    @property
    def n_hidden(self) -> int:
        return len(self.layers) if self.layer_only else len(self.layers) - 1


# ---------------------------------------------------------------------------------- numpy input
def _is_layer_spec(obj: Any) -> bool:
    """``(W, b)`` with a 2-D ``W`` and a 1-D ``b`` (or ``None``)."""
    if not isinstance(obj, tuple) or len(obj) != 2:
        return False
    W, b = obj
    return np.ndim(W) == 2 and (b is None or np.ndim(b) == 1)


def _is_matrix(spec: Any) -> bool:
    """A length-2 list that is a 2-row weight matrix (two equal-length rows of numbers), not a
    ``(W, b)`` pair."""
    try:
        A = np.asarray(spec, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return A.ndim == 2


def _parse_numpy(model: Any) -> Net:
    if isinstance(model, np.ndarray) or _is_layer_spec(model):
        specs, layer_only, single = [model], True, True
    elif isinstance(model, (list, tuple)):
        specs, layer_only, single = list(model), len(model) == 1, False
    else:
        raise ValueError("model must be a torch nn.Sequential, a weight array (m, d), a (W, b) pair, or a list "
                         f"of layers (arrays or (W, b) pairs); got {type(model).__name__}")
    if not specs:
        raise ValueError("model is an empty list of layers")
    layers, fmt = [], []
    for k, spec in enumerate(specs):
        name = "model" if single else f"model[{k}]"
        if isinstance(spec, (tuple, list)) and len(spec) == 2 and not _is_matrix(spec):
            W = as_float_array(f"{name} weight", spec[0], ndim=2)
            b = None if spec[1] is None else as_float_array(f"{name} bias", spec[1], ndim=1)
            fmt.append("pair")
        else:
            W, b = as_float_array(name, spec, ndim=2), None
            fmt.append("array")
        if b is not None and b.shape[0] != W.shape[0]:
            raise ValueError(f"{name}: bias has {b.shape[0]} entries but the weight has {W.shape[0]} rows")
        if layers and W.shape[1] != layers[-1].W.shape[0]:
            raise ValueError(f"{name}: weight has {W.shape[1]} columns but the previous layer has "
                             f"{layers[-1].W.shape[0]} neurons")
        layers.append(Affine(W=W.copy(), b=None if b is None else b.copy()))
    ops: list = []
    for k in range(len(layers)):
        ops.append(("affine", k))
        if k < len(layers) - 1:
            ops.append(("relu",))
    return Net(ops=ops, layers=layers, source="numpy", layer_only=layer_only,
               template={"fmt": fmt, "single": single, "container": type(model)})


# ---------------------------------------------------------------------------------- torch input
def _parse_torch(model: Any, inplace: bool) -> Net:
    try:
        from torch import nn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("polishing a torch model needs PyTorch: pip install 'wedgenet[torch]'") from exc
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be a torch nn.Sequential (or numpy weight arrays); got {type(model).__name__}")
    target = model if inplace else copy.deepcopy(model)
    ops: list = []
    layers: list[Affine] = []
    mods = list(target)
    for i, mod in enumerate(mods):
        where = f"model[{i}] ({type(mod).__name__})"
        if isinstance(mod, nn.Linear):
            W = mod.weight.detach().cpu().double().numpy().copy()
            b = None if mod.bias is None else mod.bias.detach().cpu().double().numpy().copy()
            layers.append(Affine(W=W, b=b, kind="linear", module_index=i))
            ops.append(("affine", len(layers) - 1))
        elif isinstance(mod, nn.Conv2d):
            if layers:
                raise ValueError(f"{where}: a Conv2d is supported only as the first weight layer")
            str_pad = isinstance(mod.padding, str) and mod.padding != "valid"
            if mod.groups != 1 or mod.padding_mode != "zeros" or str_pad:
                raise ValueError(f"{where}: only Conv2d with groups=1, padding_mode='zeros' and numeric padding is "
                                 "supported")
            pad = (0, 0) if isinstance(mod.padding, str) else tuple(mod.padding)
            W = mod.weight.detach().cpu().double().numpy().reshape(mod.out_channels, -1).copy()
            b = None if mod.bias is None else mod.bias.detach().cpu().double().numpy().copy()
            conv = {"kernel_size": tuple(mod.kernel_size), "stride": tuple(mod.stride), "padding": pad,
                    "dilation": tuple(mod.dilation), "in_channels": mod.in_channels,
                    "out_channels": mod.out_channels}
            layers.append(Affine(W=W, b=b, kind="conv2d", module_index=i, conv=conv))
            ops.append(("affine", len(layers) - 1))
        elif isinstance(mod, nn.ReLU):
            ops.append(("relu",))
        elif isinstance(mod, nn.Flatten):
            ops.append(("flatten", mod.start_dim, mod.end_dim))
        elif isinstance(mod, (nn.Identity, nn.Dropout)):
            ops.append(("identity",))
        elif isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d)):
            if not layers or layers[-1].kind != "conv2d" or any(o[0] == "flatten" for o in ops):
                raise ValueError(f"{where}: pooling is supported only after the Conv2d layer, before flattening")
            ops.append(("module", mod))
        else:
            raise ValueError(f"{where}: unsupported layer type; polish supports Linear, ReLU, Flatten, Identity, "
                             "Dropout, a first Conv2d and MaxPool2d/AvgPool2d after it")
    if len(layers) < 2:
        raise ValueError(f"model must have at least two weight layers (hidden and output); found {len(layers)}")
    for a in layers:
        for part, arr in (("weight", a.W), ("bias", a.b)):
            if arr is not None and not np.all(np.isfinite(arr)):
                raise ValueError(f"model[{a.module_index}] {part} contains NaN or infinite values")
    # structure: exactly one ReLU between consecutive affine layers, none after the last
    relus = np.zeros(len(layers), dtype=int)
    cur = -1
    for o in ops:
        if o[0] == "affine":
            cur = o[1]
        elif o[0] == "relu":
            if cur < 0:
                raise ValueError("model: a ReLU before the first weight layer is not supported")
            relus[cur] += 1
    for k in range(len(layers) - 1):
        if relus[k] != 1:
            raise ValueError(f"model[{layers[k].module_index}]: every hidden layer must be followed by exactly one "
                             f"ReLU before the next weight layer; found {relus[k]}")
    if relus[-1]:
        raise ValueError("model: the output layer must not be followed by a ReLU (polish works on logits)")
    if layers[-1].kind != "linear":
        raise ValueError("model: the output layer must be a Linear layer")
    return Net(ops=ops, layers=layers, source="torch", template=target)


def parse_model(model: Any, *, inplace: bool = False) -> Net:
    if isinstance(model, (np.ndarray, list, tuple)):
        if inplace:
            raise ValueError("inplace=True needs a torch model (numpy weight arrays are never modified)")
        return _parse_numpy(model)
    mod = type(model).__module__
    if mod.startswith("torch"):
        return _parse_torch(model, inplace)
    raise ValueError(f"model must be a torch nn.Sequential or numpy weight arrays; got {type(model).__name__}")


# ---------------------------------------------------------------------------------- data
def prepare_input(net: Net, X: Any) -> np.ndarray:
    """``X`` as float64, checked against the first layer (``(n, d)``, or ``(N, C, H, W)`` for a Conv2d)."""
    first = net.layers[0]
    if first.kind == "conv2d":
        Xa = as_float_array("X", X, ndim=4)
        if Xa.shape[1] != first.conv["in_channels"]:
            raise ValueError(f"X must have {first.conv['in_channels']} channels (shape (N, C, H, W)); "
                             f"got shape {Xa.shape}")
        c = first.conv
        for axis, name in ((0, "height"), (1, "width")):
            span = c["dilation"][axis] * (c["kernel_size"][axis] - 1) + 1
            if Xa.shape[2 + axis] + 2 * c["padding"][axis] < span:
                raise ValueError(f"X images are too small for the first Conv2d: {name} {Xa.shape[2 + axis]} plus "
                                 f"padding {2 * c['padding'][axis]} is below the kernel's span {span}")
        return Xa
    Xa = as_float_array("X", X, min_ndim=2)
    d = first.W.shape[1]
    flat_first = bool(net.ops) and net.ops[0][0] == "flatten"
    if not flat_first and Xa.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_samples, n_features); got shape {Xa.shape}")
    n_feat = int(np.prod(Xa.shape[1:]))
    if n_feat != d:
        raise ValueError(f"X must have {d} features per sample to match the first layer; got shape {Xa.shape}")
    return Xa


def _flatten(A: np.ndarray, start: int, end: int) -> np.ndarray:
    nd = A.ndim
    s = start % nd
    e = end % nd
    return A.reshape(A.shape[:s] + (-1,) + A.shape[e + 1:])


def unfold(X: np.ndarray, conv: dict) -> tuple[np.ndarray, tuple[int, int]]:
    """Patches ``(N * L, C * kh * kw)`` (image-major) and the output grid ``(H_out, W_out)``."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(X))
    u = F.unfold(t, conv["kernel_size"], dilation=conv["dilation"], padding=conv["padding"], stride=conv["stride"])
    N, d, L = u.shape
    H, Wd = X.shape[2:]
    kh, kw = conv["kernel_size"]
    ho = (H + 2 * conv["padding"][0] - conv["dilation"][0] * (kh - 1) - 1) // conv["stride"][0] + 1
    wo = (Wd + 2 * conv["padding"][1] - conv["dilation"][1] * (kw - 1) - 1) // conv["stride"][1] + 1
    if ho * wo != L:  # pragma: no cover - guards the arithmetic above
        raise RuntimeError("unfold: unexpected number of patches")
    return u.transpose(1, 2).reshape(N * L, d).numpy(), (ho, wo)


def _affine(net: Net, k: int, A: np.ndarray, weights: list) -> np.ndarray:
    W, b = weights[k]
    lay = net.layers[k]
    if lay.kind == "conv2d":
        key = (id(A), A.shape, k)
        hit = net.meta.get("unfold")
        if hit is not None and hit[0] == key and hit[1] is A:  # the same input array: reuse its patches
            P, (ho, wo) = hit[2]
        else:
            P, (ho, wo) = unfold(A, lay.conv)
            net.meta["unfold"] = (key, A, (P, (ho, wo)))
        Z = P @ W.T
        if b is not None:
            Z += b
        return Z.reshape(A.shape[0], ho, wo, -1).transpose(0, 3, 1, 2)
    if A.ndim != 2 or A.shape[1] != W.shape[1]:
        raise ValueError(f"layer {k} expects inputs of shape (n, {W.shape[1]}); got {A.shape}")
    Z = A @ W.T
    return Z + b if b is not None else Z


def forward(net: Net, X: np.ndarray, weights: list, *, stop: int | None = None) -> tuple[np.ndarray, list]:
    """Run the network; returns the output and the input of every affine layer.

    ``stop=k`` returns as soon as the input of affine layer ``k`` is known (output ``None``).
    """
    inputs: list = [None] * len(net.layers)
    A = X
    for o in net.ops:
        if o[0] == "affine":
            inputs[o[1]] = A
            if stop is not None and o[1] == stop:
                return None, inputs
            A = _affine(net, o[1], A, weights)
        elif o[0] == "relu":
            A = np.maximum(A, 0.0)
        elif o[0] == "flatten":
            A = _flatten(A, o[1], o[2])
        elif o[0] == "module":
            import torch

            with torch.no_grad():
                A = o[1](torch.from_numpy(np.ascontiguousarray(A))).numpy()
    return A, inputs


def layer_samples(net: Net, k: int, layer_input: np.ndarray) -> np.ndarray:
    """The samples of affine layer ``k``: its inputs, or its unfolded patches for a Conv2d."""
    lay = net.layers[k]
    if lay.kind == "conv2d":
        return unfold(layer_input, lay.conv)[0]
    return layer_input


def hidden_features(net: Net, X: np.ndarray, weights: list) -> np.ndarray:
    """The input of the output layer (post-ReLU features of the last hidden layer)."""
    _, inputs = forward(net, X, weights, stop=len(net.layers) - 1)
    return inputs[-1]


# ---------------------------------------------------------------------------------- output
def export(net: Net, weights: list) -> Any:
    """The model with ``weights`` written in: the (copied) torch model, or numpy arrays in the input's format."""
    if net.source == "torch":
        import torch

        model = net.template
        mods = list(model)
        with torch.no_grad():
            for lay, (W, b) in zip(net.layers, weights, strict=True):
                mod = mods[lay.module_index]
                mod.weight.copy_(torch.from_numpy(W.reshape(tuple(mod.weight.shape))).to(mod.weight.dtype))
                if mod.bias is not None:
                    bb = np.zeros(W.shape[0]) if b is None else b
                    mod.bias.copy_(torch.from_numpy(bb).to(mod.bias.dtype))
        return model
    fmt = net.template["fmt"]
    out = []
    for f, (W, b) in zip(fmt, weights, strict=True):
        out.append(W.copy() if f == "array" else (W.copy(), None if b is None else b.copy()))
    if net.template["single"]:
        return out[0]
    return tuple(out) if net.template["container"] is tuple else out
