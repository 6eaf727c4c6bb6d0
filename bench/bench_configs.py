"""Benchmark model sizes (mirrored in bench/engine.ts; the bench checks they agree)."""
CONFIGS = {
    "mlp": {"sizes": [784, 1024, 1024, 10], "batch": 64},
    "encoder": {
        "batch": 16, "seq": 128,
        "model": {"vocabSize": 30522, "hidden": 256, "layers": 4, "heads": 4, "intermediate": 1024,
                  "maxPositions": 512, "typeVocabSize": 2, "layerNormEps": 1e-12,
                  "hiddenDropout": 0.1, "attentionDropout": 0.1, "numLabels": 9},
    },
    # bench/gpu.sh: BERT-base sizes from scratch (no pretrained download), seq 128, batch 32.
    "encoder-base": {
        "batch": 32, "seq": 128,
        "model": {"vocabSize": 30522, "hidden": 768, "layers": 12, "heads": 12, "intermediate": 3072,
                  "maxPositions": 512, "typeVocabSize": 2, "layerNormEps": 1e-12,
                  "hiddenDropout": 0.1, "attentionDropout": 0.1, "numLabels": 9},
    },
}
