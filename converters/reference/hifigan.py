"""Our PyTorch HiFi-GAN generator: the yardstick for parity and speed tests.

Same maths and the same `state_dict` keys as NVIDIA DeepLearningExamples' nested layout with weight
norm folded (`conv_pre.weight`, `ups.{i}.weight`, `resblocks.{i}.{j}.convs1.{n}.weight`, ...), so
`converters.hifigan.to_state_dict(params)` loads into it with `strict=True`. Plain torch ops only, so
it runs eagerly and on an XLA device alike.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from jaxtts.models.hifigan import FINAL_SLOPE, LRELU_SLOPE, HiFiGANConfig


def _same_padding(kernel: int, dilation: int) -> int:
    return dilation * (kernel - 1) // 2


class ResBlock1(nn.Module):
    """x += conv2(lrelu(conv1_d(lrelu(x)))) for each dilation d."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...]):
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=_same_padding(kernel, d), dilation=d) for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=_same_padding(kernel, 1)) for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class ResBlock2(nn.Module):
    """x += conv_d(lrelu(x)) for each dilation d."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...]):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=_same_padding(kernel, d), dilation=d) for d in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c in self.convs:
            x = x + c(F.leaky_relu(x, LRELU_SLOPE))
        return x


class Generator(nn.Module):
    """mel (B, num_mels, T) → audio (B, 1, T·hop), as NVIDIA's `Generator.forward`."""

    def __init__(self, config: HiFiGANConfig):
        super().__init__()
        c0 = config.upsample_initial_channel
        block = ResBlock1 if config.resblock == "1" else ResBlock2
        self.conv_pre = nn.Conv1d(config.num_mels, c0, 7, padding=3)
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(c0 >> i, c0 >> (i + 1), k, u, padding=(k - u) // 2)
            for i, (u, k) in enumerate(zip(config.upsample_rates, config.upsample_kernel_sizes))
        )
        self.resblocks = nn.ModuleList(
            nn.ModuleList(
                block(c0 >> (i + 1), k, d)
                for k, d in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes)
            )
            for i in range(len(self.ups))
        )
        self.conv_post = nn.Conv1d(c0 >> len(self.ups), 1, 7, padding=3)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel)
        for up, blocks in zip(self.ups, self.resblocks):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            x = sum(block(x) for block in blocks) / len(blocks)
        return torch.tanh(self.conv_post(F.leaky_relu(x, FINAL_SLOPE)))


def seeded(config: HiFiGANConfig, seed: int = 0, gain: float = 1.0) -> Generator:
    """A generator with seeded weights that keep activations O(1) at any width, in eval mode.

    Each weight is N(0, gain² / fan_in), biases N(0, 0.05²). Unlike torch's default init the audio
    is neither ~0 nor saturated, so parity tests compare real signals and timings see no denormals.
    """
    torch.manual_seed(seed)
    model = Generator(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0.0, 0.05)
            elif name.startswith("ups."):  # (in, out, k): each output sees in · k / stride taps
                p.normal_(0.0, gain / math.sqrt(p.shape[0] * p.shape[2] / config.upsample_rates[int(name.split(".")[1])]))
            else:  # (out, in, k)
                p.normal_(0.0, gain / math.sqrt(p.shape[1] * p.shape[2]))
    return model
