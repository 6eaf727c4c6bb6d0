#!/usr/bin/env python3
"""Python side of `npm run bench` (bench/suite.ts): one measurement per process, one JSON line out.

  suite_py.py train <full|head|lora> <threads> <steps>   PyTorch training step (AdamW + clipping)
  suite_py.py eval <threads> <batch> <runs>              PyTorch torch.no_grad() forward, tokens/s
  suite_py.py data <conll file> <vocab.txt> <maxLength>  plain-Python CoNLL reader + greedy WordPiece
  suite_py.py matmul <threads> <M> <K> <N> <runs>        torch.matmul [M, K] x [K, N], GFLOP/s
  suite_py.py real <conll file> <meta.json> <threads>    real-length training: shuffled batches padded to their longest

The data peer is a peer of the same algorithm as ours (BERT normalizer with lowercasing, BERT
pre-tokenizer, greedy longest-match-first WordPiece with '##' continuations, first sub-token
labelled), written in plain Python: it is not Hugging Face `tokenizers` (Rust).
"""
import json
import os
import resource
import statistics
import sys
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_configs import CONFIGS  # noqa: E402

# FINETUNE_BENCH_MODEL: encoder (BERT-mini, default) or encoder-base; FINETUNE_BENCH_DEVICE: cpu or cuda.
MODEL = os.environ.get("FINETUNE_BENCH_MODEL") or "encoder"
DEVICE = os.environ.get("FINETUNE_BENCH_DEVICE") or "cpu"
# FINETUNE_BENCH_PRECISION: no (default), fp16 (autocast + GradScaler) or bf16 (autocast), as bench/suite.ts.
PRECISION = os.environ.get("FINETUNE_BENCH_PRECISION") or "no"
LORA = {"rank": 8, "alpha": 16, "targets": ("attention.self.query", "attention.self.value")}


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(torch):
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def peak_mb(torch):
    """Host peak RSS, and on CUDA also the peak memory the caching allocator handed out."""
    out = {"peak_rss_mb": rss_mb()}
    if DEVICE == "cuda":
        out["peak_device_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
        out["device_used"] = "cuda"
    return out


def encoder_batch(torch, c, B, T, full_mask=False):
    ids = torch.randint(1, c["vocabSize"], (B, T))
    mask = torch.ones(B, T, dtype=torch.long)
    if not full_mask:
        mask[::2, T * 3 // 4:] = 0
    labels = torch.where(mask.bool(), torch.randint(0, c["numLabels"], (B, T)), torch.full((B, T), -100))
    return ids, mask, labels


def train(mode, threads, steps):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
    from torch_models import bert_params, bert_token_logits
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = CONFIGS[MODEL]
    c, B, T = cfg["model"], cfg["batch"], cfg["seq"]
    if DEVICE == "cuda" and not torch.cuda.is_available():
        sys.exit("PyTorch has no CUDA here (torch.cuda.is_available() is False)")
    params = {k: (v * 0.1).to(DEVICE) for k, v in bert_params(c).items()}
    ids, mask, labels = (t.to(DEVICE) for t in encoder_batch(torch, c, B, T))
    head = lambda k: k.startswith("classifier.")
    P = {k: v.clone().requires_grad_(mode == "full" or head(k)) for k, v in params.items()}
    lora = None
    trained = {k: v for k, v in P.items() if v.requires_grad}
    if mode == "lora":
        H, r = c["hidden"], LORA["rank"]
        lora = {"scale": LORA["alpha"] / r, "A": {}, "B": {}}
        for i in range(c["layers"]):
            for t in LORA["targets"]:
                key = f"bert.encoder.layer.{i}.{t}"
                lora["A"][key] = ((torch.rand(r, H, device=DEVICE) * 2 - 1) / H ** 0.5).requires_grad_(True)
                lora["B"][key] = torch.zeros(H, r, device=DEVICE).requires_grad_(True)
                trained[key + ".lora_A.weight"] = lora["A"][key]
                trained[key + ".lora_B.weight"] = lora["B"][key]
    nodecay = lambda k: not k.endswith(".weight") or "LayerNorm" in k
    decay = [v for k, v in trained.items() if not nodecay(k)]
    rest = [v for k, v in trained.items() if nodecay(k)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-4)
    times = []
    warm = 1 if MODEL == "encoder-base" else 2  # a BERT-base step takes seconds; its first is the slow one
    amp = PRECISION != "no"
    dtype = torch.float16 if PRECISION == "fp16" else torch.bfloat16
    scaler = torch.amp.GradScaler(DEVICE, enabled=PRECISION == "fp16")
    for s in range(steps + warm):
        t0 = time.perf_counter()
        opt.zero_grad()
        with torch.autocast(DEVICE, dtype=dtype, enabled=amp):
            logits = bert_token_logits(P, c, ids, mask, training=True, lora=lora)
            loss = F.cross_entropy(logits.float(), labels.reshape(-1), ignore_index=-100)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(list(trained.values()), 1.0)
        scaler.step(opt)
        scaler.update()
        sync(torch)
        if s >= warm:
            times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"ms_per_step": statistics.median(times), **peak_mb(torch), "loss": float(loss),
                      "trained": sum(v.numel() for v in trained.values()), "torch": torch.__version__}))


