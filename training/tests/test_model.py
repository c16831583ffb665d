import numpy as np
import pytest
import torch

from training.bench import random_sparse
from training.model import PAPER_BEST_KERNELS, TCN, CausalConv1d, LowRankCausalConv1d, ModelConfig, SparseBatch


def _random_model(kernels, widths, rows=6, seed=0):
    torch.manual_seed(seed)
    m = TCN(ModelConfig(n_rows=rows, kernels=kernels, widths=widths))
    with torch.no_grad():  # larger weights than the paper's init, so every tap matters
        for p in m.parameters():
            p.normal_(0, 0.5)
        for bn in m.norms:
            bn.running_var.uniform_(0.5, 2.0)
            bn.running_mean.normal_()
    return m.eval()


def test_window_and_naming():
    best = ModelConfig.build(1278, 7, 128)
    assert best.kernels == PAPER_BEST_KERNELS and best.window_ms == 153 and best.name == "TCN_7x128x153"
    assert ModelConfig.build(1278, 3, 64, [54, 24, 24]).window_ms == 100
    assert ModelConfig.build(1278, 1, 128, [43]).name == "FCN_1x128x43"
    assert ModelConfig.build(10, 4, 8, [5, 3]).kernels == [5, 3, 3, 3]


@pytest.mark.parametrize("kernels", [[7, 4, 3], [1, 5], [12]])
def test_receptive_field_equals_window(kernels):
    """d output[t] / d input[s] is non-zero exactly for t − T < s ≤ t."""
    m = _random_model(kernels, [5] * len(kernels))
    T = m.cfg.window_ms
    x = torch.rand(16, 6, 60, requires_grad=True)  # a batch, so that some ReLU path is open for every tap
    t = 40
    s, v = m(x)
    g = torch.autograd.grad(s[:, t].sum() + v[:, t].sum(), x)[0]
    touched = (g.abs().sum((0, 1)) > 0).nonzero().ravel().tolist()
    assert touched == list(range(t - T + 1, t + 1))


def test_causal_future_inputs_do_not_change_the_past():
    m = _random_model([6, 3, 3], [4, 4, 4])
    x = (torch.rand(2, 6, 80) < 0.2).float()
    y = torch.stack(m(x))
    x2 = x.clone()
    x2[:, :, 50:] = (torch.rand(2, 6, 30) < 0.5).float()
    y2 = torch.stack(m(x2))
    assert torch.equal(y[..., :50], y2[..., :50])
    assert not torch.equal(y[..., 50:], y2[..., 50:])


def test_sparse_first_layer_equals_dense_conv():
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    conv = CausalConv1d(30, 7, 9)
    with torch.no_grad():
        conv.weight.normal_()
        conv.bias.normal_()
    xs = random_sparse(rng, 3, 30, 50, 0.05)
    xd = torch.from_numpy(xs.to_dense())
    yd = conv(xd)
    ys = conv.forward_sparse(SparseBatch.from_numpy(xs))
    torch.testing.assert_close(ys, yd, rtol=1e-5, atol=1e-5)
    gy = torch.randn_like(yd)
    gd = torch.autograd.grad((yd * gy).sum(), [conv.weight, conv.bias])
    gs = torch.autograd.grad((conv.forward_sparse(SparseBatch.from_numpy(xs)) * gy).sum(), [conv.weight, conv.bias])
    for a, b in zip(gs, gd):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-4)


def test_whole_model_sparse_equals_dense():
    m = _random_model([9, 4], [6, 6], rows=20)
    xs = random_sparse(np.random.default_rng(2), 2, 20, 70, 0.05)
    a = m(torch.from_numpy(xs.to_dense()))
    b = m(SparseBatch.from_numpy(xs))
    for u, w in zip(a, b):
        torch.testing.assert_close(u, w, rtol=1e-5, atol=1e-4)


def test_paper_init():
    m = TCN(ModelConfig.build(40, 2, 8, [5, 3]))
    assert torch.all(m.spike_head.bias == -2.0)
    assert m.convs[0].weight.abs().max() <= 0.004 + 1e-9  # truncated at 2σ, σ = 0.002


