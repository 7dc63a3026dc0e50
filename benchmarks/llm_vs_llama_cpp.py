#!/usr/bin/env python3
"""Side-by-side speed of Brandpilot's local model engine and llama.cpp on the same GGUF.

llama.cpp is driven through the PyPI package llama-cpp-python, which builds llama.cpp from
source on install (about 10 minutes on 2 cores):

    python3 -m venv /tmp/llvenv && /tmp/llvenv/bin/pip install llama-cpp-python
    /tmp/llvenv/bin/python benchmarks/llm_vs_llama_cpp.py --brandpilot target/release/brandpilot

Both sides load the same file with the same threads, context (4096), batch (512) and flash
attention, evaluate a prompt of the same token count at once (prompt processing), then
generate the same number of tokens one by one with the same sampler settings (temperature
0.7, top-k 40, top-p 0.9, repeat penalty 1.1), ignoring end-of-turn. Each side runs in its
own child process (so peak RSS is its own), rounds alternate between the two, and medians
are reported. Not part of the test suite: speed is measured here, never asserted in tests.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

WORDS = ("coffee roast bean espresso customer order refund latte oat milk shop morning "
         "delivery subscription flavour cup barista price season menu loyalty card weekend "
         "pastry organic farm origin grinder filter brew aroma review").split()

MODELS = {
    "smollm2-135m-instruct": "smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3-270m": "gemma3-270m/gemma-3-270m-q4_k_m.gguf",
}


def words(count, variant):
    state = (variant + 1) * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF
    out = []
    for i in range(count):
        state ^= (state << 13) & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 7
        state ^= (state << 17) & 0xFFFFFFFFFFFFFFFF
        out.append(WORDS[state % len(WORDS)] + ("." if i % 12 == 11 else ""))
    return " ".join(out)


def llama_cpp_child(path, threads, prompt_tokens, new_tokens, runs):
    """Runs in a child process: measures llama.cpp through llama-cpp-python."""
    from llama_cpp import Llama

    llm = Llama(model_path=path, n_ctx=4096, n_batch=512, n_ubatch=512, n_threads=threads,
                n_threads_batch=threads, flash_attn=True, verbose=False)
    pp, tg = [], []
    for run in range(runs + 1):
        tokens = llm.tokenize(words(prompt_tokens * 2, run).encode(), add_bos=True)[:prompt_tokens]
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        pp_rate = len(tokens) / (time.perf_counter() - started)

        short = llm.tokenize(words(12, run + 1000).encode(), add_bos=True)[:16]
        llm.reset()
        llm.eval(short)
        started = time.perf_counter()
        for _ in range(new_tokens):
            token = llm.sample(top_k=40, top_p=0.9, temp=0.7, repeat_penalty=1.1)
            llm.eval([token])
        tg_rate = new_tokens / (time.perf_counter() - started)
        if run > 0:
            pp.append(pp_rate)
            tg.append(tg_rate)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"prompt_tokens_per_second": statistics.median(pp),
                      "generation_tokens_per_second": statistics.median(tg),
                      "peak_rss_mb": peak_mb}))


def run_llama_cpp(path, args):
    out = subprocess.run([sys.executable, __file__, "--child", path, "--threads", str(args.threads),
                          "--prompt-tokens", str(args.prompt_tokens),
                          "--new-tokens", str(args.new_tokens), "--runs", str(args.runs)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_brandpilot(model, args):
    out = subprocess.run([args.brandpilot, "--models-dir", args.models_dir, "bench", "llm",
                          "--in-process", "--model", model, "--threads", str(args.threads),
                          "--prompt-tokens", str(args.prompt_tokens),
                          "--new-tokens", str(args.new_tokens), "--runs", str(args.runs),
                          "--rag-tokens", "1500"],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child")
    parser.add_argument("--brandpilot", default="target/release/brandpilot")
    parser.add_argument("--models-dir", default="models")
    parser.add_argument("--model", action="append", help="default: both known chat models")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--prompt-tokens", type=int, default=300)
    parser.add_argument("--new-tokens", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.child:
        llama_cpp_child(args.child, args.threads, args.prompt_tokens, args.new_tokens, args.runs)
        return

    print(f"threads {args.threads}, prompt {args.prompt_tokens} tokens, "
          f"{args.new_tokens} new tokens, {args.runs} runs x {args.rounds} rounds")
    print(f"{'model':<24}{'engine':<12}{'prompt tok/s':>13}{'gen tok/s':>11}{'peak MB':>9}")
    failed = False
    for model in args.model or list(MODELS):
        path = os.path.join(args.models_dir, MODELS[model])
        ours, theirs = [], []
        for _ in range(args.rounds):
            theirs.append(run_llama_cpp(path, args))
            ours.append(run_brandpilot(model, args))
        rows = {}
        for engine, results in (("llama.cpp", theirs), ("brandpilot", ours)):
            rows[engine] = {key: statistics.median(r[key] for r in results)
                            for key in ("prompt_tokens_per_second",
                                        "generation_tokens_per_second", "peak_rss_mb")}
            r = rows[engine]
            print(f"{model:<24}{engine:<12}{r['prompt_tokens_per_second']:>13.0f}"
                  f"{r['generation_tokens_per_second']:>11.1f}{r['peak_rss_mb']:>9.0f}")
        pp = rows["brandpilot"]["prompt_tokens_per_second"] / rows["llama.cpp"]["prompt_tokens_per_second"]
        tg = (rows["brandpilot"]["generation_tokens_per_second"]
              / rows["llama.cpp"]["generation_tokens_per_second"])
        ok = pp >= 0.9 and tg >= 0.9
        failed |= not ok
        print(f"{model:<24}{'ratio':<12}{pp:>13.2f}{tg:>11.2f}   {'ok' if ok else 'BELOW 0.9x'}")
        if ours[0].get("rag_time_to_first_token_ms"):
            ttft = statistics.median(r["rag_time_to_first_token_ms"] for r in ours)
            print(f"{model:<24}brandpilot time to first token, "
                  f"{ours[0]['rag_prompt_tokens']}-token RAG prompt: {ttft:.0f} ms")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
