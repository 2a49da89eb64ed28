#!/usr/bin/env python3
"""Golden TRL parity cases: TRL's own loss code on float64 tensors, written as pref conformance cases.

Runs the loss methods of TRL's trainers (GRPOTrainer._compute_loss, RLOOTrainer._compute_loss,
DPOTrainer._compute_loss, CPOTrainer.get_batch_loss_metrics, ORPOTrainer.get_batch_loss_metrics)
on trainer objects built without a model: the accelerator is a one-process stand-in, the policy's
per-token log-probs are a float64 leaf tensor, and where TRL runs a model forward the "model"
returns logits whose log-softmax at each label is exactly that leaf (label logit = l, the other
V−1 logits log((1 − e^l)/(V − 1)), so the log-sum-exp is 0). Gradients are TRL's autograd
gradients with respect to the per-token log-probs. No model or tokenizer is downloaded.

Usage:  python scripts/trl-golden/generate.py [--out conformance/trl]
Writes one pref-conformance/1 file per objective and prints the TRL and torch versions.
See conformance/trl/README.md.
"""

import argparse
import json
import math
import os
import sys
from collections import defaultdict
from types import SimpleNamespace

import numpy as np
import torch

import trl
from trl.trainer.grpo_trainer import GRPOTrainer
from trl.trainer.rloo_trainer import RLOOTrainer
from trl.trainer.dpo_trainer import DPOTrainer
from trl.trainer.kto_trainer import KTOTrainer
from trl.experimental.cpo.cpo_trainer import CPOTrainer
from trl.experimental.orpo.orpo_trainer import ORPOTrainer

torch.set_default_dtype(torch.float64)
VOCAB = 3
BATCHES = (0, 1)  # two random batches per configuration

# TRL calls `.float()` to upcast half-precision values (the high-entropy quantile, ORPO's odds ratio) and to
# turn 0/1 masks into numbers (RLOO's clip metrics); on float64 tensors that would be a downcast to float32.
# Keep those in float64, the precision of everything else here.
_tensor_float = torch.Tensor.float


def _float_keeping_float64(self, *args, **kwargs):
    if self.dtype in (torch.float64, torch.bool):
        return self.to(torch.float64)
    return _tensor_float(self, *args, **kwargs)


torch.Tensor.float = _float_keeping_float64


class OneProcess:
    """The accelerator as one process sees it: every collective is the identity."""

    num_processes = 1
    device = torch.device("cpu")
    sync_gradients = True

    def gather(self, x):
        return x

    gather_for_metrics = gather

    def reduce(self, x, reduction="sum"):
        return x

    def pad_across_processes(self, x, dim=0, pad_index=0):
        return x


def as_list(t):
    if isinstance(t, torch.Tensor):
        return t.detach().tolist()
    return t.tolist() if isinstance(t, np.ndarray) else t


def logits_from_logps(logps):
    """[..., L] log-probs (< 0) → [..., L, V] logits whose log-softmax at label 0 is exactly `logps`."""
    rest = torch.log(-torch.expm1(logps) / (VOCAB - 1)).unsqueeze(-1).expand(*logps.shape, VOCAB - 1)
    return torch.cat([logps.unsqueeze(-1), rest], dim=-1)


class LogitsModel:
    """Stands in for a causal LM: position j's logits score token j + 1 with log-prob `logps[:, j]`."""

    training = False

    def __init__(self, logps):
        self.logps = logps

    def __call__(self, *args, **kwargs):
        logits = logits_from_logps(self.logps)
        last = torch.zeros(logits.shape[0], 1, VOCAB, dtype=logits.dtype)
        return SimpleNamespace(logits=torch.cat([logits, last], dim=1), aux_loss=None)



def random_lengths(rng, rows, steps):
    return rng.integers(1, steps + 1, size=rows)


def mask_from_lengths(lengths, steps):
    return np.array([[1.0 if t < n else 0.0 for t in range(steps)] for n in lengths])


def logps_like(rng, shape, low=-3.0, high=-0.05):
    return rng.uniform(low, high, size=shape)


# ---------------------------------------------------------------------------------------------- GRPO

