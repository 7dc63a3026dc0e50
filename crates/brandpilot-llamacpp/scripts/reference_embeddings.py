"""Independent reference for the converter and embedder: a plain NumPy forward pass of a
sentence-transformers BERT model read straight from model.safetensors (exact erf GELU,
float64), compared with vectors the Rust embedder dumped.

Usage: python reference_embeddings.py MODEL_DIR DUMP.jsonl
where each line of DUMP.jsonl is {"tokens": [...], "vector": [...]} (token ids include
[CLS] and [SEP]), as written by `embed_throughput --dump`.
"""
import json
import math
import struct
import sys

import numpy as np


def load_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F16": np.float16}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in dtypes:
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=dtypes[info["dtype"]])
        tensors[name] = array.reshape(info["shape"]).astype(np.float64)
    return tensors


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(t, config, ids):
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    n = len(ids)
    x = (
        t["embeddings.word_embeddings.weight"][ids]
        + t["embeddings.position_embeddings.weight"][:n]
        + t["embeddings.token_type_embeddings.weight"][0]
    )
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        lin = lambda name, v: v @ t[p + name + ".weight"].T + t[p + name + ".bias"]
        q, k, v = (lin(f"attention.self.{m}", x) for m in ("query", "key", "value"))
        d = q.shape[-1] // heads
        split = lambda m: m.reshape(n, heads, d).transpose(1, 0, 2)
        scores = split(q) @ split(k).transpose(0, 2, 1) / math.sqrt(d)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ split(v)).transpose(1, 0, 2).reshape(n, heads * d)
        x = layer_norm(
            lin("attention.output.dense", context) + x,
            t[p + "attention.output.LayerNorm.weight"],
            t[p + "attention.output.LayerNorm.bias"],
            eps,
        )
        hidden = gelu(lin("intermediate.dense", x))
        x = layer_norm(
            lin("output.dense", hidden) + x,
            t[p + "output.LayerNorm.weight"],
            t[p + "output.LayerNorm.bias"],
            eps,
        )
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def main():
    model_dir, dump = sys.argv[1], sys.argv[2]
    config = json.load(open(f"{model_dir}/config.json"))
    tensors = load_safetensors(f"{model_dir}/model.safetensors")
    sims = []
    for line in open(dump):
        row = json.loads(line)
        reference = embed(tensors, config, row["tokens"])
        ours = np.asarray(row["vector"], dtype=np.float64)
        sims.append(float(ours @ reference / np.linalg.norm(ours)))
    print(f"cosine vs NumPy reference over {len(sims)} texts: "
          f"min={min(sims):.6f} mean={sum(sims) / len(sims):.6f}")


if __name__ == "__main__":
    main()
