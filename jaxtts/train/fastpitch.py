"""FastPitch 1.1 training maths as NVIDIA DeepLearningExamples' `FastPitch.forward`, `FastPitchLoss`
and train.py compute them: aligner with the attention prior, monotonic alignment search (MAS)
for the hard durations, pitch/energy averaged per token, teacher-forced decoder, predictors,
and the mel, duration, pitch, energy, CTC and binarization (KL) losses.

Everything is jittable on static (bucketed) shapes: MAS and the per-token averages run as scans
inside the step rather than on the host, so a device never waits for the CPU. Two choices:

- `padding_invariant` (the default for training): every convolution input is re-masked to the
  item's length, as in jaxtts's inference, and the aligner normalises over the item's own tokens,
  so each item's losses and gradients are its batch-1 values whatever the bucket. NVIDIA's model
  lets its second convolutions read ReLU(bias)/LayerNorm values at padded positions and its
  aligner's first log-softmax run over padded keys, so its losses depend on how far a batch was
  padded; `padding_invariant=False` reproduces that exactly (the golden step), which is only
  meaningful when a batch is padded exactly to its longest item, as NVIDIA's collate does.
- Dropout is behind `deterministic` (rng stream 'dropout'), at the config's rates.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxtts.models.aligner import ConvAttention
from jaxtts.models.buckets import bucket_length
from jaxtts.models.fastpitch import BUFFERS, FastPitchConfig, FastPitchModule
from jaxtts.train import optim

MAX_DURATION = 75.0  # FastPitch.forward's default clamp of dur_pred
CTC_BLANK_LOGPROB = -1.0  # AttentionCTCLoss's blank_logprob
# Masked CTC classes: NVIDIA writes −inf, whose backward is NaN on CPU (see the golden README);
# any value below ~−104 gives float32 exp() exactly 0, hence the same softmax, and this one
# stays finite through the CTC recursion's sums.
CTC_MASKED = -1e5
BINARIZATION_EPS = 1e-12


class Batch(NamedTuple):
    """One padded batch in NVIDIA's `TTSCollate` layout (so a batch of NVIDIA's loader is one of ours).

    text (B, N) int ids, `padding_idx` past each length; text_lens (B,); mel (B, n_mel, T) log-mel,
    zero-padded (zeros are also what the mel loss masks); mel_lens (B,); pitch (B, F, T) normalised,
    0 = unvoiced or padding; energy (B, T); speaker (B,) int; attn_prior (B, T, N), zero-padded.
    Bucketed shapes (N, T) may exceed the longest item; every length must be ≥ 1 and mel_lens ≥
    text_lens (MAS needs a frame per token).
    """

    text: jax.Array
    text_lens: jax.Array
    mel: jax.Array
    mel_lens: jax.Array
    pitch: jax.Array
    energy: jax.Array
    speaker: jax.Array
    attn_prior: jax.Array


class TrainOutputs(NamedTuple):
    """`FastPitch.forward`'s outputs in its order and layouts (mel_out time-major (B, T, n_mel))."""

    mel_out: jax.Array
    dec_mask: jax.Array
    dur_pred: jax.Array
    log_dur_pred: jax.Array
    pitch_pred: jax.Array
    pitch_tgt: jax.Array
    energy_pred: jax.Array | None
    energy_tgt: jax.Array | None
    attn_soft: jax.Array
    attn_hard: jax.Array
    attn_hard_dur: jax.Array
    attn_logprob: jax.Array


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """FastPitchLoss scales and train.py's KL schedule, as scripts/train.sh sets them (the energy
    scale is FastPitchLoss's default, which train.py never overrides)."""

    dur_predictor_loss_scale: float = 0.1
    pitch_predictor_loss_scale: float = 0.1
    energy_predictor_loss_scale: float = 0.1
    attn_loss_scale: float = 1.0
    kl_loss_start_epoch: int = 0
    kl_loss_warmup_epochs: int = 100
    kl_loss_weight: float = 1.0

    def kl_weight(self, epoch: int) -> float:
        """train.py's weight of the binarization loss in `epoch` (1-based, as train.py counts)."""
        if epoch < self.kl_loss_start_epoch:
            return 0.0
        if self.kl_loss_warmup_epochs <= 0:
            return self.kl_loss_weight
        return min((epoch - self.kl_loss_start_epoch) / self.kl_loss_warmup_epochs, 1.0) * self.kl_loss_weight