def test_low_rank_first_layer_sparse_equals_dense_and_its_weight_is_the_product():
    torch.manual_seed(3)
    rng = np.random.default_rng(3)
    conv = LowRankCausalConv1d(30, 7, 9, rank=4)
    with torch.no_grad():
        conv.spatial.normal_()
        conv.temporal.weight.normal_()
        conv.temporal.bias.normal_()
    xs = random_sparse(rng, 3, 30, 50, 0.05)
    xd = torch.from_numpy(xs.to_dense())
    yd = conv(xd)
    torch.testing.assert_close(conv.forward_sparse(SparseBatch.from_numpy(xs)), yd, rtol=1e-5, atol=1e-4)
    # the equivalent dense kernel gives the same layer (this is what the ONNX export writes)
    dense = CausalConv1d(30, 7, 9)
    with torch.no_grad():
        dense.weight.copy_(conv.weight)
        dense.bias.copy_(conv.bias)
    torch.testing.assert_close(dense(xd), yd, rtol=1e-5, atol=1e-4)
    # gradients flow to both factors through the sparse path
    gy = torch.randn_like(yd)
    gd = torch.autograd.grad((yd * gy).sum(), [conv.spatial, conv.temporal.weight])
    gs = torch.autograd.grad((conv.forward_sparse(SparseBatch.from_numpy(xs)) * gy).sum(), [conv.spatial, conv.temporal.weight])
    for a, b in zip(gs, gd):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-3)
        assert a.abs().sum() > 0


def test_low_rank_model_trains_few_first_layer_parameters_and_exports_two_convs():
    from training.export import build_onnx

    full = TCN(ModelConfig(n_rows=200, kernels=[20, 5], widths=[16, 16]))
    low = TCN(ModelConfig(n_rows=200, kernels=[20, 5], widths=[16, 16], first_rank=4))
    assert low.cfg.name.endswith("_r4")
    assert low.n_parameters() < full.n_parameters() / 4
    assert {id(low.convs[0].spatial), id(low.convs[0].temporal.weight)} <= {id(p) for p in low.kernel_parameters()}
    g = build_onnx(low.eval()).graph
    # the factorised layer stays factorised in ONNX: a 1×1 Conv to 4 channels, then the causal Conv
    s0 = next(t for t in g.initializer if t.name == "conv0.spatial")
    w0 = next(t for t in g.initializer if t.name == "conv0.weight")
    assert list(s0.dims) == [4, 200, 1] and list(w0.dims) == [16, 4, 20]
    assert [n.op_type for n in g.node[:3]] == ["Conv", "Conv", "Relu"]
    assert ModelConfig.from_json({"n_rows": 5, "kernels": [3], "widths": [2]}).first_rank == 0  # older configs
    with pytest.raises(ValueError):
        ModelConfig(n_rows=5, kernels=[3], widths=[2], first_rank=-1)



def test_low_rank_onnx_equals_torch(tmp_path):
    import onnxruntime as ort
    from training.export import build_onnx

    torch.manual_seed(5)
    m = TCN(ModelConfig(n_rows=30, kernels=[9, 4], widths=[6, 6], first_rank=3))
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.5)
        for bn in m.norms:
            bn.running_var.uniform_(0.5, 2.0)
            bn.running_mean.normal_()
    m.eval()
    path = tmp_path / "low.onnx"
    path.write_bytes(build_onnx(m).SerializeToString())
    x = random_sparse(np.random.default_rng(5), 1, 30, 60, 0.1).to_dense()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    with torch.no_grad():
        logit, soma = m(torch.from_numpy(x))
    expected = np.stack([torch.sigmoid(logit).numpy(), soma.numpy()], axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_elm_sparse_equals_dense_is_causal_and_learns_its_time_constants():
    from training.data import SparseInput
    from training.elm import ELM, ELMConfig
    from training.model import SparseBatch

    torch.manual_seed(0)
    m = ELM(ELMConfig(n_rows=10, branches=4, memory=6, hidden=8))
    rng = np.random.default_rng(1)
    dense = (rng.random((2, 10, 30)) < 0.2).astype(np.float32)
    bag, rows = np.nonzero(dense.transpose(0, 2, 1).reshape(60, 10))
    counts = np.bincount(bag, minlength=60)
    off = np.zeros(60, np.int64)
    np.cumsum(counts[:-1], out=off[1:])
    sp = SparseBatch.from_numpy(SparseInput(rows=rows.astype(np.int64), offsets=off, batch=2, length=30, n_rows=10))
    s1, v1 = m(torch.from_numpy(dense))
    s2, v2 = m(sp)
    torch.testing.assert_close(s1, s2)
    torch.testing.assert_close(v1, v2)
    later = dense.copy()
    later[:, :, 20:] = 1 - later[:, :, 20:]
    s3, _ = m(torch.from_numpy(later))
    torch.testing.assert_close(s3[:, :20], s1[:, :20])  # the future does not change the past
    assert not torch.allclose(s3[:, 20:], s1[:, 20:])
    (s1.sum() + v1.sum()).backward()
    assert m.log_tau_m.grad is not None and m.log_tau_m.grad.abs().sum() > 0