def evaluate(threads, B, runs):
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
    from torch_models import bert_params, bert_token_logits
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = CONFIGS[MODEL]
    c, T = cfg["model"], cfg["seq"]
    P = {k: (v * 0.1).to(DEVICE) for k, v in bert_params(c).items()}
    ids, mask, _ = (t.to(DEVICE) for t in encoder_batch(torch, c, B, T, full_mask=True))
    times = []
    with torch.no_grad():
        for s in range(runs + 1):
            t0 = time.perf_counter()
            logits = bert_token_logits(P, c, ids, mask, training=False).cpu()
            if s >= 1:
                times.append(time.perf_counter() - t0)
    sec = statistics.median(times)
    print(json.dumps({"tokens_per_s": B * T / sec, "ms_per_batch": sec * 1000, **peak_mb(torch),
                      "checksum": float(logits.double().abs().sum())}))


# --- data: a plain-Python peer of readConll + encodeTokenSentences -------------------------------

def _is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def normalize(text, lowercase=True):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
            continue
        if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif _is_cjk(cp):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    s = "".join(out)
    if lowercase:  # BertNormalizer: strip_accents follows lowercase
        s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn").lower()
    return s


def pre_tokenize(text):
    pieces = []
    for w in text.split():
        cur = []
        for ch in w:
            if _is_punct(ch):
                if cur:
                    pieces.append("".join(cur))
                    cur = []
                pieces.append(ch)
            else:
                cur.append(ch)
        if cur:
            pieces.append("".join(cur))
    return pieces


def wordpiece(word, vocab, unk, max_chars=100):
    if len(word) > max_chars:
        return [unk]
    ids, start = [], 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            sub = word[start:end] if start == 0 else "##" + word[start:end]
            if sub in vocab:
                found = vocab[sub]
                break
            end -= 1
        if found is None:
            return [unk]
        ids.append(found)
        start = end
    return ids


