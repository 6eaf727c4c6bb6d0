"""Tiny "pretrained" checkpoints made by Transformers itself, as the Hub has them: BERT (cased
WordPiece), DistilBERT (uncased WordPiece) and RoBERTa (byte-level BPE), each a masked-LM model
saved with save_pretrained next to a real `tokenizers` tokenizer (the committed tiny tokenizers of
test/fixtures/tokenizers, loaded and re-saved by AutoTokenizer). Our trainer fine-tunes these.

usage: python pretrained.py OUT_DIR   (writes OUT_DIR/{bert,distilbert,roberta})
"""

import json
import sys
from pathlib import Path

import torch
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    DistilBertConfig,
    DistilBertForMaskedLM,
    RobertaConfig,
    RobertaForMaskedLM,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tokenizers"
H, LAYERS, HEADS, FFN, POSITIONS = 32, 2, 2, 64, 128


def main(out: Path) -> None:
    torch.manual_seed(0)
    made = {}
    for name, tokenizer_dir in [("bert", "bert-cased/json"), ("distilbert", "bert-uncased/json"), ("roberta", "roberta/json-prefix-space")]:
        tok = AutoTokenizer.from_pretrained(FIXTURES / tokenizer_dir)
        vocab = len(tok)
        if name == "bert":
            model = BertForMaskedLM(BertConfig(vocab_size=vocab, hidden_size=H, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                                               intermediate_size=FFN, max_position_embeddings=POSITIONS, pad_token_id=tok.pad_token_id))
        elif name == "distilbert":
            model = DistilBertForMaskedLM(DistilBertConfig(vocab_size=vocab, dim=H, n_layers=LAYERS, n_heads=HEADS, hidden_dim=FFN,
                                                           max_position_embeddings=POSITIONS, pad_token_id=tok.pad_token_id))
        else:
            model = RobertaForMaskedLM(RobertaConfig(vocab_size=vocab, hidden_size=H, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                                                     intermediate_size=FFN, max_position_embeddings=POSITIONS + 2, type_vocab_size=1,
                                                     pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id))
        # Weights of a realistic scale (a random init's are ~0.02): the classifier's logits then
        # differ enough between tokens for predictions to mean something after a few steps.
        with torch.no_grad():
            for n, p in model.named_parameters():
                if p.dim() == 2:
                    p.normal_(0, 0.2)
        model.save_pretrained(out / name)
        tok.save_pretrained(out / name)
        made[name] = sorted(f.name for f in (out / name).iterdir())
    print(json.dumps(made))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