GRPO_TRL_ATTRIBUTE = {
    "lossType": "loss_type", "beta": "beta", "maxCompletionLength": "max_completion_length",
    "importanceSampling": "importance_sampling_level", "topEntropyQuantile": "top_entropy_quantile",
    "entropyCoef": "entropy_coef", "offPolicyMaskThreshold": "off_policy_mask_threshold",
}
GRPO_TRL_ARG = {
    "useBiasCorrectionKl": "use_bias_correction_kl", "delta": "delta",
    "sapoTemperaturePos": "sapo_temperature_pos", "sapoTemperatureNeg": "sapo_temperature_neg",
    "vespoKPos": "vespo_k_pos", "vespoLambdaPos": "vespo_lambda_pos", "vespoKNeg": "vespo_k_neg", "vespoLambdaNeg": "vespo_lambda_neg",
}
GRPO_DEFAULTS = {
    "epsilon": 0.2, "epsilonHigh": None, "delta": None, "beta": 0.0, "useBiasCorrectionKl": True, "lossType": "dapo",
    "maxCompletionLength": 512, "importanceSampling": "token", "sapoTemperaturePos": 1.0, "sapoTemperatureNeg": 1.05,
    "vespoKPos": 2.0, "vespoLambdaPos": 3.0, "vespoKNeg": 3.0, "vespoLambdaNeg": 2.0, "topEntropyQuantile": 1.0,
    "entropyCoef": 0.0, "maskTruncatedCompletions": False, "vllmImportanceSamplingCorrection": True,
    "vllmImportanceSamplingMode": "sequence_mask", "vllmImportanceSamplingClipMax": 3.0, "vllmImportanceSamplingClipMin": None,
    "offPolicyMaskThreshold": None,
}

GRPO_CONFIGS = [
    ("dapo", {}),
    ("grpo", {"lossType": "grpo"}),
    ("bnpo", {"lossType": "bnpo"}),
    ("dr_grpo", {"lossType": "dr_grpo", "maxCompletionLength": 16}),
    ("clip-higher", {"lossType": "dapo", "epsilonHigh": 0.28}),
    ("gspo", {"lossType": "grpo", "importanceSampling": "sequence", "epsilon": 3e-4, "epsilonHigh": 4e-4}),
    ("sequence-dapo", {"importanceSampling": "sequence"}),
    ("cispo-default", {"lossType": "cispo"}),
    ("cispo-5", {"lossType": "cispo", "epsilonHigh": 5.0}),
    ("sapo", {"lossType": "sapo"}),
    ("sapo-temperatures", {"lossType": "sapo", "sapoTemperaturePos": 0.5, "sapoTemperatureNeg": 2.0}),
    ("luspo", {"lossType": "luspo", "importanceSampling": "sequence"}),
    ("luspo-token", {"lossType": "luspo"}),
    ("vespo", {"lossType": "vespo"}),
    ("vespo-shape", {"lossType": "vespo", "vespoKPos": 1.5, "vespoLambdaPos": 2.5, "vespoKNeg": 2.5, "vespoLambdaNeg": 1.5}),
    ("delta", {"lossType": "dapo", "delta": 1.1}),
    ("delta-grpo", {"lossType": "grpo", "delta": 1.25, "epsilonHigh": 0.1}),
    ("kl-bias-corrected", {"beta": 0.04}),
    ("kl-plain", {"beta": 0.04, "useBiasCorrectionKl": False}),
    ("kl-sequence", {"beta": 0.1, "importanceSampling": "sequence", "lossType": "grpo"}),
    ("kl-cispo", {"beta": 0.04, "lossType": "cispo", "epsilonHigh": 5.0}),
    ("top-entropy-0.2", {"topEntropyQuantile": 0.2}),
    ("top-entropy-0.5-grpo", {"topEntropyQuantile": 0.5, "lossType": "grpo"}),
    ("entropy-bonus", {"entropyCoef": 0.01}),
    ("entropy-bonus-top", {"entropyCoef": 0.05, "topEntropyQuantile": 0.3, "lossType": "bnpo"}),
    ("truncated-dapo", {"maskTruncatedCompletions": True}),
    ("truncated-grpo", {"maskTruncatedCompletions": True, "lossType": "grpo"}),
    ("truncated-top-entropy", {"maskTruncatedCompletions": True, "topEntropyQuantile": 0.4, "entropyCoef": 0.02}),
    ("sampler-sequence-mask", {"sampler": True}),
    ("sampler-sequence-truncate", {"sampler": True, "vllmImportanceSamplingMode": "sequence_truncate", "vllmImportanceSamplingClipMax": 1.5}),
    ("sampler-token-truncate", {"sampler": True, "vllmImportanceSamplingMode": "token_truncate", "vllmImportanceSamplingClipMax": 1.2, "vllmImportanceSamplingClipMin": 0.8}),
    ("sampler-token-mask", {"sampler": True, "vllmImportanceSamplingMode": "token_mask", "vllmImportanceSamplingClipMax": 1.2, "vllmImportanceSamplingClipMin": 0.8}),
    ("sampler-kl", {"sampler": True, "beta": 0.04, "lossType": "grpo"}),
    ("sampler-vespo-token-truncate", {"sampler": True, "lossType": "vespo", "vllmImportanceSamplingMode": "token_truncate"}),
    ("sampler-vespo-token-mask", {"sampler": True, "lossType": "vespo", "vllmImportanceSamplingMode": "token_mask", "vllmImportanceSamplingClipMin": 0.8}),
    ("sampler-cispo", {"sampler": True, "lossType": "cispo", "epsilonHigh": 5.0, "vllmImportanceSamplingMode": "token_truncate"}),
    ("off-policy-mask", {"offPolicyMaskThreshold": 0.02}),
    ("off-policy-mask-sampler", {"sampler": True, "offPolicyMaskThreshold": 0.05, "vllmImportanceSamplingClipMax": 10.0}),
]