def data(conll, vocab_file, max_length):
    t0 = time.perf_counter()
    vocab = {}
    with open(vocab_file, encoding="utf-8") as f:
        for i, line in enumerate(f):
            vocab.setdefault(line.rstrip("\n"), i)
    unk, cls, sep = vocab["[UNK]"], vocab["[CLS]"], vocab["[SEP]"]
    t1 = time.perf_counter()
    sentences, words, tags = [], [], []
    with open(conll, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if not fields:
                if words:
                    sentences.append((words, tags))
                    words, tags = [], []
                continue
            if fields[0] == "-DOCSTART-":
                continue
            words.append(fields[0])
            tags.append(fields[-1])
    if words:
        sentences.append((words, tags))
    label_ids = {}
    budget = max_length - 2
    features, tokens, checksum = [], 0, 0
    for words, tags in sentences:
        ids, labels = [cls], [-100]
        for w, t in zip(words, tags):
            tokens += 1
            pieces = []
            for p in pre_tokenize(normalize(w)):
                pieces.extend(wordpiece(p, vocab, unk))
            if not pieces:
                pieces = [unk]
            if len(ids) - 1 + len(pieces) > budget:  # truncate (the benchmark's sentences all fit)
                break
            lab = label_ids.setdefault(t, len(label_ids))
            ids.extend(pieces)
            labels.extend([lab] + [-100] * (len(pieces) - 1))
        ids.append(sep)
        labels.append(-100)
        features.append((ids, [1] * len(ids), labels))
        for i in ids:
            checksum = (checksum * 31 + i) % 1000000007
    t2 = time.perf_counter()
    print(json.dumps({"tokens": tokens, "sentences": len(sentences), "features": len(features), "seconds": t2 - t1,
                      "tokens_per_s": tokens / (t2 - t1), "vocab_s": t1 - t0, "peak_rss_mb": rss_mb(), "checksum": checksum}))


def matmul(threads, M, K, N, runs):
    import torch
    torch.set_num_threads(threads)
    x = torch.rand(M, K) - 0.5
    w = torch.rand(K, N) - 0.5
    times = []
    for s in range(runs + 1):
        t0 = time.perf_counter()
        torch.matmul(x, w)
        if s >= 1:
            times.append(time.perf_counter() - t0)
    print(json.dumps({"gflops": 2 * M * K * N / statistics.median(times) / 1e9, "peak_rss_mb": rss_mb(), "torch": torch.__version__}))


def real(conll, meta_file, threads):
    """The peer of the real-length row (bench/reallength.ts): the CoNLL sentences as token ids
    ([CLS] words [SEP], one token per word), shuffled, batches of `batch` each padded to its
    longest sequence (DataCollatorForTokenClassification's padding), one epoch of AdamW steps
    with clipping on the same BERT; tokens/s over the training loop, and the padding share."""
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
    from torch_models import bert_params, bert_token_logits
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    meta = json.load(open(meta_file))
    m = meta["model"]
    c = {"vocabSize": meta["vocabSize"], "hidden": m["hidden"], "layers": m["layers"], "heads": m["heads"],
         "intermediate": m["intermediate"], "maxPositions": meta["maxLength"], "typeVocabSize": 2, "layerNormEps": 1e-12,
         "hiddenDropout": 0.1, "attentionDropout": 0.1, "numLabels": meta["numLabels"]}
    vocab, labels, sentences, words, tags = {}, {}, [], [], []
    with open(conll, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if not fields:
                if words:
                    sentences.append(([1] + [5 + vocab.setdefault(w, len(vocab)) % (c["vocabSize"] - 5) for w in words] + [2],
                                      [-100] + [labels.setdefault(t, len(labels)) for t in tags] + [-100]))
                    words, tags = [], []
                continue
            words.append(fields[0])
            tags.append(fields[-1])
    B = meta["batch"]
    order = torch.randperm(len(sentences), generator=torch.Generator().manual_seed(meta["seed"])).tolist()
    batches = []
    for s in range(0, len(order), B):
        part = [sentences[i] for i in order[s:s + B]]
        T = max(len(ids) for ids, _ in part)
        ids = torch.zeros(len(part), T, dtype=torch.long)
        mask = torch.zeros(len(part), T, dtype=torch.long)
        lab = torch.full((len(part), T), -100, dtype=torch.long)
        for r, (x, y) in enumerate(part):
            ids[r, :len(x)] = torch.tensor(x)
            mask[r, :len(x)] = 1
            lab[r, :len(y)] = torch.tensor(y)
        batches.append((ids, mask, lab))
    P = {k: (v * 0.1).requires_grad_(True) for k, v in bert_params(c).items()}
    nodecay = lambda k: not k.endswith(".weight") or "LayerNorm" in k
    opt = torch.optim.AdamW([{"params": [v for k, v in P.items() if not nodecay(k)], "weight_decay": 0.01},
                             {"params": [v for k, v in P.items() if nodecay(k)], "weight_decay": 0.0}], lr=5e-5)
    t0 = time.perf_counter()
    for ids, mask, lab in batches:
        opt.zero_grad()
        logits = bert_token_logits(P, c, ids, mask, training=True)
        loss = F.cross_entropy(logits, lab.reshape(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        opt.step()
    seconds = time.perf_counter() - t0
    tokens = sum(len(ids) for ids, _ in sentences)
    computed = sum(b[0].numel() for b in batches)
    print(json.dumps({"tokens_per_s": tokens / seconds, "seconds": seconds, "steps": len(batches), "tokens": tokens,
                      "padding": 1 - tokens / computed, "peak_rss_mb": rss_mb(), "loss": float(loss)}))


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "train":
        train(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif kind == "eval":
        evaluate(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif kind == "data":
        data(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif kind == "matmul":
        matmul(*(int(a) for a in sys.argv[2:7]))
    elif kind == "real":
        real(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(f"unknown measurement {kind}")
