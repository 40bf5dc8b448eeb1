"""Our PyTorch FastPitch (inference path): the yardstick for parity and speed tests.

The module tree and `state_dict` keys are NVIDIA DeepLearningExamples' (`encoder.layers.0.dec_attn.
qkv_net.weight`, `pos_ff.CoreNet.2.weight`, `pitch_mean`, ...), without the training-only aligner:
an NVIDIA state_dict loads with `strict=True` once its `attention.*` keys are dropped, and so does
`converters.fastpitch.to_state_dict(params)`. `infer` has NVIDIA's semantics and controls. Like
the Flax model, and unlike NVIDIA's, it re-masks every convolution input to each item's length,
so a padded batch gives each item its batch-1 output (which is NVIDIA's). Plain torch ops only:
it runs eagerly and on an XLA device alike.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from jaxtts.models.fastpitch import (
    FALLBACK_PITCH_MEAN,
    FALLBACK_PITCH_STD,
    LAYER_NORM_EPS,
    FastPitchConfig,
)


class PositionalEmbedding(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("inv_freq", 1 / (10000 ** (torch.arange(0.0, dim, 2.0) / dim)))

    def forward(self, length: int) -> torch.Tensor:
        angles = torch.arange(length, device=self.inv_freq.device, dtype=self.inv_freq.dtype)[:, None] * self.inv_freq
        return torch.cat([angles.sin(), angles.cos()], dim=1)


class MultiHeadAttn(nn.Module):
    def __init__(self, n_head: int, d_model: int, d_head: int, dropout: float, dropatt: float):
        super().__init__()
        self.n_head, self.d_head = n_head, d_head
        self.qkv_net = nn.Linear(d_model, 3 * n_head * d_head)
        self.drop = nn.Dropout(dropout)
        self.dropatt = nn.Dropout(dropatt)
        self.o_net = nn.Linear(n_head * d_head, d_model, bias=False)
        self.layer_norm = nn.LayerNorm(d_model, eps=LAYER_NORM_EPS)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, length, _ = x.shape
        q, k, v = self.qkv_net(x).view(b, length, 3, self.n_head, self.d_head).permute(2, 0, 3, 1, 4)  # (B, H, L, dh)
        scores = (q @ k.transpose(-1, -2)) * (1 / self.d_head ** 0.5)
        scores = scores.masked_fill(~mask[:, None, None, :], torch.finfo(scores.dtype).min)
        out = self.dropatt(scores.softmax(dim=-1)) @ v
        out = self.o_net(out.transpose(1, 2).reshape(b, length, self.n_head * self.d_head))
        return self.layer_norm(x + self.drop(out))


class PositionwiseConvFF(nn.Module):
    def __init__(self, d_model: int, d_inner: int, kernel_size: int, dropout: float):
        super().__init__()
        pad = kernel_size // 2
        self.CoreNet = nn.Sequential(
            nn.Conv1d(d_model, d_inner, kernel_size, padding=pad), nn.ReLU(),
            nn.Conv1d(d_inner, d_model, kernel_size, padding=pad), nn.Dropout(dropout),
        )
        self.layer_norm = nn.LayerNorm(d_model, eps=LAYER_NORM_EPS)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        conv0, relu, conv2, drop = self.CoreNet
        h = relu(conv0(x.transpose(1, 2))) * valid.transpose(1, 2)  # NVIDIA does not re-mask here
        return self.layer_norm(x + drop(conv2(h)).transpose(1, 2))


class TransformerLayer(nn.Module):
    def __init__(self, n_head: int, d_model: int, d_head: int, d_inner: int, kernel_size: int, dropout: float,
                 dropatt: float):
        super().__init__()
        self.dec_attn = MultiHeadAttn(n_head, d_model, d_head, dropout, dropatt)
        self.pos_ff = PositionwiseConvFF(d_model, d_inner, kernel_size, dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        m = mask[..., None].to(x.dtype)
        return self.pos_ff(self.dec_attn(x, mask) * m, valid) * m


class FFTransformer(nn.Module):
    def __init__(self, n_layer: int, n_head: int, d_model: int, d_head: int, d_inner: int, kernel_size: int,
                 dropout: float, dropatt: float, dropemb: float, n_embed: int | None = None, padding_idx: int = 0):
        super().__init__()
        self.word_emb = nn.Embedding(n_embed, d_model, padding_idx=padding_idx) if n_embed else None
        self.pos_emb = PositionalEmbedding(d_model)
        self.drop = nn.Dropout(dropemb)
        self.layers = nn.ModuleList(
            TransformerLayer(n_head, d_model, d_head, d_inner, kernel_size, dropout, dropatt) for _ in range(n_layer)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor, valid: torch.Tensor,
                conditioning: torch.Tensor | float = 0.0) -> torch.Tensor:
        if self.word_emb is not None:
            x = self.word_emb(x)
        x = self.drop(x + self.pos_emb(x.shape[1])[None] * mask[..., None] + conditioning)
        for layer in self.layers:
            x = layer(x, mask, valid)
        return x


class ConvReLUNorm(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dropout: float):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.norm = nn.LayerNorm(out_channels, eps=LAYER_NORM_EPS)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, L, C) → (B, L, F)
        return self.dropout(self.norm(F.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)))


class TemporalPredictor(nn.Module):
    def __init__(self, input_size: int, filter_size: int, kernel_size: int, dropout: float, n_layers: int,
                 n_predictions: int = 1):
        super().__init__()
        self.layers = nn.Sequential(*(
            ConvReLUNorm(filter_size if i else input_size, filter_size, kernel_size, dropout) for i in range(n_layers)
        ))
        self.fc = nn.Linear(filter_size, n_predictions)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        m = mask[..., None].to(x.dtype)
        x = x * m
        for layer in self.layers:
            x = layer(x) * valid  # NVIDIA does not re-mask between layers
        return self.fc(x) * m


PitchTransform = Callable[[torch.Tensor, torch.Tensor, Any, Any], torch.Tensor]


def pitch_transformation(*, shift: float = 0.0, amplify: float = 1.0, flatten: bool = False,
                         invert: bool = False) -> PitchTransform | None:
    """inference.py's `build_pitch_transformation`: flatten → invert → amplify → + shift_Hz / std."""
    if not shift and amplify == 1.0 and not flatten and not invert:
        return None

    def transform(pitch: torch.Tensor, n_tokens: torch.Tensor, mean: Any, std: Any) -> torch.Tensor:
        if flatten:
            pitch = pitch * 0.0
        if invert:
            pitch = pitch * -1.0
        if amplify != 1.0:
            pitch = pitch * amplify
        if shift:
            pitch = pitch + shift / std
        return pitch

    return transform