GRPO_METRICS = [
    "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "cispo_clip_ratio", "vespo/phi_seq_mean",
    "kl", "entropy", "policy_loss",
]


def sampler_importance_ratio(old, sampler, mask, mode, clip_min, clip_max):
    """TRL 1.13 grpo_trainer.py _generate_and_score_completions, the vLLM importance-sampling block, transcribed
    (it sits inside the generation method, which needs a model and a sampler to call)."""
    diff = torch.nan_to_num((old - sampler) * mask, nan=0.0)
    sequence_level = mode in ["sequence_mask", "sequence_truncate"]
    ratio = torch.exp(diff.sum(dim=-1, keepdim=True) if sequence_level else diff)
    if mode in ["sequence_truncate", "token_truncate"]:
        ratio = torch.clamp(ratio, min=clip_min, max=clip_max)
    else:
        low = clip_min if clip_min is not None else -math.inf
        high = clip_max if clip_max is not None else math.inf
        ratio = ratio.masked_fill((ratio < low) | (ratio > high), value=0.0)
    flat = ratio.flatten() if sequence_level else ratio[mask.bool()]
    delta = torch.abs(old - sampler)[mask.bool()]
    return ratio, {"sampling/importance_sampling_ratio/mean": flat.mean().item(), "sampling/sampling_logp_difference/mean": delta.mean().item()}


def quantile_position_is_safe(entropies, mask, quantile):
    """The batch keeps clear of order-statistic ties and integer positions, where float rounding decides."""
    counted = np.sort(entropies[mask == 1])
    position = (len(counted) - 1) * (1 - quantile)
    return abs(position - round(position)) > 1e-6 and np.min(np.diff(counted)) > 1e-9


def grpo_batch(rng, config, off_policy):
    rows, steps = 6, 5
    while True:
        lengths = random_lengths(rng, rows, steps)
        mask = mask_from_lengths(lengths, steps)
        entropies = rng.uniform(0.05, 3.0, size=(rows, steps))
        truncated = (rng.uniform(size=rows) < 0.35).astype(float)
        truncated[0] = 0.0
        effective = mask * (1 - truncated)[:, None] if config.get("maskTruncatedCompletions") else mask
        quantile = config.get("topEntropyQuantile", 1.0)
        if quantile >= 1.0 or quantile_position_is_safe(entropies, effective, quantile):
            break
    logps = logps_like(rng, (rows, steps))
    batch = {"logps": logps, "mask": mask, "advantages": rng.normal(size=rows)}
    if off_policy:
        batch["oldLogps"] = np.minimum(logps + rng.uniform(-0.4, 0.4, size=(rows, steps)), -1e-3)
    if config.get("beta", 0) > 0:
        batch["refLogps"] = np.minimum(logps + rng.uniform(-0.8, 0.8, size=(rows, steps)), -1e-3)
    if config.get("topEntropyQuantile", 1.0) < 1 or config.get("entropyCoef", 0) != 0 or config.get("entropyInput"):
        batch["entropies"] = entropies
    if config.get("maskTruncatedCompletions"):
        batch["truncated"] = truncated
    if config.get("sampler"):
        base = batch.get("oldLogps", logps)
        batch["samplerLogps"] = np.minimum(base + rng.uniform(-0.3, 0.3, size=(rows, steps)), -1e-3)
    return batch


