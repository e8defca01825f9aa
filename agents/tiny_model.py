"""A tiny, randomly initialised chat checkpoint, built offline in a second.

It exists so the Hugging Face path (tokenizer chat template with tools, batched sampling, token
accounting) runs end to end on a machine with no model downloads: ``make run`` puts one under
``results/`` as a third baseline, and the tests build one in a temporary directory. It writes
noise, so it does not win; it must run and spend tokens honestly.

The tokenizer is a byte-level BPE trained on a few strings (every byte is in its alphabet, so any
text encodes), wrapped in ``PreTrainedTokenizerFast`` with a ChatML template that renders tools.
The model is a Qwen2 decoder with hidden size 32 and 2 layers.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

# HF renders templates with trim_blocks, so every newline is written as an expression.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message.role == 'system' and loop.first %}"
    "{{ '<|im_start|>system\\n' + message.content }}"
    "{% if tools %}{{ '\\n\\n# Tools\\n<tools>' }}"
    "{% for tool in tools %}{{ '\\n' + (tool | tojson) }}{% endfor %}{{ '\\n</tools>' }}{% endif %}"
    "{{ '<|im_end|>\\n' }}"
    "{% elif message.role == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' + (message.content or '') }}"
    "{% for call in message.tool_calls or [] %}"
    "{{ '\\n<tool_call>\\n{\"name\": \"' + call.function.name + '\", \"arguments\": ' + call.function.arguments + '}\\n</tool_call>' }}"
    "{% endfor %}{{ '<|im_end|>\\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message.role + '\\n' + (message.content or '') + '<|im_end|>\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = [
    "You are a careful assistant. Use the tools, then answer.",
    '<tool_call>\n{"name": "sql", "arguments": {"query": "SELECT name, SUM(total) FROM t GROUP BY 1"}}\n</tool_call>',
    '<tool_response name="add" id="call_0_0">\n42\n</tool_response>',
    "<answer>42</answer> <think>Let me think step by step.</think>",
    "Compute the total of the column for each row in the table, then report the answer.",
    '{"type": "function", "function": {"name": "get_balance", "parameters": {"type": "object"}}}',
]
TINY_SIZES = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


def build_tiny_checkpoint(path: str | Path, *, seed: int = 0, vocab_size: int = 512) -> Path:
    """Write a tiny random chat model and its tokenizer to ``path`` (a directory) and return it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    path = Path(path)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHAT_TEMPLATE,
        padding_side="left",
    )
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        max_position_embeddings=65536,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        **TINY_SIZES,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    logger.info("built a tiny random chat checkpoint in %s (%d parameters)", path, model.num_parameters())
    return path


def ensure_tiny_checkpoint(path: str | Path) -> Path:
    """The checkpoint at ``path``, built first if it is not there (e.g. on a fresh machine)."""
    path = Path(path)
    if not (path / "config.json").exists() or not (path / "tokenizer.json").exists():
        build_tiny_checkpoint(path)
    return path