class FastPitch(nn.Module):
    """NVIDIA's FastPitch 1.0/1.1 inference model, built from a `FastPitchConfig`."""

    def __init__(self, config: FastPitchConfig):
        super().__init__()
        c = self.config = config
        d = c.symbols_embedding_dim
        self.encoder = FFTransformer(c.in_fft_n_layers, c.in_fft_n_heads, d, c.in_fft_d_head,
                                     c.in_fft_conv1d_filter_size, c.in_fft_conv1d_kernel_size, c.p_in_fft_dropout,
                                     c.p_in_fft_dropatt, c.p_in_fft_dropemb, n_embed=c.n_symbols,
                                     padding_idx=c.padding_idx)
        self.speaker_emb = nn.Embedding(c.n_speakers, d) if c.n_speakers > 1 else None
        self.duration_predictor = TemporalPredictor(d, c.dur_predictor_filter_size, c.dur_predictor_kernel_size,
                                                    c.p_dur_predictor_dropout, c.dur_predictor_n_layers)
        self.decoder = FFTransformer(c.out_fft_n_layers, c.out_fft_n_heads, d, c.out_fft_d_head,
                                     c.out_fft_conv1d_filter_size, c.out_fft_conv1d_kernel_size, c.p_out_fft_dropout,
                                     c.p_out_fft_dropatt, c.p_out_fft_dropemb)
        self.pitch_predictor = TemporalPredictor(d, c.pitch_predictor_filter_size, c.pitch_predictor_kernel_size,
                                                 c.p_pitch_predictor_dropout, c.pitch_predictor_n_layers,
                                                 c.pitch_conditioning_formants)
        k = c.pitch_embedding_kernel_size
        self.pitch_emb = nn.Conv1d(c.pitch_conditioning_formants, d, k, padding=k // 2)
        self.register_buffer("pitch_mean", torch.zeros(1))
        self.register_buffer("pitch_std", torch.zeros(1))
        if c.energy_conditioning:
            self.energy_predictor = TemporalPredictor(d, c.energy_predictor_filter_size, c.energy_predictor_kernel_size,
                                                      c.p_energy_predictor_dropout, c.energy_predictor_n_layers)
            k = c.energy_embedding_kernel_size
            self.energy_emb = nn.Conv1d(1, d, k, padding=k // 2)
        self.proj = nn.Linear(d, c.n_mel_channels)

    @classmethod
    def from_nvidia(cls, config: FastPitchConfig, state_dict: Mapping[str, torch.Tensor]) -> FastPitch:
        """Strictly load an NVIDIA state_dict (either layout); the aligner's `attention.*` is dropped."""
        model = cls(config)
        sd = {k.removeprefix("module."): v for k, v in state_dict.items()}
        model.load_state_dict({k: v for k, v in sd.items() if not k.startswith("attention.")}, strict=True)
        return model.eval()

    def infer(self, ids: torch.Tensor, lengths: torch.Tensor | None = None, pace: float = 1.0,
              dur_tgt: torch.Tensor | None = None, pitch_tgt: torch.Tensor | None = None,
              energy_tgt: torch.Tensor | None = None, pitch_transform: PitchTransform | None = None,
              max_duration: float = 75, speaker: int | torch.Tensor = 0):
        """NVIDIA's `FastPitch.infer` → (mel (B, n_mel, T), mel_lens, dur_pred, pitch_pred (B, F, N),
        energy_pred or None). `lengths` (B,) defaults to the position after each item's last
        non-padding id. Targets: dur_tgt (B, N), pitch_tgt (B, F, N), energy_tgt (B, 1, N)."""
        c = self.config
        b, n = ids.shape
        positions = torch.arange(n, device=ids.device)
        if lengths is None:
            lengths = torch.where(ids != c.padding_idx, positions + 1, 0).amax(dim=1)
        valid_b = positions[None, :] < lengths[:, None]
        mask = valid_b & (ids != c.padding_idx)
        valid = valid_b[..., None].float()

        spk = 0.0
        if self.speaker_emb is not None:
            speaker = torch.as_tensor(speaker, device=ids.device).expand(b)
            spk = self.speaker_emb(speaker)[:, None, :] * c.speaker_emb_weight
        enc = self.encoder(ids, mask, valid, spk)

        log_dur = self.duration_predictor(enc, mask, valid)[..., 0]
        dur_pred = torch.clamp(torch.exp(log_dur) - 1, 0, max_duration)

        pitch = self.pitch_predictor(enc, mask, valid).transpose(1, 2)
        if pitch_transform is not None:
            std = torch.where(self.pitch_std[0] == 0, FALLBACK_PITCH_STD, self.pitch_std[0])
            mean = torch.where(self.pitch_std[0] == 0, FALLBACK_PITCH_MEAN, self.pitch_mean[0])
            pitch = pitch_transform(pitch, mask.sum(dim=1), mean, std)
        pitch = torch.where(valid_b[:, None], pitch, 0.0)  # the embedding conv must see zeros past the end
        cond = pitch if pitch_tgt is None else torch.where(valid_b[:, None], pitch_tgt, 0.0)
        enc = enc + self.pitch_emb(cond).transpose(1, 2)

        energy = None
        if c.energy_conditioning:
            energy = self.energy_predictor(enc, mask, valid)[..., 0]
            cond = energy[:, None] if energy_tgt is None else torch.where(valid_b[:, None], energy_tgt, 0.0)
            enc = enc + self.energy_emb(cond).transpose(1, 2)

        durs = dur_pred if dur_tgt is None else dur_tgt * valid_b
        mel_in, mel_lens = regulate_len(durs, enc, pace)
        frames = torch.arange(mel_in.shape[1], device=ids.device)
        fvalid_b = frames[None, :] < mel_lens[:, None]
        mel = self.proj(self.decoder(mel_in, fvalid_b, fvalid_b[..., None].float()))
        mel = mel * fvalid_b[..., None]
        return mel.transpose(1, 2), mel_lens, dur_pred, pitch, energy


def regulate_len(durations: torch.Tensor, enc: torch.Tensor, pace: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """NVIDIA's length regulator: reps = ⌊d/pace + 0.5⌋; frame t copies token n iff cum[n] ≤ t < cum[n+1]."""
    reps = (durations.float() / pace + 0.5).long()
    mel_lens = reps.sum(dim=1)
    cum = F.pad(torch.cumsum(reps, dim=1), (1, 0))[:, None, :]
    t = torch.arange(int(mel_lens.max()), device=enc.device)[None, :, None]
    onehot = ((cum[:, :, :-1] <= t) & (cum[:, :, 1:] > t)).to(enc.dtype)
    return onehot @ enc, mel_lens


def seeded(config: FastPitchConfig, seed: int = 1234) -> FastPitch:
    """A random-weight model like the golden files': torch's default init under `seed`, then
    LayerNorm γ = 1 + 0.1·N, β = 0.1·N (so norms are not the identity), duration-predictor bias 1.6
    (≈ 2–8 frames per symbol, as a trained model) and LJSpeech's pitch mean/std."""
    torch.manual_seed(seed)
    model = FastPitch(config)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + 0.1 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
        model.duration_predictor.fc.bias.fill_(1.6)
        model.pitch_mean.fill_(214.72203)
        model.pitch_std.fill_(65.72038)
    return model.eval()