def run_grpo(config, batch):
    p = {**GRPO_DEFAULTS, **{k: v for k, v in config.items() if k != "sampler"}}
    t = GRPOTrainer.__new__(GRPOTrainer)
    for name, attribute in GRPO_TRL_ATTRIBUTE.items():
        setattr(t, attribute, p[name])
    t.epsilon_low = p["epsilon"]
    t.epsilon_high = p["epsilonHigh"] if p["epsilonHigh"] is not None else p["epsilon"]
    t.args = SimpleNamespace(**{arg: p[name] for name, arg in GRPO_TRL_ARG.items()}, steps_per_generation=1, entropy_target=0.2)
    t._entropy_bonus_enabled = p["entropyCoef"] != 0.0
    t.use_adaptive_entropy = False
    t.aux_loss_enabled = False
    t.use_vllm = "samplerLogps" in batch
    t.vllm_importance_sampling_correction = p["vllmImportanceSamplingCorrection"]
    t.current_gradient_accumulation_steps = 1
    t.accelerator = OneProcess()
    t.model = SimpleNamespace(training=False)
    t._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}

    logps = torch.tensor(batch["logps"], requires_grad=True)
    mask = torch.tensor(batch["mask"])
    if p["maskTruncatedCompletions"]:  # as _generate_and_score_completions does
        mask = mask * (1 - torch.tensor(batch["truncated"])).unsqueeze(1)
    entropies = torch.tensor(batch["entropies"]) if "entropies" in batch else torch.zeros_like(mask)
    t._get_per_token_logps_and_entropies = lambda *args, **kwargs: (logps, entropies, None)
    rows, steps = mask.shape
    inputs = {
        "prompt_ids": torch.zeros(rows, 0, dtype=torch.long), "prompt_mask": torch.zeros(rows, 0, dtype=torch.long),
        "completion_ids": torch.zeros(rows, steps, dtype=torch.long), "completion_mask": mask,
        "advantages": torch.tensor(batch["advantages"]), "num_items_in_batch": mask.sum(),
    }
    old = torch.tensor(batch["oldLogps"]) if "oldLogps" in batch else logps.detach()
    if "oldLogps" in batch:
        inputs["old_per_token_logps"] = old
    if "refLogps" in batch:
        inputs["ref_per_token_logps"] = torch.tensor(batch["refLogps"])
    extra = {}
    if "samplerLogps" in batch:
        sampler = torch.tensor(batch["samplerLogps"])
        inputs["sampling_per_token_logps"] = sampler
        inputs["old_per_token_logps"] = old
        if p["vllmImportanceSamplingCorrection"]:
            ratio, extra = sampler_importance_ratio(old, sampler, mask, p["vllmImportanceSamplingMode"], p["vllmImportanceSamplingClipMin"], p["vllmImportanceSamplingClipMax"])
            inputs["importance_sampling_ratio"] = ratio
    loss = t._compute_loss(None, inputs)
    loss.backward()
    logged = t._metrics["eval"]
    metrics = {name: logged[name][-1] for name in GRPO_METRICS if logged.get(name)}
    if "entropies" not in batch:
        metrics.pop("entropy")  # TRL logs the entropy of its forward; here there is none
    metrics.update(extra)
    return loss.item(), {"logps": as_list(logps.grad)}, metrics


# ---------------------------------------------------------------------------------------------- RLOO

RLOO_CONFIGS = [
    ("advantages", {}),
    ("epsilon-high", {"epsilonHigh": 0.28}),
    ("epsilon", {"epsilon": 0.1, "epsilonHigh": 0.3}),
    ("rewards-kl", {"beta": 0.05, "rewards": True}),
    ("rewards-kl-epsilon-high", {"beta": 0.2, "epsilonHigh": 0.25, "rewards": True}),
]


def rloo_batch(rng, config, off_policy):
    rows, steps, group = 6, 5, 3
    mask = mask_from_lengths(random_lengths(rng, rows, steps), steps)
    logps = logps_like(rng, (rows, steps))
    batch = {"logps": logps, "mask": mask}
    if off_policy:
        batch["oldLogps"] = np.minimum(logps + rng.uniform(-0.15, 0.15, size=(rows, steps)), -1e-3)
    if config.get("rewards"):
        batch["rewards"] = rng.integers(-2000, 2000, size=rows) / 1000
        batch["refLogps"] = np.minimum(logps + rng.uniform(-0.8, 0.8, size=(rows, steps)), -1e-3)
        batch["_groupSize"] = group
    else:
        batch["advantages"] = rng.normal(size=rows)
    return batch


def rloo_advantages(rewards, old, ref, mask, beta, group):
    """TRL 1.13 rloo_trainer.py _generate_and_score_completions, KL-in-reward and leave-one-out block,
    transcribed (normalize_advantages False, every reward scorable)."""
    per_token_kl = old - ref
    kl = (per_token_kl * mask).sum(-1)
    rewards = rewards - beta * kl
    grouped = rewards.view(-1, group)
    counts = (~torch.isnan(grouped)).sum(dim=1, keepdim=True)
    total = torch.nansum(grouped, dim=1, keepdim=True)
    baseline = (total - grouped) / (counts - 1)
    advantages = torch.nan_to_num((grouped - baseline).view(-1), nan=0.0)
    metric = ((per_token_kl * mask).sum() / mask.sum().clamp(min=1.0)).item()
    return advantages, metric


