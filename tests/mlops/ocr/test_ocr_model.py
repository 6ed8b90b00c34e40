"""Model construction, output shapes, loss, parameter groups and augmentation."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

from mlops.ocr.augment import augment_batch, shift_batch  # noqa: E402
from mlops.ocr.config import BLANK_INDEX, TrainConfig  # noqa: E402
from mlops.ocr.images import decode_indices, encode_texts  # noqa: E402
from mlops.ocr.model import OCRModel, build_model, is_norm_free, param_groups, sequence_loss  # noqa: E402

pytestmark = pytest.mark.ml

CHARSET = "0123456789"


@pytest.mark.parametrize(
    "backbone,head,size",
    [
        ("eca_nfnet_l0", "avg", (32, 96)),
        ("eca_nfnet_l0", "attn", (32, 96)),
        ("test_nfnet", "attn", (64, 192)),
        ("test_nfnet", "avg", (32, 96)),
        ("resnet10t", "attn", (48, 128)),
        ("test_resnet", "attn", (32, 96)),
    ],
)
def test_forward_shape_and_loss(backbone, head, size):
    torch.manual_seed(0)
    cfg = TrainConfig(backbone=backbone, head=head, dropout=0.0)
    model = build_model(cfg, CHARSET, max_len=6, img_height=size[0], img_width=size[1])
    assert len(model.heads) == 6  # one linear head per character position
    x = torch.randn(2, 3, *size)
    logits = model(x)
    assert logits.shape == (2, 6, len(CHARSET) + 1)
    with torch.no_grad():
        pooled = model.pooled(x)
    for i, head_module in enumerate(model.heads):
        assert head_module(pooled[:, i]).shape == (2, len(CHARSET) + 1)
    targets = encode_texts(["123456", "42"], CHARSET, 6)
    loss = sequence_loss(logits, targets, label_smoothing=0.1)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in model.heads.parameters())


def test_grayscale_and_backbone_kwargs():
    cfg = TrainConfig(backbone="test_resnet", in_chans=1, backbone_kwargs={"drop_rate": 0.2})
    model = build_model(cfg, "ab", max_len=3, img_height=32, img_width=64)
    assert model(torch.zeros(1, 1, 32, 64)).shape == (1, 3, 3)


def test_pretrained_is_never_requested(monkeypatch):
    import timm

    seen = {}
    real = timm.create_model

    def spy(name, **kw):
        seen.update(kw)
        return real(name, **kw)

    monkeypatch.setattr(timm, "create_model", spy)
    OCRModel("test_resnet", num_classes=11, max_len=4, img_size=(32, 96))
    assert seen["pretrained"] is False and seen["num_classes"] == 0


def test_encode_decode_round_trip():
    enc = encode_texts(["0", "9876"], CHARSET, 4)
    assert enc.tolist() == [[1, 0, 0, 0], [10, 9, 8, 7]]
    assert BLANK_INDEX == 0
    assert decode_indices(enc[1].tolist(), CHARSET) == "9876"
    assert decode_indices([3, 0, 0, 0], CHARSET) == "2"
    with pytest.raises(ValueError):
        encode_texts(["12345"], CHARSET, 4)
    with pytest.raises(ValueError):
        encode_texts(["12a"], CHARSET, 4)


def test_param_groups_and_agc_scope():
    assert is_norm_free("eca_nfnet_l0") and is_norm_free("nf_resnet50") and not is_norm_free("resnet10t")
    model = build_model(TrainConfig(backbone="test_nfnet"), CHARSET, 4, 32, 96)
    decay, no_decay = param_groups(model, 0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert any(p is model.queries for p in no_decay["params"])
    head_ids = {id(p) for p in model.head_parameters()}
    assert head_ids.isdisjoint(id(p) for p in model.backbone.parameters())
    assert {id(p) for p in model.heads.parameters()} <= head_ids


def test_augment_is_deterministic_and_bounded():
    x = torch.rand(4, 3, 32, 96) * 2 - 1
    a = augment_batch(x, torch.Generator().manual_seed(5))
    b = augment_batch(x, torch.Generator().manual_seed(5))
    c = augment_batch(x, torch.Generator().manual_seed(6))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= -1 and a.max() <= 1
    assert torch.allclose(shift_batch(x, 0.0, 0.0), x, atol=1e-5)  # identity view for TTA
