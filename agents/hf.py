"""HFAgent: a local Hugging Face checkpoint directory as a turngym agent.

The conversation is rendered with the tokenizer's own chat template, tools passed as ``tools=``;
the model writes tool calls as text (``<tool_call>`` blocks), which the env parses. Episodes
that run at the same time are batched: :meth:`HFAgent.act_batch` left-pads their prompts and
samples every reply in one ``generate`` call.

Token-safe history: each agent keeps the token ids its model has read and written, and only ever
appends to them — the ids it generated (stop token included) and then the env's answer, rendered
by the template as the text the template adds after the reply. So the prompt of turn ``t`` is a
token prefix of the prompt of turn ``t + 1``, even when re-tokenising the whole text would split
differently. A template that rewrites earlier turns (e.g. one that drops old reasoning) cannot
keep this; the agent then still appends, and logs once that the template disagrees.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym

from turngym.agents.base import Action, Agent, TurnUsage
from turngym.agents.chat import ChatAgent

logger = logging.getLogger(__name__)
_warned_template = False
ATTENTION_BYTES = 1 << 30  # the most attention-score memory one generate call may need


class _Model:
    """A loaded tokenizer and model, shared by every fork (one batch at a time)."""

    def __init__(self, path: str | Path, device: str, dtype: str | None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(path)
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"{path} is not a Hugging Face checkpoint directory (no config.json)")
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if self.tokenizer.chat_template is None:
            raise ValueError(f"the tokenizer in {path} has no chat_template: HFAgent needs one")
        options = {"dtype": getattr(torch, dtype)} if dtype else {}  # default: the checkpoint's own
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, **options).to(device)
        self.model.eval()
        self.device = device
        self.eos_ids = _stop_ids(self.tokenizer, self.model)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_ids[0]
        self.max_positions = getattr(self.model.config, "max_position_embeddings", None)
        self.heads = getattr(self.model.config, "num_attention_heads", 32)
        self.lock = threading.Lock()

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], generation_prompt: bool) -> str:
        return self.tokenizer.apply_chat_template(
            messages, tools=tools or None, add_generation_prompt=generation_prompt, tokenize=False
        )

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def generate(
        self, prompts: list[list[int]], caps: list[int], sampling: dict[str, Any], seed: int | None
    ) -> list[list[int]]:
        """Sample one continuation per prompt; each ends at a stop token or its cap.

        Prompts of similar length are batched together, in batches whose attention scores fit
        in ``ATTENTION_BYTES`` (a CPU prefill over padded prompts materialises batch × heads ×
        length² of them).
        """
        width = max(len(p) for p in prompts)
        if self.max_positions and width + max(caps) > self.max_positions:
            raise ValueError(
                f"the conversation ({width} tokens) plus a reply would exceed the model's "
                f"{self.max_positions} positions"
            )
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        replies: dict[int, list[int]] = {}
        with self.lock, self.torch.inference_mode():
            if seed is not None:
                self.torch.manual_seed(seed)
            for chunk in self._chunks(order, prompts, max(caps)):
                outs = self._generate([prompts[i] for i in chunk], [caps[i] for i in chunk], sampling)
                replies.update(zip(chunk, outs))
        return [replies[i] for i in range(len(prompts))]

    def _chunks(self, order: list[int], prompts: list[list[int]], cap: int) -> Iterator[list[int]]:
        """Consecutive runs of ``order`` (shortest prompt first) within the attention memory."""
        chunk: list[int] = []
        for i in order:
            scores = (len(chunk) + 1) * self.heads * 4 * (len(prompts[i]) + cap) ** 2  # float32
            if chunk and scores > ATTENTION_BYTES:
                yield chunk
                chunk = []
            chunk.append(i)
        if chunk:
            yield chunk

    def _generate(self, prompts: list[list[int]], caps: list[int], sampling: dict[str, Any]) -> list[list[int]]:
        torch = self.torch
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):  # left padding: every prompt ends at the same column
            ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
            mask[row, width - len(prompt) :] = 1
        out = self.model.generate(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            max_new_tokens=max(caps),
            eos_token_id=self.eos_ids,
            pad_token_id=self.pad_id,
            **sampling,
        )
        replies = []
        for row, cap in enumerate(caps):
            new = out[row, width:].tolist()[:cap]
            stop = next((i for i, t in enumerate(new) if t in self.eos_ids), None)
            replies.append(new if stop is None else new[: stop + 1])
        return replies


def _stop_ids(tokenizer: Any, model: Any) -> list[int]:
    ids = model.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    if not ids:
        raise ValueError("the checkpoint defines no end-of-sequence token")
    return ids


class HFAgent(ChatAgent):
    """A local causal LM, sampled through its chat template (see the module docstring)."""

    batched = True

    def __init__(
        self,
        path: str | Path,
        *,
        temperature: float = 0.7,
        top_p: float = 1.0,
        top_k: int | None = None,
        max_tokens: int = 256,
        device: str = "cpu",
        dtype: str | None = None,
    ):
        super().__init__(max_tokens=max_tokens)
        self.path = Path(path)
        self.name = f"hf:{self.path.name}"
        self.sampling: dict[str, Any] = {"do_sample": temperature > 0}
        if temperature > 0:
            self.sampling.update(temperature=temperature, top_p=top_p)
            if top_k is not None:
                self.sampling["top_k"] = top_k
        self._model = _Model(self.path, device, dtype)
        self.ids: list[int] = []
        self._text = ""  # the text the ids stand for, as the template renders it
        self._rendered_upto = 0  # messages already in self.ids

    def _start(self, info: dict[str, Any], seed: int | None) -> None:
        super()._start(info, seed)
        self.ids, self._text, self._rendered_upto = [], "", 0

    def _complete(self) -> tuple[dict[str, Any], TurnUsage]:
        return _complete_batch([self])[0]

    @classmethod
    def act_batch(
        cls, agents: Sequence[Agent], observations: Sequence[str], infos: Sequence[dict[str, Any]]
    ) -> list[Action]:
        chats = [agent for agent in agents if isinstance(agent, HFAgent)]
        if len(chats) != len(agents) or any(a._model is not chats[0]._model for a in chats):
            raise ValueError("HFAgent.act_batch takes forks of one HFAgent")
        for agent, obs, info in zip(chats, observations, infos):
            agent.observe(obs, info)
        replies = _complete_batch(chats)
        return [agent.record(message, usage) for agent, (message, usage) in zip(chats, replies)]

    def record(self, message: dict[str, Any], usage: TurnUsage) -> Action:
        action = super().record(message, usage)
        self._rendered_upto = len(self.conversation.messages) if self.conversation else 0
        return action

    # ------------------------------------------------------------------ token-safe prompt
    def _sync_prompt(self) -> None:
        """Append the tokens of the messages added since the last reply, and a generation prompt."""
        conversation = self.conversation
        assert conversation is not None
        model = self._model
        full = model.render(conversation.messages, conversation.tools, generation_prompt=True)
        if not self.ids:
            self._append(full)
            return
        shown = model.render(conversation.messages[: self._rendered_upto], conversation.tools, generation_prompt=False)
        if full.startswith(shown):
            new_part = full[len(shown) :]
        else:
            _warn_template_rewrites(self.path)
            new_part = full[_common_prefix(shown, full) :]
        # The template closes the reply with text the model did not write (e.g. "\n", or the
        # stop token when the reply hit its cap). If the model wrote something the template
        # shows differently (a stray special token), there is no such tail to add.
        tail = shown[len(self._text) :] if shown.startswith(self._text) else ""
        self._append(tail + new_part)

    def _append(self, text: str) -> None:
        self.ids = self.ids + self._model.encode(text)
        self._text += text

    def _add_reply_tokens(self, new: list[int]) -> str:
        self.ids = self.ids + new
        with_special = self._model.tokenizer.decode(new, skip_special_tokens=False)
        self._text += with_special
        return self._model.tokenizer.decode(new, skip_special_tokens=True)

    def fork(self, env: gym.Env | None = None) -> HFAgent:
        clone = copy.copy(self)  # shares the loaded model
        clone.usage, clone.conversation, clone._replied = [], None, False
        clone.ids, clone._text, clone._rendered_upto = [], "", 0
        return clone


def _complete_batch(agents: list[HFAgent]) -> list[tuple[dict[str, Any], TurnUsage]]:
    for agent in agents:
        agent._sync_prompt()
    prompts = [agent.ids for agent in agents]
    seeds = [a.seed for a in agents if a.seed is not None]
    seed = (sum(seeds) + 7919 * len(agents[0].usage)) % 2**31 if seeds else None
    model = agents[0]._model
    replies = model.generate(prompts, [a.cap for a in agents], agents[0].sampling, seed)
    out = []
    for agent, prompt, new in zip(agents, prompts, replies):
        text = agent._add_reply_tokens(new)
        out.append(({"role": "assistant", "content": text}, TurnUsage(len(prompt), len(new))))
    return out


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _warn_template_rewrites(path: Path) -> None:
    global _warned_template
    if not _warned_template:
        _warned_template = True
        logger.warning(
            "the chat template of %s renders earlier turns differently from what the model read; "
            "the agent keeps appending tokens (the history stays a prefix) but no longer matches "
            "the template exactly",
            path,
        )