def run_rloo(config, batch):
    p = {"epsilon": 0.2, "epsilonHigh": None, "beta": 0.0, **{k: v for k, v in config.items() if k != "rewards"}}
    t = RLOOTrainer.__new__(RLOOTrainer)
    t.epsilon_low = p["epsilon"]
    t.epsilon_high = p["epsilonHigh"] if p["epsilonHigh"] is not None else p["epsilon"]
    t.aux_loss_enabled = False
    t.accelerator = OneProcess()
    t.model = SimpleNamespace(training=False)
    t._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    logps = torch.tensor(batch["logps"], requires_grad=True)
    mask = torch.tensor(batch["mask"])
    t._get_per_token_logps_and_entropies = lambda *args, **kwargs: (logps, torch.zeros_like(mask), None)
    old = torch.tensor(batch["oldLogps"]) if "oldLogps" in batch else logps.detach()
    metrics = {}
    if "rewards" in batch:
        advantages, metrics["kl"] = rloo_advantages(torch.tensor(batch["rewards"]), old, torch.tensor(batch["refLogps"]), mask, p["beta"], batch["_groupSize"])
    else:
        advantages = torch.tensor(batch["advantages"])
    rows, steps = mask.shape
    inputs = {
        "prompt_ids": torch.zeros(rows, 0, dtype=torch.long), "prompt_mask": torch.zeros(rows, 0, dtype=torch.long),
        "completion_ids": torch.zeros(rows, steps, dtype=torch.long), "completion_mask": mask,
        "old_logps": (old * mask).sum(1), "advantages": advantages,
    }
    loss = t._compute_loss(None, inputs)
    loss.backward()
    logged = t._metrics["eval"]
    for name in ["clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean"]:
        metrics[name] = logged[name][-1]
    return loss.item(), {"logps": as_list(logps.grad)}, metrics


# ------------------------------------------------------------------------------------------ pairwise

def pair_batch(rng, prompt=2, steps=5, rows=4, nll_mask=False):
    """Chosen and rejected rows as TRL lays them out: [BOS, prompt…, completion…, pad…], one sequence length.
    pref sees the log-probs of positions 1.. (the predicted tokens), the completion mask, and for ORPO the
    attention mask of those positions (chosenNllMask)."""
    length = 1 + prompt + steps
    out = {}
    for side in ("chosen", "rejected"):
        lengths = random_lengths(rng, rows, steps)
        attention = np.array([[1.0 if j < 1 + prompt + n else 0.0 for j in range(length)] for n in lengths])
        completion = np.array([[1.0 if 1 + prompt <= j < 1 + prompt + n else 0.0 for j in range(length)] for n in lengths])
        out[side] = {"logps": logps_like(rng, (rows, length - 1), -2.5, -0.02), "attention": attention, "completion": completion}
    return out


def pair_inputs(pairs, orpo=False):
    inputs = {}
    for side, v in pairs.items():
        inputs[f"{side}Logps"] = v["logps"]
        inputs[f"{side}Mask"] = v["completion"][:, 1:]
    if orpo:
        inputs["chosenNllMask"] = pairs["chosen"]["attention"][:, 1:]
    return inputs


def pair_leaf(pairs, dtype=torch.float64):
    return torch.tensor(np.concatenate([pairs["chosen"]["logps"], pairs["rejected"]["logps"]]), dtype=dtype, requires_grad=True)


def pair_grads(leaf, rows):
    g = leaf.grad
    return {"chosenLogps": as_list(g[:rows]), "rejectedLogps": as_list(g[rows:])}


PAIR_METRICS = ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected"]

DPO_CONFIGS = [
    ("sigmoid", {"lossType": "sigmoid"}),
    ("ipo", {"lossType": "ipo"}),
    ("sigmoid_norm", {"lossType": "sigmoid_norm"}),
    ("hinge", {"lossType": "hinge"}),
    ("robust", {"lossType": "robust", "labelSmoothing": 0.1}),
    ("exo_pair", {"lossType": "exo_pair", "labelSmoothing": 1e-3}),
    ("discopop", {"lossType": "discopop"}),
]
for divergence in ("forward_kl", "js_divergence"):
    for loss_type in ("sigmoid", "ipo", "sigmoid_norm", "hinge", "robust", "discopop"):
        extra = {"labelSmoothing": 0.1} if loss_type == "robust" else {}
        DPO_CONFIGS.append((f"{divergence}-{loss_type}", {"lossType": loss_type, "fDivergence": divergence, **extra}))