# ---------------------------------------------------------------------------------------------
# Alignment and per-token targets.


def mas_width1(log_attn: jax.Array, text_lens: jax.Array, mel_lens: jax.Array) -> jax.Array:
    """NVIDIA's `mas_width1` per item on [:T_b, :N_b] of log_attn (B, T, N), zero elsewhere.

    The forward pass adds in the same float32 order (log_p[i, j] = x[i, j] + max(log_p[i−1, j−1],
    log_p[i−1, j])), so its values are bit-identical; the backtrack takes the diagonal on ties
    (`>=`) and stays on token 0 once there, as NVIDIA's does. Columns past N_b cannot reach
    smaller columns, so computing them (as −inf) changes nothing.
    """
    b, t, n = log_attn.shape
    cols = jnp.arange(n)
    neg = jnp.array(-jnp.inf, log_attn.dtype)
    x = jnp.where(cols[None, None, :] < text_lens[:, None, None], log_attn, neg)
    first = jnp.where(cols[None, :] == 0, x[:, 0], neg)

    def forward(prev: jax.Array, row: jax.Array) -> tuple[jax.Array, jax.Array]:
        diag = jnp.concatenate([jnp.full((b, 1), neg), prev[:, :-1]], axis=1)
        cur = row + jnp.maximum(diag, prev)
        return cur, cur

    _, rest = jax.lax.scan(forward, first, jnp.swapaxes(x[:, 1:], 0, 1))
    log_p = jnp.concatenate([first[None], rest], axis=0)  # (T, B, N)

    def backward(j: jax.Array, step: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        i, prev = step  # row i, and log_p of row i − 1
        active = i < mel_lens
        row = active[:, None] & (cols[None, :] == j[:, None])
        left = jnp.take_along_axis(prev, jnp.maximum(j - 1, 0)[:, None], axis=1)[:, 0]
        here = jnp.take_along_axis(prev, j[:, None], axis=1)[:, 0]
        j = jnp.where(active & (j > 0) & (left >= here), j - 1, j)
        return j, row

    rows = jnp.arange(t - 1, 0, -1)
    j, hard = jax.lax.scan(backward, (text_lens - 1).astype(jnp.int32), (rows, log_p[:-1][::-1]))
    row0 = (mel_lens > 0)[:, None] & (cols[None, :] == j[:, None])
    hard = jnp.concatenate([row0[None], hard[::-1]], axis=0)
    return jnp.swapaxes(hard, 0, 1).astype(log_attn.dtype)


def _two_sum(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def prefix_sum(x: jax.Array) -> jax.Array:
    """Cumulative sum over the last axis, each value the float32 rounding of the exact prefix sum.

    torch's CPU `cumsum` accumulates float32 in double and rounds each output, and
    `average_pitch` subtracts these prefix sums, so a plain float32 scan (whose rounding depends
    on its tree) would move the per-token pitch by an ulp. Without float64, the sums are carried
    as unevaluated (hi, lo) float32 pairs through an associative scan (error-free two-sum).
    """
    def combine(p: tuple[jax.Array, jax.Array], q: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        s, e = _two_sum(p[0], q[0])
        lo = p[1] + q[1] + e
        hi = s + lo
        return hi, lo - (hi - s)

    hi, _ = jax.lax.associative_scan(combine, (x, jnp.zeros_like(x)), axis=x.ndim - 1)
    return hi


def average_pitch(pitch: jax.Array, durs: jax.Array) -> jax.Array:
    """NVIDIA's `average_pitch`: pitch (B, F, T), durs (B, N) → (B, F, N), the mean of each token's
    non-zero frames (0 where it has none)."""
    ends = jnp.cumsum(durs, axis=1).astype(jnp.int32)  # integer-valued: exact in any order
    starts = jnp.pad(ends[:, :-1], ((0, 0), (1, 0)))
    pad = ((0, 0), (0, 0), (1, 0))
    nonzero = jnp.pad(jnp.cumsum((pitch != 0).astype(jnp.int32), axis=2), pad)
    cums = jnp.pad(prefix_sum(pitch), pad)

    def span(c: jax.Array) -> jax.Array:
        at = lambda idx: jnp.take_along_axis(c, jnp.broadcast_to(idx[:, None, :], (*c.shape[:2], idx.shape[1])), 2)
        return at(ends) - at(starts)

    sums, count = span(cums), span(nonzero).astype(pitch.dtype)
    return jnp.where(count == 0, 0.0, sums / jnp.where(count == 0, 1.0, count))


def regulate_len(durs: jax.Array, enc: jax.Array, n_frames: int) -> tuple[jax.Array, jax.Array]:
    """NVIDIA's `regulate_len` at pace 1 into `n_frames`: frame t copies the token whose duration
    interval holds it (a gather, where NVIDIA multiplies by a 0/1 matrix: the same values);
    frames past the item's total are zero. Returns (enc_rep (B, n_frames, D), dec_lens (B,))."""
    reps = jnp.floor(durs + 0.5).astype(jnp.int32)
    ends = jnp.cumsum(reps, axis=1)
    t = jnp.arange(n_frames)
    token = jax.vmap(lambda e: jnp.searchsorted(e, t, side="right"))(ends)
    dec_lens = jnp.minimum(ends[:, -1], n_frames)
    x = jnp.take_along_axis(enc, jnp.minimum(token, enc.shape[1] - 1)[..., None], axis=1)
    return jnp.where((t[None, :] < dec_lens[:, None])[..., None], x, 0), dec_lens


# ---------------------------------------------------------------------------------------------
# The training forward.


class FastPitchTraining(FastPitchModule):
    """The inference model's modules (same parameter tree) plus `attention`, run as NVIDIA's
    `FastPitch.forward` with `use_gt_pitch=True`, pace 1."""

    padding_invariant: bool = True

    def setup(self) -> None:
        super().setup()
        c = self.config
        self.attention = ConvAttention(c.n_mel_channels, c.symbols_embedding_dim, self.padding_invariant)

    def __call__(self, batch: Batch, deterministic: bool = True) -> TrainOutputs:
        c = self.config
        ids, text_lens, mel_lens = batch.text, batch.text_lens, batch.mel_lens
        n, t = ids.shape[1], batch.mel.shape[2]
        tok_valid = jnp.arange(n)[None, :] < text_lens[:, None]
        enc_mask = tok_valid & (ids != c.padding_idx)
        tok_remask = tok_valid[..., None].astype(jnp.float32) if self.padding_invariant else 1.0

        spk = 0.0
        if self.speaker_emb is not None:
            spk = self.speaker_emb(batch.speaker)[:, None, :] * c.speaker_emb_weight
        enc = self.encoder(ids, enc_mask, tok_remask, spk, deterministic)
        log_dur_pred = self.duration_predictor(enc, enc_mask, tok_remask, deterministic)[..., 0]
        dur_pred = jnp.clip(jnp.exp(log_dur_pred) - 1.0, 0.0, MAX_DURATION)
        pitch_pred = jnp.swapaxes(self.pitch_predictor(enc, enc_mask, tok_remask, deterministic), 1, 2)

        # The aligner reads the token embeddings; torch's padding_idx row gets no gradient.
        table = jnp.asarray(self.encoder.variables["params"]["word_emb"]["embedding"])
        table = table.at[c.padding_idx].set(jax.lax.stop_gradient(table[c.padding_idx]))
        frame_valid = jnp.arange(t)[None, :] < mel_lens[:, None]
        # Masked so the aligner's k-3 convolutions see zeros past each item, whatever the padding holds.
        keys = jnp.where(tok_valid[..., None], table[ids], 0)
        queries = jnp.where(frame_valid[..., None], jnp.swapaxes(batch.mel, 1, 2), 0)
        attn_soft, attn_logprob = self.attention(queries, keys, tok_valid, batch.attn_prior)
        attn_hard = jax.lax.stop_gradient(mas_width1(jnp.log(attn_soft[:, 0]), text_lens, mel_lens))[:, None]
        dur_tgt = attn_hard.sum(axis=2)[:, 0, :]

        f = batch.pitch.shape[1]
        dense = batch.pitch
        if c.energy_conditioning:
            dense = jnp.concatenate([dense, batch.energy[:, None, :]], axis=1)
        averaged = average_pitch(dense, dur_tgt)  # one pass for pitch and energy: NVIDIA averages both alike
        pitch_tgt = averaged[:, :f]
        enc = enc + self.pitch_emb(jnp.swapaxes(pitch_tgt, 1, 2))
        energy_pred = energy_tgt = None
        if c.energy_conditioning:
            energy_pred = self.energy_predictor(enc, enc_mask, tok_remask, deterministic)[..., 0]
            energy_tgt = jnp.log(1.0 + averaged[:, f])
            enc = enc + self.energy_emb(energy_tgt[..., None])

        len_regulated, dec_lens = regulate_len(dur_tgt, enc, t)
        dec_mask = jnp.arange(t)[None, :] < dec_lens[:, None]
        frame_remask = dec_mask[..., None].astype(jnp.float32) if self.padding_invariant else 1.0
        dec_out = self.decoder(len_regulated, dec_mask, frame_remask, 0.0, deterministic)
        mel_out = self.proj(dec_out)
        return TrainOutputs(mel_out, dec_mask[..., None], dur_pred, log_dur_pred, pitch_pred, pitch_tgt,
                            energy_pred, energy_tgt, attn_soft, attn_hard, dur_tgt, attn_logprob)


# ---------------------------------------------------------------------------------------------
# Losses.


def attention_ctc_loss(attn_logprob: jax.Array, text_lens: jax.Array, mel_lens: jax.Array) -> jax.Array:
    """NVIDIA's `AttentionCTCLoss`: per item, a blank class (log-prob −1) before the N tokens,
    tokens past N_b masked, log-softmax, CTC of the targets 1..N_b over T_b frames
    (`zero_infinity`), mean over the batch of nll_b / N_b."""
    b, _, t, n = attn_logprob.shape
    logits = jnp.pad(attn_logprob[:, 0], ((0, 0), (0, 0), (1, 0)), constant_values=CTC_BLANK_LOGPROB)
    classes = jnp.arange(n + 1)
    logits = jnp.where(classes[None, None, :] > text_lens[:, None, None], CTC_MASKED, logits)
    frame_pad = (jnp.arange(t)[None, :] >= mel_lens[:, None]).astype(logits.dtype)
    labels = jnp.broadcast_to(classes[1:], (b, n))
    label_pad = (classes[None, :n] >= text_lens[:, None]).astype(logits.dtype)
    with jax.default_matmul_precision("float32"):  # optax picks the emissions with a one-hot matmul
        nll = optax.ctc_loss(logits, frame_pad, labels, label_pad, blank_id=0)
    nll = jnp.where(mel_lens >= text_lens, nll, 0.0)  # zero_infinity: no path fits
    return jnp.mean(nll / text_lens)


def binarization_loss(attn_hard: jax.Array, attn_soft: jax.Array) -> jax.Array:
    """NVIDIA's `AttentionBinarizationLoss`: −mean log soft attention on the hard path."""
    on = attn_hard == 1
    log_sum = jnp.sum(jnp.where(on, jnp.log(jnp.maximum(attn_soft, BINARIZATION_EPS)), 0.0))
    return -log_sum / jnp.sum(attn_hard)


def fastpitch_loss(out: TrainOutputs, batch: Batch, config: LossConfig,
                   kl_weight: jax.Array | float) -> tuple[jax.Array, dict[str, jax.Array]]:
    """(loss_total, meta): `FastPitchLoss` plus train.py's `kl_weight · binarization_loss`.

    meta has FastPitchLoss's keys (`loss` is before the KL term, as NVIDIA logs it) plus
    `kl_loss` (= kl_weight · binarization_loss) and `binarization_loss`.
    """
    tok = (jnp.arange(out.dur_pred.shape[1])[None, :] < batch.text_lens[:, None]).astype(jnp.float32)
    n_tok = tok.sum()
    dur_tgt = out.attn_hard_dur
    dur_loss = jnp.sum((out.log_dur_pred - jnp.log(dur_tgt + 1.0)) ** 2 * tok) / n_tok

    mel_tgt = jnp.swapaxes(batch.mel, 1, 2)
    mel_mask = (mel_tgt != 0).astype(jnp.float32)
    mel_loss = jnp.sum((out.mel_out - mel_tgt) ** 2 * mel_mask) / mel_mask.sum()
    pitch_loss = jnp.sum((out.pitch_tgt - out.pitch_pred) ** 2 * tok[:, None, :]) / n_tok
    energy_loss = 0.0
    if out.energy_pred is not None:
        energy_loss = jnp.sum((out.energy_tgt - out.energy_pred) ** 2 * tok) / n_tok
    attn_loss = attention_ctc_loss(out.attn_logprob, batch.text_lens, batch.mel_lens)

    loss = (mel_loss + dur_loss * config.dur_predictor_loss_scale + pitch_loss * config.pitch_predictor_loss_scale
            + energy_loss * config.energy_predictor_loss_scale + attn_loss * config.attn_loss_scale)
    bin_loss = binarization_loss(out.attn_hard, out.attn_soft)
    meta = {"loss": loss, "mel_loss": mel_loss, "duration_predictor_loss": dur_loss, "pitch_loss": pitch_loss,
            "attn_loss": attn_loss, "dur_error": jnp.sum(jnp.abs(out.dur_pred - dur_tgt)) / n_tok,
            "kl_loss": bin_loss * kl_weight, "binarization_loss": bin_loss}
    if out.energy_pred is not None:
        meta["energy_loss"] = energy_loss
    return loss + kl_weight * bin_loss, meta


# ---------------------------------------------------------------------------------------------
# Parameters.


def init_params(config: FastPitchConfig, rng: jax.Array | None = None) -> dict:
    """A fresh training parameter tree: the inference tree plus `attention`."""
    rng = jax.random.key(0) if rng is None else rng
    b, n, t = 1, 4, 8
    batch = Batch(jnp.ones((b, n), jnp.int32), jnp.full((b,), n, jnp.int32),
                  jnp.zeros((b, config.n_mel_channels, t)), jnp.full((b,), t, jnp.int32),
                  jnp.zeros((b, config.pitch_conditioning_formants, t)), jnp.zeros((b, t)),
                  jnp.zeros((b,), jnp.int32), jnp.full((b, t, n), 1.0 / n))
    return FastPitchTraining(config).init(rng, batch)["params"]


def params_from_state_dict(sd: Mapping[str, Any], config: FastPitchConfig) -> dict:
    """An NVIDIA FastPitch state_dict (with its `attention.*` aligner) → training params.

    The inference part goes through the converter (its checks); the aligner's keys are read with
    the same rename table. Keys it lacks are an error naming them.
    """
    import converters.fastpitch as cfp
    from converters.load import put, strip_prefix, to_numpy
    from jaxtts.limits import check_tree

    from jaxtts.errors import CheckpointError

    params = cfp.from_state_dict(sd, config)
    sd = strip_prefix(sd, "module.")
    table = {k: v for k, v in cfp.rename_table(config, aligner=True).items() if k.startswith(cfp.TRAINING_ONLY)}
    missing = [k for k in table if k not in sd]
    if missing:
        raise CheckpointError(f"state_dict lacks the aligner weights {', '.join(missing)}; "
                              "initialise the aligner fresh (train without --init) or use a training checkpoint")
    for key, (path, reverse) in table.items():
        value = to_numpy(sd[key])
        put(params, path, np.ascontiguousarray(np.transpose(value)) if reverse else value)
    check_tree(params, jax.eval_shape(lambda: init_params(config)), what="aligner")
    return params


# ---------------------------------------------------------------------------------------------
# The training step.

# Stored in NVIDIA's checkpoints but never read by its forward: torch leaves their grad None.
UNUSED = ("attention/attn_proj",)


def frozen_paths(freeze: tuple[str, ...] = ()) -> Any:
    """The `optim.trainable_mask` predicate: buffers, unused parameters and the `freeze` prefixes
    (param paths such as 'encoder' or 'attention') get no update."""
    fixed = tuple(BUFFERS) + UNUSED

    def frozen(path: tuple[str, ...]) -> bool:
        name = "/".join(path)
        return any(name == f or name.startswith(f + "/") for f in fixed + tuple(freeze))

    return frozen


class TrainState(NamedTuple):
    """Everything a step changes (a pytree, checkpointed whole): micro-step count, params,
    optimizer state, EMA params (None without EMA) and the dropout key."""

    step: jax.Array
    params: Any
    opt_state: Any
    ema: Any
    rng: jax.Array


def init_state(params: Any, tx: optax.GradientTransformation, config: optim.OptimConfig,
               rng: jax.Array) -> TrainState:
    params = jax.tree.map(jnp.asarray, params)
    ema = jax.tree.map(jnp.copy, params) if config.ema_decay > 0 else None  # own buffers: the step donates both
    return TrainState(jnp.zeros((), jnp.int32), params, tx.init(params), ema, rng)


def make_train_step(model_config: FastPitchConfig, loss_config: LossConfig, optim_config: optim.OptimConfig,
                    trainable: Any, *, padding_invariant: bool = True,
                    deterministic: bool = False) -> tuple[optax.GradientTransformation, Any]:
    """(tx, step): the optimizer for the `trainable` mask (`optim.trainable_mask`) and a pure
    `step(state, batch, kl_weight) → (state, meta)` to jit (shapes come from the buckets, and
    `kl_weight` is traced, so a new epoch does not recompile). meta holds every loss term and
    `grad_norm`, the global norm of the trainable parameters' gradients before clipping (what
    train.py clips: torch's frozen tensors and buffers have no grad)."""
    module = FastPitchTraining(model_config, padding_invariant=padding_invariant)
    tx = optim.make_optimizer(optim_config, trainable)
    k = optim_config.grad_accumulation

    def loss_fn(params: Any, batch: Batch, rng: jax.Array, kl_weight: jax.Array) -> tuple[jax.Array, dict]:
        out = module.apply({"params": params}, batch, deterministic, rngs={"dropout": rng})
        return fastpitch_loss(out, batch, loss_config, kl_weight)

    def step(state: TrainState, batch: Batch, kl_weight: jax.Array) -> tuple[TrainState, dict]:
        rng, dropout = jax.random.split(state.rng)
        (_, meta), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, dropout, kl_weight)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        ema = state.ema
        if ema is not None:
            stepped = (state.step + 1) % k == 0  # EMA follows optimizer steps, not micro-batches
            new = optim.ema_update(ema, params, optim_config.ema_decay)
            ema = jax.tree.map(lambda a, b: jnp.where(stepped, a, b), new, ema)
        meta["grad_norm"] = optax.tree.norm(jax.tree.map(lambda g, t: g if t else jnp.zeros_like(g), grads, trainable))
        return TrainState(state.step + 1, params, opt_state, ema, rng), meta

    return tx, step


def make_eval_step(model_config: FastPitchConfig, loss_config: LossConfig, *,
                   padding_invariant: bool = True) -> Any:
    """A pure `evaluate(params, batch, kl_weight) → meta` to jit: the training loss terms with dropout
    off, as train.py's `validate` computes them."""
    module = FastPitchTraining(model_config, padding_invariant=padding_invariant)

    def evaluate(params: Any, batch: Batch, kl_weight: jax.Array) -> dict:
        return fastpitch_loss(module.apply({"params": params}, batch, True), batch, loss_config, kl_weight)[1]

    return evaluate


def pad_batch(batch: Batch, token_step: int = 16, frame_step: int = 64) -> Batch:
    """A host (numpy) batch padded on N and T to `bucket_length` sizes, so that a run compiles a
    bounded set of shapes; padding is `padding_idx` 0 / zeros, which every loss masks."""
    n = bucket_length(batch.text.shape[1], token_step)
    t = bucket_length(batch.mel.shape[2], frame_step)

    def pad(x: Any, axes: dict[int, int]) -> np.ndarray:
        x = np.asarray(x)
        widths = [(0, axes.get(i, x.shape[i]) - x.shape[i]) for i in range(x.ndim)]
        return np.pad(x, widths)

    return Batch(pad(batch.text, {1: n}).astype(np.int32), np.asarray(batch.text_lens, np.int32),
                 pad(batch.mel, {2: t}).astype(np.float32), np.asarray(batch.mel_lens, np.int32),
                 pad(batch.pitch, {2: t}).astype(np.float32), pad(batch.energy, {1: t}).astype(np.float32),
                 np.asarray(batch.speaker, np.int32), pad(batch.attn_prior, {1: t, 2: n}).astype(np.float32))


def data_mesh(devices: Any = None) -> Mesh:
    """A 1-D 'data' mesh over `devices` (default: this process's local devices). Multi-host: call
    `jax.distributed.initialize()` first and pass `jax.devices()`; each process then feeds its own
    slice of the global batch (`jax.make_array_from_process_local_data`)."""
    devices = jax.local_devices() if devices is None else devices
    return Mesh(np.asarray(devices), ("data",))


def shard_batch(batch: Batch, mesh: Mesh) -> Batch:
    """The batch split over the mesh's 'data' axis (B must be a multiple of its size); the step,
    jitted as usual, then runs data-parallel and its means are over the whole batch, as one device's."""
    size = mesh.shape["data"]
    if batch.text.shape[0] % size:
        from jaxtts.errors import InputError

        raise InputError(f"batch of {batch.text.shape[0]} does not split over {size} devices; "
                         f"use a batch size that is a multiple of {size}")
    sharding = NamedSharding(mesh, PartitionSpec("data"))
    return Batch(*(jax.device_put(np.asarray(x), sharding) for x in batch))


def replicate(tree: Any, mesh: Mesh) -> Any:
    """`tree` (a TrainState) copied onto every device of the mesh."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))
