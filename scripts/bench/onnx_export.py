"""onnx_export.py: the models of `make bench`'s ONNX Runtime column, exported from
PyTorch with torch.onnx.export (run.lua runs it at bench time; nothing it writes
is checked in).

  /usr/bin/python3 onnx_export.py <directory>
      writes <directory>/<workload>.onnx for every workload onnx_bench.js times
      and prints "exported <workload>" for each

Each model is built the way torch_bench.py builds it for the same workload, after
the same torch.manual_seed(0), so the ONNX Runtime rows run the PyTorch rows'
weights (the Lucid rows draw theirs from Lucid's own generator: same shapes and
distributions, other values). Input shapes are fixed, as a game's are; the input
is named "x" and the output "y". Opset 13: what ONNX Runtime's CPU provider runs
with every kernel (Gemm, Tanh) it has for these layers.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bench  # noqa: E402  (the twin's model constructors)

# workload -> (constructor, input shape)
MODELS = {
    "tiny_infer": (torch_bench.tiny, (1, 4)),
    "agents_infer": (torch_bench.agents_mlp, (torch_bench.AGENTS, 32)),
    "mlp64_infer": (torch_bench.mlp, (64, 784)),
    "mlp_infer": (torch_bench.mlp, (1, 784)),
}


def main(args):
    if len(args) != 1:
        sys.exit("usage: onnx_export.py <directory>")
    out = args[0]
    os.makedirs(out, exist_ok=True)
    for name, (make, shape) in MODELS.items():
        torch.manual_seed(0)
        model = make().eval()
        torch.onnx.export(model, torch.randn(*shape), os.path.join(out, name + ".onnx"),
                          input_names=["x"], output_names=["y"], opset_version=13)
        print("exported", name, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