def run_dpo(config, pairs, refs, dtype=torch.float64):
    p = {"beta": 0.1, "labelSmoothing": 0.0, "fDivergence": "reverse_kl", "fAlphaCoef": 0.5, "discopopTau": 0.05, **config}
    rows = pairs["chosen"]["logps"].shape[0]
    t = DPOTrainer.__new__(DPOTrainer)
    t.beta, t.label_smoothing = p["beta"], p["labelSmoothing"]
    t.loss_types, t.loss_weights = [p["lossType"]], [1.0]
    t.f_divergence_type, t.f_alpha_divergence_coef = p["fDivergence"], p["fAlphaCoef"]
    t.args = SimpleNamespace(discopop_tau=p["discopopTau"])
    t.ld_alpha, t.use_weighting, t.precompute_ref_logps, t.aux_loss_enabled = None, False, True, False
    t.accelerator = OneProcess()
    leaf = pair_leaf(pairs, dtype)
    t.model = LogitsModel(leaf)
    t._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    t._total_train_tokens, t._tp_size = 0, 1
    attention = np.concatenate([pairs["chosen"]["attention"], pairs["rejected"]["attention"]])
    completion = np.concatenate([pairs["chosen"]["completion"], pairs["rejected"]["completion"]])
    inputs = {
        "input_ids": torch.zeros(attention.shape, dtype=torch.long), "attention_mask": torch.tensor(attention, dtype=torch.long),
        "completion_mask": torch.tensor(completion, dtype=torch.long),
        "ref_chosen_logps": torch.tensor(refs["chosen"], dtype=dtype), "ref_rejected_logps": torch.tensor(refs["rejected"], dtype=dtype),
    }
    loss = t._compute_loss(t.model, inputs, False)
    loss.backward()
    logged = t._metrics["eval"]
    return loss.item(), pair_grads(leaf, rows), {name: logged[name][-1] for name in PAIR_METRICS}


def trl_pair_batch(pairs):
    batch = {}
    for side, v in pairs.items():
        labels = np.where(np.concatenate([np.zeros((v["completion"].shape[0], 1)), v["completion"][:, 1:]], axis=1) == 1, 0, -100)
        batch[f"{side}_input_ids"] = torch.zeros(v["attention"].shape, dtype=torch.long)
        batch[f"{side}_attention_mask"] = torch.tensor(v["attention"], dtype=torch.long)
        batch[f"{side}_labels"] = torch.tensor(labels, dtype=torch.long)
    return batch


# TRL 1.13 computes the alpha-divergence exponent in float32 and has no float64 cap (KeyError for float64
# tensors): these cases run TRL in float32 on float32-representable inputs, into dpo-float32.json, which the
# tests compare at the float32 tolerance.
DPO_FLOAT32_CONFIGS = [
    (f"alpha_divergence-{alpha}-{loss_type}", {"lossType": loss_type, "fDivergence": "alpha_divergence", "fAlphaCoef": alpha})
    for alpha in (0.5, -0.5)
    for loss_type in ("sigmoid", "ipo", "sigmoid_norm", "hinge")
]


def float32_values(pairs, refs):
    for side in pairs.values():
        side["logps"] = side["logps"].astype(np.float32).astype(np.float64)
    return {k: v.astype(np.float32).astype(np.float64) for k, v in refs.items()}


CPO_CONFIGS = [
    ("sigmoid", {"lossType": "sigmoid"}),
    ("sigmoid-smoothing", {"lossType": "sigmoid", "labelSmoothing": 0.1}),
    ("hinge", {"lossType": "hinge"}),
    ("ipo", {"lossType": "ipo"}),
    ("simpo", {"lossType": "simpo", "beta": 2.0, "gamma": 1.0, "cpoAlpha": 0.0}),
    ("alphapo", {"lossType": "simpo", "alpha": 0.25, "beta": 2.5, "gamma": 0.1, "cpoAlpha": 0.0}),
    ("alphapo-sigmoid-nll", {"lossType": "sigmoid", "alpha": 0.5}),
    ("no-nll", {"lossType": "sigmoid", "cpoAlpha": 0.0}),
]


def run_cpo(config, pairs):
    p = {"beta": 0.1, "labelSmoothing": 0.0, "gamma": 0.5, "alpha": 0.0, "cpoAlpha": 1.0, **config}
    rows = pairs["chosen"]["logps"].shape[0]
    t = CPOTrainer.__new__(CPOTrainer)
    t.beta, t.label_smoothing, t.simpo_gamma, t.alpha, t.cpo_alpha = p["beta"], p["labelSmoothing"], p["gamma"], p["alpha"], p["cpoAlpha"]
    t.loss_type, t.is_encoder_decoder, t.aux_loss_enabled, t.pad_token_id = p["lossType"], False, False, 0
    t.accelerator = OneProcess()
    leaf = pair_leaf(pairs)
    loss, metrics = t.get_batch_loss_metrics(LogitsModel(leaf), trl_pair_batch(pairs), train_eval="eval")
    loss.backward()
    names = PAIR_METRICS + ["nll_loss"]
    return loss.item(), pair_grads(leaf, rows), {name: metrics[f"eval_{name}"] for name in names}


