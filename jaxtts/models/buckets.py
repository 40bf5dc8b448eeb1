"""Padded sizes: every shape a compiled program sees comes from here, so the number of programs is
bounded. Two policies share this module:

- open-ended lengths (`bucket_length`, for training batches): any length, rounded to a grain that
  grows with it;
- bounded tables (`geometric_buckets`, per kind of device), for the engine and for a model's own
  `infer`, `HiFiGAN(mel)` and `jaxtts.torch`: a fixed set of token, frame, batch and vocoder window
  sizes, with `pick` choosing one and `partition` cutting sorted sentences into the batches that
  pad least.
"""
from __future__ import annotations

from collections.abc import Sequence

FRAME_STEP = 64  # the grain of a vocoder window no table offers (`vocoder_windows`)


def bucket_length(n: int, step: int) -> int:
    """Round n up to a multiple of max(step, 2^⌊log2 n⌋ / 8): at most 12.5 % padding past `8·step`,
    so a few dozen compiled shapes cover any length."""
    n = max(int(n), 1)
    grain = max(step, 1 << max(n.bit_length() - 4, 0))
    return -(-n // grain) * grain


def geometric_buckets(lo: int, hi: int, per_octave: int = 4) -> tuple[int, ...]:
    """lo, then `per_octave` evenly spaced sizes per doubling up to hi: at most 1/per_octave padding."""
    sizes, size = [], lo
    while size < hi:
        sizes.append(size)
        size += max(1 << (size.bit_length() - 1), per_octave) // per_octave
    return (*sizes, hi)


# Default token, frame and batch buckets per kind of device. A CPU is as busy with one sentence as
# with eight, so batching would only add padding; what it pays for is compilation, once per bucket
# (the persistent cache only helps the next process). So its tables are coarse and bounded, so
# that a synthesizer soon holds every program it will ever need: tokens in octaves up to 128 and one
# bucket above (the encoder is a small part of the work, padding it is cheap), frames two per
# octave (at most 50 % decoder padding) up to MAX_SENTENCE_FRAMES, the most a sentence may be;
# the vocoder, the most expensive program, runs in a few windows (VOCODER_WINDOWS) whatever the
# length. Accelerators gain from batches, and compile more slowly than they compute: batch buckets,
# token buckets at most 25 % apart, frame buckets at most 25 %. 4096 frames = 47 s at NVIDIA's hop.
TOKEN_BUCKETS = {"cpu": (16, 32, 64, 128, 512), "accelerator": geometric_buckets(16, 512, 4)}
FRAME_BUCKETS = {"cpu": geometric_buckets(64, 8192, 2), "accelerator": geometric_buckets(64, 4096, 4)}
BATCH_BUCKETS = {"cpu": (1,), "accelerator": (1, 2, 4, 8, 16, 32)}

# The mel windows (frames) the vocoder runs: every utterance is cut into overlapping windows of these
# sizes (`hifigan.plan_windows`), so these few programs vocode every length, each window keeping only
# the audio it computes exactly. Small windows serve short sentences and tails with little padding;
# the large one makes the overlap (two receptive fields per junction) a small share of long ones.
VOCODER_WINDOWS = (64, 256)

# What one launch of the two engine programs costs beyond its work, in padded token slots (batch
# rows x token bucket): on an accelerator a launch has a fixed cost of a few hundred slots' worth of
# work divided over the batch (benchmarks/ and the README give the measurements). On a CPU the
# batch buckets are (1,) and it does not matter.
LAUNCH_COST = 64
# The most token slots one device gets in a launch, unless a single sentence needs more: about
# 20,000 frames, whose FastPitch 1.1 + HiFi-GAN v1 program fits a 16 GB accelerator (XLA's memory
# analysis), so long sentences batch by 16 or 8, not 32.
MAX_BATCH_SLOTS = 4096
# The most mel frames any one sentence may become (twice the largest accelerator frame bucket): the engine checks
# it between its two programs, before the vocoder allocates anything for the sentence.
MAX_SENTENCE_FRAMES = 8192


def kind(platform: str) -> str:
    """The key of the tables above for a JAX platform name ("cpu", "gpu", "tpu")."""
    return "cpu" if platform == "cpu" else "accelerator"


def vocoder_windows(table: Sequence[int], reach: int, align: int = 1) -> tuple[int, ...]:
    """The sizes of `table` of at least 3·`reach` frames (each window keeps at least its reach) and
    more than 2·`reach` + `align` - 1 (what `hifigan.plan_windows` needs); without one, the smallest
    multiple of FRAME_STEP that is."""
    least = max(3 * reach, 2 * reach + align)
    usable = tuple(sorted({int(w) for w in table if int(w) >= least}))
    return usable or (-(-least // FRAME_STEP) * FRAME_STEP,)


def split_rows(n: int, batch_buckets: Sequence[int]) -> list[int]:
    """Batch sizes from `batch_buckets` that run n rows: the largest that fits, repeatedly, and the
    smallest bucket that holds what is left (padded rows only when that is smaller than every bucket)."""
    out = []
    while n > 0:
        fits = [b for b in batch_buckets if b <= n]
        b = max(fits) if fits else pick(n, batch_buckets)
        out.append(b)
        n -= b
    return out


def pick(size: int, buckets: Sequence[int]) -> int:
    """The smallest bucket >= size; past the largest, a multiple of it."""
    for b in buckets:
        if b >= size:
            return b
    return -(-size // buckets[-1]) * buckets[-1]


def partition(lengths: Sequence[int], batch_buckets: Sequence[int], token_buckets: Sequence[int],
              max_slots: int = MAX_BATCH_SLOTS) -> list[int]:
    """Cut ascending `lengths` into consecutive groups with the least padded work: the end index of
    each group. A group of g rows costs pick(g) · pick(its longest) + LAUNCH_COST, so ten short
    sentences and two long ones become two batches instead of one that pads all twelve to the
    longest (dynamic programming over the cut points; the frames each group makes follow its tokens).
    A group of several rows holds at most `max_slots` token slots."""
    best, cut = [0] + [None] * len(lengths), [0] * (len(lengths) + 1)
    for j in range(1, len(lengths) + 1):
        width = pick(max(lengths[j - 1], 1), token_buckets)
        for i in range(max(0, j - batch_buckets[-1]), j):
            slots = pick(j - i, batch_buckets) * width
            if slots > max_slots and j - i > 1:
                continue
            cost = best[i] + slots + LAUNCH_COST
            if best[j] is None or cost < best[j]:
                best[j], cut[j] = cost, i
    ends, j = [], len(lengths)
    while j:
        ends.append(j)
        j = cut[j]
    return ends[::-1]
