"""Train a small CNN and a small LSTM model in PyTorch and save them as a
PyTorch user would, for scripts/pytorch_models.lua (the worked example that
loads them) and tests/interop_models_spec.lua.

Run from anywhere with Debian's PyTorch (the ``python3`` first on PATH may
lack torch):

    /usr/bin/python3 scripts/gen_pytorch_models.py

Writes into tests/fixtures/:
  pytorch_cnn.safetensors   the CNN's state_dict() (float32, PyTorch's keys:
                            "features.0.weight", "features.1.running_mean",
                            "features.1.num_batches_tracked" (int64), ...)
  pytorch_lstm.safetensors  the LSTM model's state_dict() ("embed.weight",
                            "lstm.weight_ih_l0_reverse", "head.bias", ...)
  pytorch_models_io.safetensors  test inputs and PyTorch's outputs for them
                            (eval mode, float32), under flat names:
    cnn.images {16, 1, 16, 16} F32, cnn.labels {16} I64 (0-based classes),
    cnn.logits {16, 4} F32,
    lstm.tokens {4, 10} I64 (PyTorch's 0-based ids, 0 the padding),
    lstm.labels {4, 10} I64, lstm.logits {4, 10, 2} F32,
    lstm.output {4, 10, 24} F32, lstm.h_n {4, 4, 12} F32, lstm.c_n {4, 4, 12} F32.
The state dicts are written with scripts/gen_fixtures_serialize.py's writer
(Debian has no ``safetensors`` package); with it, ``safetensors.torch.save_file(
model.state_dict(), path)`` writes the same tensors under the same names.

The two models (the Lua example defines the same modules under the same names):
  CNN: features = Sequential(Conv2d(1, 8, 3, padding=1), BatchNorm2d(8), ReLU(),
       MaxPool2d(2), Conv2d(8, 16, 3, stride=2, padding=1), BatchNorm2d(16), ReLU(),
       AdaptiveAvgPool2d(2)), classifier = Sequential(Flatten(), Linear(64, 4));
       16x16 one-channel images of a horizontal bar, a vertical bar, a diagonal
       or a box outline (classes 0-3), in noise (make_images: the Lua example
       draws the same kind).
  LSTM: embed = Embedding(11, 8, padding_idx=0), lstm = LSTM(8, 12, num_layers=2,
       batch_first=True, bidirectional=True), head = Linear(24, 2); it tags each
       token of a sequence of digits 1-10 (0 pads) with whether the same digit
       occurs elsewhere in the sequence (both directions needed).
Each is trained briefly (Adam, a few hundred steps, seconds) from a fixed seed.

    /usr/bin/python3 scripts/gen_pytorch_models.py --check DIR

loads the fine-tuned CNN that scripts/pytorch_models.lua saved in DIR
(pytorch_cnn_finetuned.safetensors, PyTorch's key names) into PyTorch's model
with load_state_dict (strict), runs it on the fixture's test images and
compares with the logits the Lua example saved beside it
(pytorch_cnn_finetuned_logits.safetensors); exits 1 if they differ by more
than float32 rounding. In plain PyTorch with the ``safetensors`` package that is
    model = CNN(); model.load_state_dict(safetensors.torch.load_file(path)); model.eval()
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_lua as lua  # noqa: E402
from gen_fixtures_serialize import write_safetensors  # noqa: E402

SEED = 20261205
SIZE = 16  # image side
CLASSES = ["horizontal", "vertical", "diagonal", "box"]
NOISE = 0.3
VOCAB, SEQ = 11, 10  # token ids 0 (padding) .. 10
CNN_PATH = lua.FIXTURES / "pytorch_cnn.safetensors"
LSTM_PATH = lua.FIXTURES / "pytorch_lstm.safetensors"
IO_PATH = lua.FIXTURES / "pytorch_models_io.safetensors"


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64, len(CLASSES)))

    def forward(self, x):
        return self.classifier(self.features(x))


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 8, padding_idx=0)
        self.lstm = nn.LSTM(8, 12, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(24, 2)

    def forward(self, tokens):
        out, (h, c) = self.lstm(self.embed(tokens))
        return self.head(out), out, h, c


def make_images(n, gen):
    """n images {n, 1, SIZE, SIZE} and their classes {n} (0-based)."""
    labels = torch.randint(0, len(CLASSES), (n,), generator=gen)
    x = torch.randn(n, 1, SIZE, SIZE, generator=gen) * NOISE
    # per image: a length 6..11 and a start so the shape fits with a margin of 1
    lengths = torch.randint(6, 12, (n,), generator=gen)
    for i in range(n):
        k, length = int(labels[i]), int(lengths[i])
        r, c = [int(v) for v in torch.randint(1, SIZE - length, (2,), generator=gen)]
        img = x[i, 0]
        if k == 0:
            img[r, c:c + length] += 1
        elif k == 1:
            img[r:r + length, c] += 1
        elif k == 2:
            for j in range(length):
                img[r + j, c + j] += 1
        else:
            img[r, c:c + length] += 1
            img[r + length - 1, c:c + length] += 1
            img[r + 1:r + length - 1, c] += 1
            img[r + 1:r + length - 1, c + length - 1] += 1
    return x, labels


def make_sequences(n, gen):
    """n rows of SEQ token ids (1..10, then 0 padding: lengths 6..10) and the
    tag of each position (1 if its digit occurs elsewhere in the row; padding 0)."""
    tokens = torch.randint(1, VOCAB, (n, SEQ), generator=gen)
    lengths = torch.randint(6, SEQ + 1, (n,), generator=gen)
    for i in range(n):
        tokens[i, int(lengths[i]):] = 0
    same = tokens.unsqueeze(2) == tokens.unsqueeze(1)
    labels = ((same.sum(2) > 1) & (tokens > 0)).long()
    return tokens, labels


def train(model, batch_fn, steps, loss_of, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(model, *batch_fn())
        loss.backward()
        opt.step()
    model.eval()
    return float(loss)


def generate():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(SEED)
    ce = nn.CrossEntropyLoss()

    cnn = CNN()
    cnn_loss = train(cnn, lambda: make_images(32, gen), 300,
                     lambda m, x, y: ce(m(x), y), 1e-2)
    images, image_labels = make_images(16, gen)
    with torch.no_grad():
        cnn_logits = cnn(images)
    cnn_acc = float((cnn_logits.argmax(1) == image_labels).float().mean())

    tagger = Tagger()
    tag_loss = train(tagger, lambda: make_sequences(32, gen), 800,
                     lambda m, t, y: ce(m(t)[0].reshape(-1, 2), y.reshape(-1)), 1e-2)
    tokens, token_labels = make_sequences(4, gen)
    with torch.no_grad():
        logits, out, h, c = tagger(tokens)
    real = tokens > 0
    tag_acc = float((logits.argmax(2) == token_labels)[real].float().mean())

    meta = {"format": "pt", "source": "scripts/gen_pytorch_models.py"}
    write_safetensors(CNN_PATH, list(cnn.state_dict().items()), meta)
    write_safetensors(LSTM_PATH, list(tagger.state_dict().items()), meta)
    io_meta = dict(meta, classes=",".join(CLASSES), cnn_accuracy="%.6f" % cnn_acc,
                   lstm_accuracy="%.6f" % tag_acc)
    write_safetensors(IO_PATH, [
        ("cnn.images", images), ("cnn.labels", image_labels), ("cnn.logits", cnn_logits),
        ("lstm.tokens", tokens), ("lstm.labels", token_labels), ("lstm.logits", logits),
        ("lstm.output", out), ("lstm.h_n", h), ("lstm.c_n", c)], io_meta)
    for p in (CNN_PATH, LSTM_PATH, IO_PATH):
        print("wrote %s (%d bytes)" % (p.relative_to(lua.REPO_ROOT), p.stat().st_size))
    print("CNN: last training loss %.4f, test accuracy %.4f; LSTM: last loss %.4f, tag accuracy %.4f"
          % (cnn_loss, cnn_acc, tag_loss, tag_acc))


# ---------------------------------------------------------------------------
# --check DIR

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def read_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    data, out = raw[8 + n:], {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def check(directory):
    model = CNN()
    model.load_state_dict(read_safetensors(Path(directory) / "pytorch_cnn_finetuned.safetensors"))
    model.eval()
    images = read_safetensors(IO_PATH)["cnn.images"]
    theirs = read_safetensors(Path(directory) / "pytorch_cnn_finetuned_logits.safetensors")["logits"]
    with torch.no_grad():
        ours = model(images)
    diff = float((ours - theirs).abs().max())
    scale = max(1.0, float(theirs.abs().max()))
    print("gen_pytorch_models.py --check: PyTorch's logits of the fine-tuned CNN differ from Lucid's by %.3g"
          % diff)
    if diff > 1e-4 * scale:
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) == 1:
        generate()
    else:
        print("usage: gen_pytorch_models.py [--check DIR]", file=sys.stderr)
        sys.exit(2)