ORPO_CONFIGS = [("beta-0.1", {}), ("beta-0.5", {"beta": 0.5})]


def run_orpo(config, pairs):
    p = {"beta": 0.1, **config}
    rows = pairs["chosen"]["logps"].shape[0]
    t = ORPOTrainer.__new__(ORPOTrainer)
    t.beta, t.is_encoder_decoder, t.aux_loss_enabled, t.pad_token_id, t.padding_value = p["beta"], False, False, 0, 0
    t.accelerator = OneProcess()
    leaf = pair_leaf(pairs)
    loss, metrics = t.get_batch_loss_metrics(LogitsModel(leaf), trl_pair_batch(pairs), train_eval="eval")
    loss.backward()
    names = PAIR_METRICS + ["nll_loss", "log_odds_ratio", "log_odds_chosen"]
    return loss.item(), pair_grads(leaf, rows), {name: metrics[f"eval_{name}"] for name in names}


# ----------------------------------------------------------------------------------------------- KTO

KTO_CONFIGS = [
    ("kto", {}),
    ("kto-beta-weights", {"beta": 0.5, "desirableWeight": 1.33, "undesirableWeight": 0.8}),
    ("kto-z0-clamped", {"negativeKl": True}),
    ("apo_zero_unpaired", {"lossType": "apo_zero_unpaired"}),
]


def kto_batch(rng, config, prompt=2, steps=5, rows=6):
    length = 1 + prompt + steps
    lengths = random_lengths(rng, rows, steps)
    attention = np.array([[1.0 if j < 1 + prompt + n else 0.0 for j in range(length)] for n in lengths])
    completion = np.array([[1.0 if 1 + prompt <= j < 1 + prompt + n else 0.0 for j in range(length)] for n in lengths])
    logps = logps_like(rng, (rows, length - 1), -2.5, -0.02)
    desirable = np.array([1.0, 0.0] + list((rng.uniform(size=rows - 2) < 0.5).astype(float)))
    ref = rng.uniform(-12, -2, size=rows)
    kl_logps = rng.uniform(-14, -3, size=rows)
    shift = -6.0 if config.get("negativeKl") else 1.0
    kl_ref = kl_logps - rng.uniform(-1, 1, size=rows) * 0.5 - shift * 0.2
    return {"logps": logps, "attention": attention, "completion": completion, "desirable": desirable, "ref": ref, "kl": kl_logps, "klRef": kl_ref}


def run_kto(config, b):
    p = {"beta": 0.1, "desirableWeight": 1.0, "undesirableWeight": 1.0, "lossType": "kto", **config}
    t = KTOTrainer.__new__(KTOTrainer)
    t.beta, t.desirable_weight, t.undesirable_weight, t.loss_type = p["beta"], p["desirableWeight"], p["undesirableWeight"], p["lossType"]
    t.calculate_KL = p["lossType"] != "apo_zero_unpaired"
    t.precompute_ref_logps, t.aux_loss_enabled = True, False
    t.accelerator = OneProcess()
    leaf = torch.tensor(b["logps"], requires_grad=True)
    t.model = LogitsModel(leaf)
    t._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    t._total_train_tokens, t._tp_size = 0, 1
    # The KL batch's forward (the mismatched pairs): its summed log-probs, as the model would give them.
    t._compute_kl_logps = lambda model, batch: torch.tensor(b["kl"]) if t.calculate_KL else None
    inputs = {
        "input_ids": torch.zeros(b["attention"].shape, dtype=torch.long), "attention_mask": torch.tensor(b["attention"], dtype=torch.long),
        "completion_mask": torch.tensor(b["completion"], dtype=torch.long), "label": torch.tensor(b["desirable"]).bool(),
        "ref_logps": torch.tensor(b["ref"]), "ref_KL_logps": torch.tensor(b["klRef"]),
    }
    loss = t._compute_loss(t.model, inputs, False)
    loss.backward()
    logged = t._metrics["eval"]
    names = ["kl", "rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen", "logps/rejected"]
    return loss.item(), {"logps": as_list(leaf.grad)}, {name: logged[name][-1] for name in names}


# ------------------------------------------------------------------------------------------- output

def case(case_id, objective, params, inputs, result):
    loss, grads, metrics = result
    clean = {k: as_list(np.asarray(v)) for k, v in inputs.items() if not k.startswith("_")}
    metrics = {k: float(v) for k, v in metrics.items()}
    return {"id": case_id, "objective": objective, "params": params, "state": None, "inputs": clean,
            "expected": {"loss": loss, "grads": grads, "metrics": metrics, "state": None}}


def pref_params(config, drop=("sampler", "rewards")):
    return {k: v for k, v in config.items() if k not in drop}


def generate():
    files = defaultdict(list)
    for name, config in GRPO_CONFIGS:
        for batch_index in BATCHES:
            for off_policy in (False, True):
                rng = np.random.default_rng([sum(map(ord, "grpo" + name)), batch_index, int(off_policy)])
                batch = grpo_batch(rng, config, off_policy)
                policy = "off-policy" if off_policy else "on-policy"
                files["grpo"].append(case(f"trl/grpo/{name}/{policy}/{batch_index}", "grpo", pref_params(config), batch, run_grpo(config, batch)))
    for name, config in RLOO_CONFIGS:
        for batch_index in BATCHES:
            for off_policy in (False, True):
                rng = np.random.default_rng([sum(map(ord, "rloo" + name)), batch_index, int(off_policy)])
                batch = rloo_batch(rng, config, off_policy)
                params = pref_params(config)
                if "_groupSize" in batch:
                    params["groupSize"] = batch["_groupSize"]
                policy = "off-policy" if off_policy else "on-policy"
                files["rloo"].append(case(f"trl/rloo/{name}/{policy}/{batch_index}", "rloo", params, batch, run_rloo(config, batch)))
    for objective, configs in (("dpo", DPO_CONFIGS), ("cpo", CPO_CONFIGS), ("orpo", ORPO_CONFIGS)):
        for name, config in configs:
            for batch_index in BATCHES:
                rng = np.random.default_rng([sum(map(ord, objective + name)), batch_index])
                pairs = pair_batch(rng)
                inputs = pair_inputs(pairs, orpo=objective == "orpo")
                if objective == "dpo":
                    refs = {side: rng.uniform(-12, -2, size=pairs[side]["logps"].shape[0]) for side in pairs}
                    inputs["refChosenLogps"], inputs["refRejectedLogps"] = refs["chosen"], refs["rejected"]
                    result = run_dpo(config, pairs, refs)
                elif objective == "cpo":
                    result = run_cpo(config, pairs)
                else:
                    result = run_orpo(config, pairs)
                files[objective].append(case(f"trl/{objective}/{name}/{batch_index}", objective, dict(config), inputs, result))
    for name, config in KTO_CONFIGS:
        for batch_index in BATCHES:
            rng = np.random.default_rng([sum(map(ord, "kto" + name)), batch_index])
            b = kto_batch(rng, config)
            inputs = {"logps": b["logps"], "mask": b["completion"][:, 1:], "refLogps": b["ref"], "desirable": b["desirable"]}
            if config.get("lossType") != "apo_zero_unpaired":
                inputs["klLogps"], inputs["klRefLogps"] = b["kl"], b["klRef"]
            params = {k: v for k, v in config.items() if k != "negativeKl"}
            files["kto"].append(case(f"trl/kto/{name}/{batch_index}", "kto", params, inputs, run_kto(config, b)))
    for name, config in DPO_FLOAT32_CONFIGS:
        for batch_index in BATCHES:
            rng = np.random.default_rng([sum(map(ord, "dpo32" + name)), batch_index])
            pairs = pair_batch(rng)
            refs = float32_values(pairs, {side: rng.uniform(-12, -2, size=pairs[side]["logps"].shape[0]) for side in pairs})
            inputs = pair_inputs(pairs)
            inputs["refChosenLogps"], inputs["refRejectedLogps"] = refs["chosen"], refs["rejected"]
            result = run_dpo(config, pairs, refs, dtype=torch.float32)
            files["dpo-float32"].append(case(f"trl/dpo-float32/{name}/{batch_index}", "dpo", dict(config), inputs, result))
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "conformance", "trl"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    files = generate()
    source = {"trl": trl.__version__, "torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0]}
    for objective, cases in files.items():
        path = os.path.join(args.out, f"{objective}.json")
        precision = 32 if objective.endswith("float32") else 64
        with open(path, "w") as f:
            json.dump({"format": "pref-conformance/1", "source": {**source, "precision": precision}, "cases": cases}, f, indent=1)
            f.write("\n")
        print(f"{path}: {len(cases)} cases")
    print(f"produced by TRL {trl.__version__} (torch {torch.__version__}, numpy {np.__version__}, python {source['python']})")


if __name__ == "__main__":
    main()
