"""A voice of our own, from one command: teacher corpus → split → prepare → train → export → evaluate.

    apt-get install festival festvox-us-slt-hts
    python -m jaxtts.recipes.voice ../shared/data/ljspeech/transcripts.txt OUT

Every stage resumes: the corpus renders only missing sentences, `prepare` computes only missing
features, training continues from its newest checkpoint (exactly), export and evaluation rerun from
the trained state. Run the same command again (after a kill, in a new session) and it continues.
`OUT/progress.json` records, per stage, whether it is done, the seconds it has taken over all runs
and its results; `OUT/evaluation.json` keeps every hypothesis.

The first `--held-out` sentences of the corpus are never trained on: the evaluation synthesizes them
with the trained model and the bundled LJSpeech generator and scores them against the teacher's own
recordings of the same sentences, and measures the aligner's phone boundaries against festival's.
"""
from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jaxtts.errors import InputError

STAGES = ("corpus", "split", "prepare", "train", "export", "evaluate")
PROGRESS = "progress.json"
MAX_MODEL_BYTES = 40 * 2**20  # what package data may hold in git
# festival's radio phone set → CMUdict's ARPAbet (stress dropped); the rest are the same names, upper-cased.
FESTIVAL_TO_ARPABET = {"ax": "AH", "axr": "ER"}
FESTIVAL_PAUSES = frozenset({"pau", "h#", "brth"})


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that decides the voice; `out` holds all it writes. `corpus` defaults to OUT/corpus
    (rendered by festival from `transcripts`); an existing corpus in LJSpeech layout is used as is."""

    out: Path
    transcripts: Path | None = None
    corpus: Path | None = None
    sentences: int = 600
    held_out: int = 50
    config: str = "voice"  # VOICE below, 'small', 'published' or a JSON file
    steps: int = 3000
    batch_size: int = 16
    learning_rate: float = 0.1
    warmup_steps: int = 300
    checkpoint_every: int = 100
    log_every: int = 10
    token_step: int = 64   # coarse buckets: each (tokens, frames) shape costs minutes of compilation on a CPU
    frame_step: int = 256
    seed: int = 1234
    generator: str = "lj"
    # A word with several CMUdict pronunciations is written with its first: 'ignore' (NVIDIA's default)
    # spells it, and a model trained on an hour of speech learns phones far sooner than spelling.
    handle_arpabet_ambiguous: str = "first"

    @property
    def corpus_dir(self) -> Path:
        return self.corpus if self.corpus is not None else self.out / "corpus"


def voice_config() -> Any:
    """The recipe's model: FastPitch 1.1 at D=128, 3+3 FFT layers, sized for the 2-hour CPU budget."""
    from jaxtts.train.fastpitch_loop import PUBLISHED

    return dataclasses.replace(
        PUBLISHED, symbols_embedding_dim=128,
        in_fft_n_layers=3, in_fft_n_heads=2, in_fft_d_head=64, in_fft_conv1d_filter_size=512, in_fft_output_size=128,
        out_fft_n_layers=3, out_fft_n_heads=2, out_fft_d_head=64, out_fft_conv1d_filter_size=512,
        out_fft_output_size=128, dur_predictor_filter_size=128, pitch_predictor_filter_size=128,
        energy_predictor_filter_size=128)


def _model_config(recipe: Recipe, n_speakers: int) -> Any:
    from jaxtts.train.fastpitch_loop import model_config

    if recipe.config == "voice":
        return dataclasses.replace(voice_config(), n_speakers=n_speakers)
    return model_config(recipe.config, n_speakers)


# ---------------------------------------------------------------------------------------------
# Progress.

def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_progress(out: Path) -> dict:
    path = Path(out) / PROGRESS
    return json.loads(path.read_text()) if path.is_file() else {"stages": {}}


def _record(out: Path, stage: str, seconds: float, done: bool, **results: Any) -> None:
    progress = read_progress(out)
    entry = progress["stages"].setdefault(stage, {"seconds": 0.0, "runs": 0})
    entry.update(results, done=done, seconds=round(entry["seconds"] + seconds, 2), runs=entry["runs"] + 1,
                 updated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    _write_atomic(out / PROGRESS, json.dumps(progress, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------
# Stages. Each returns its results for progress.json and is safe to rerun.

def stage_corpus(recipe: Recipe) -> dict:
    corpus = recipe.corpus_dir
    if recipe.transcripts is None:
        rows = _metadata(corpus)
        if len(rows) <= recipe.held_out:
            raise InputError(f"{corpus} has {len(rows)} sentences, not more than --held-out {recipe.held_out}; "
                             "give transcripts to render more")
        return {"sentences": len(rows), "rendered": False}
    from jaxtts.recipes import voice_corpus

    summary = voice_corpus.build(voice_corpus.read_transcripts(recipe.transcripts, 0, recipe.sentences), corpus,
                                 progress=False)
    if summary["failed"]:
        raise InputError(f"festival could not render {len(summary['failed'])} sentences "
                         f"({', '.join(summary['failed'][:5])}); rerun to retry them")
    return {"sentences": summary["sentences"], "this_run": summary["this_run"]}


def _metadata(corpus: Path) -> list[str]:
    path = corpus / "metadata.csv"
    if not path.is_file():
        raise InputError(f"{corpus} has no metadata.csv: give transcripts to render a corpus, or a corpus in "
                         "LJSpeech layout")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def stage_split(recipe: Recipe) -> dict:
    """OUT/split/{test,train}: metadata.csv (the first `held_out` sentences are the test set) and
    wavs/ → the corpus's."""
    rows = _metadata(recipe.corpus_dir)[:recipe.sentences]
    parts = {"test": rows[:recipe.held_out], "train": rows[recipe.held_out:]}
    for name, part in parts.items():
        d = recipe.out / "split" / name
        d.mkdir(parents=True, exist_ok=True)
        _write_atomic(d / "metadata.csv", "".join(r + "\n" for r in part))
        wavs = d / "wavs"
        if not wavs.is_symlink():
            wavs.symlink_to((recipe.corpus_dir / "wavs").resolve(), target_is_directory=True)
    return {name: len(part) for name, part in parts.items()}


def stage_prepare(recipe: Recipe) -> dict:
    from jaxtts.text.encoder import TextEncoder
    from jaxtts.train import data

    results = {}
    encoder = TextEncoder(handle_arpabet_ambiguous=recipe.handle_arpabet_ambiguous)
    for name in ("train", "test"):
        report = data.prepare(recipe.out / "split" / name, recipe.out / "prepared" / name, encode=encoder,
                              progress=False)
        if report.skipped:
            print(f"prepare {name}: skipped {report.skipped}", file=sys.stderr)
        results[name] = {"prepared": report.prepared, "computed": report.computed, "skipped": len(report.skipped)}
    return results


def _run_config(recipe: Recipe) -> Any:
    from jaxtts.train import fastpitch as tf
    from jaxtts.train import optim
    from jaxtts.train.fastpitch_loop import RunConfig

    return RunConfig(steps=recipe.steps, batch_size=recipe.batch_size, seed=recipe.seed, log_every=recipe.log_every,
                     checkpoint_every=recipe.checkpoint_every, token_step=recipe.token_step,
                     frame_step=recipe.frame_step, loss=tf.LossConfig(),
                     optim=optim.OptimConfig(learning_rate=recipe.learning_rate, warmup_steps=recipe.warmup_steps))


def _trained(recipe: Recipe, progress: bool = False) -> tuple[Any, Any, Any]:
    """(dataset, model config, state): trains up to `recipe.steps`, resuming; a finished run only loads."""
    import jax

    from jaxtts.train import fastpitch as tf
    from jaxtts.train.data import PreparedDataset
    from jaxtts.train.fastpitch_loop import train

    # Compiled steps persist, so a resumed run (a new session) does not compile its shapes again.
    jax.config.update("jax_compilation_cache_dir", str(recipe.out / "xla_cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    dataset = PreparedDataset(recipe.out / "prepared" / "train")
    config = _model_config(recipe, dataset.n_speakers)
    params = {**tf.init_params(config, jax.random.key(recipe.seed)),
              "pitch_mean": np.full((1,), dataset.pitch_mean, np.float32),
              "pitch_std": np.full((1,), dataset.pitch_std, np.float32)}
    batch_size = min(recipe.batch_size, len(dataset))
    run = dataclasses.replace(_run_config(recipe), batch_size=batch_size)
    state = train(dataset, recipe.out / "train", config, run, init_params=params, resume=True, progress=progress)
    return dataset, config, state


def _metrics(recipe: Recipe) -> list[dict]:
    path = recipe.out / "train" / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def stage_train(recipe: Recipe) -> dict:
    _, config, state = _trained(recipe, progress=True)
    metrics = _metrics(recipe)
    last = metrics[-1] if metrics else {}
    n_params = sum(int(np.size(v)) for v in _leaves(state.params))
    return {"step": int(state.step), "parameters": n_params,
            "last": {k: last[k] for k in ("loss", "mel_loss", "attn_loss", "duration_predictor_loss", "steps_per_s")
                     if k in last}}


def _leaves(tree: Any) -> list:
    import jax

    return jax.tree.leaves(tree)


def stage_export(recipe: Recipe) -> dict:
    """OUT/model: the inference parameters (no aligner) as a converted jaxtts directory; float16 when
    float32 would not fit in `MAX_MODEL_BYTES`."""
    import jax

    from jaxtts import checkpoint

    dataset, config, state = _trained(recipe)
    text = dataset.text
    inference = {k: v for k, v in jax.tree.map(np.asarray, state.params).items() if k != "attention"}
    n_bytes = sum(v.nbytes for v in _leaves(inference))
    dtype = "float32"
    if n_bytes > MAX_MODEL_BYTES:
        inference, dtype = jax.tree.map(lambda v: v.astype(np.float16), inference), "float16"
    path = checkpoint.save(recipe.out / "model", model="fastpitch", config=config.to_dict(), params=inference,
                           text=text.to_dict() if text is not None else None,
                           source={"recipe": "jaxtts.recipes.voice", "step": int(state.step)},
                           license=_license(recipe), overwrite=True)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return {"path": str(path), "bytes": size, "dtype": dtype, "step": int(state.step)}


def _license(recipe: Recipe) -> str:
    """The exported voice's notices: what it was learnt from, and the teacher's own licence (kept)."""
    notices = recipe.corpus_dir / "TEACHER_COPYRIGHT"
    teacher = notices.read_text(encoding="utf-8") if notices.is_file() else "(festvox-us-slt-hts: EST-2003)\n"
    return ("jaxtts voice: a FastPitch trained by jaxtts.recipes.voice on speech rendered by festival with the\n"
            "CMU ARCTIC SLT HTS voice, reading LJSpeech transcripts (public domain). The weights are distributed\n"
            "with jaxtts (Apache-2.0); the teacher voice's notices are kept below as its licence asks.\n\n"
            + teacher)


def stage_evaluate(recipe: Recipe) -> dict:
    import jaxtts
    from jaxtts import evaluate, voices
    from jaxtts.engine import Synthesizer
    from jaxtts.train.data import PreparedDataset

    test = recipe.out / "split" / "test"
    rows = [r.split("|") for r in _metadata(test)]
    synth = Synthesizer(jaxtts.load_fastpitch(recipe.out / "model"), voices.load_generator(recipe.generator))
    recognizer = evaluate.Recognizer()
    ours = evaluate.score(((r[0], r[-1], synth.synthesize(r[-1]), synth.sample_rate) for r in rows), recognizer)
    teacher = evaluate.score(evaluate.read_corpus(test), recognizer)
    _, config, state = _trained(recipe)
    aligner = aligner_error(PreparedDataset(recipe.out / "prepared" / "test"), config, state.params,
                            recipe.corpus_dir / "phones")
    results = {"wer": ours.wer, "teacher_wer": teacher.wer, "ratio": ours.wer / max(teacher.wer, 1e-9),
               "sentences": len(ours.utterances), "words": ours.words, "aligner": aligner, "step": int(state.step)}
    _write_atomic(recipe.out / "evaluation.json", json.dumps(
        {**results, "ours": ours.to_dict(), "teacher": teacher.to_dict()}, indent=2) + "\n")
    return results


def evaluation_lines(results: dict) -> list[str]:
    """The evaluation as a person reads it."""
    lines = [f"WER ours {results['wer']:.3f}, teacher {results['teacher_wer']:.3f} (ratio {results['ratio']:.2f}; "
             f"target <= 1.2) over {results['sentences']} held-out sentences ({results['words']} words), "
             f"step {results['step']}"]
    a = results["aligner"]
    if a["phones"]:
        lines.append(f"aligner boundary error {a['mae_frames']:.2f} frames (mean |end - festival's end| over "
                     f"{a['phones']} phones of {a['utterances']} sentences); attention diagonality "
                     f"{a['diagonality']:.3f} (mean per-frame peak of the soft alignment)")
    else:
        lines.append("aligner boundary error: no festival phone times in the corpus")
    return lines


# ---------------------------------------------------------------------------------------------
# The aligner against festival's phone boundaries.

def festival_phones(labels: dict) -> list[tuple[str, float]]:
    """(ARPAbet phone without stress, end time in s) of festival's phones, pauses left out."""
    return [(FESTIVAL_TO_ARPABET.get(name, name.upper()), end) for name, end in labels["phones"]
            if name not in FESTIVAL_PAUSES]


def token_phones(ids: Sequence[int]) -> list[tuple[int, str]]:
    """(token position, ARPAbet phone without stress) of the ids that are phones."""
    from jaxtts.text.symbols import SYMBOLS

    return [(i, SYMBOLS[t][1:].rstrip("012")) for i, t in enumerate(ids) if SYMBOLS[t].startswith("@")]


def token_words(ids: Sequence[int]) -> list[list[int]]:
    """Token positions of each word: the runs between spaces and punctuation (an apostrophe or a
    hyphen stays inside its word)."""
    from jaxtts.text.symbols import PUNCTUATION, SYMBOLS

    breaks = set(PUNCTUATION) - {"'"}
    words: list[list[int]] = [[]]
    for i, t in enumerate(ids):
        if SYMBOLS[t] in breaks:
            if words[-1]:
                words.append([])
        else:
            words[-1].append(i)
    return [w for w in words if w]


def boundary_errors(ids: Sequence[int], durations: Sequence[float], labels: dict,
                    frames_per_s: float) -> np.ndarray:
    """|model end − festival end| in frames at each boundary the two share: every phone token's end
    and every word's end.

    The model's phones (its tokens' ARPAbet, stress dropped) and festival's (pauses dropped) are
    matched by longest common subsequence, so a word the two lexicons pronounce differently only
    loses its unmatched phones; words spelled as letters (CMUdict-ambiguous or unknown words) have
    no phones to match, so their ends are compared with festival's word ends, word for word when
    both count the same words. A token ends where the cumulative durations say.
    """
    ours, theirs = token_phones(ids), festival_phones(labels)
    ends = np.cumsum(np.asarray(durations, np.float64))
    matcher = difflib.SequenceMatcher(None, [p for _, p in ours], [p for p, _ in theirs], autojunk=False)
    truth = {ours[a + k][0]: theirs[b + k][1] for a, b, size in matcher.get_matching_blocks() for k in range(size)}
    words, their_words = token_words(ids), labels.get("words", [])
    if len(words) == len(their_words):
        for word, (_, end) in zip(words, their_words):
            truth.setdefault(word[-1], end)
    return np.asarray([abs(ends[i] - t * frames_per_s) for i, t in sorted(truth.items())], np.float64)


def aligner_error(dataset: Any, config: Any, params: Any, phones: Path) -> dict:
    """The trained aligner's hard (MAS) durations on `dataset` against festival's phone end times in
    `phones/ID.json`: mean absolute error in mel frames, and the soft alignment's mean per-frame peak."""
    import jax
    import jax.numpy as jnp

    from jaxtts.train import fastpitch as tf
    from jaxtts.train.fastpitch_loop import collate

    module = tf.FastPitchTraining(config)
    apply = jax.jit(lambda p, b: module.apply({"params": p}, b, True))
    frames_per_s = dataset.config.sampling_rate / dataset.config.hop_length
    errors, peaks, used = [], [], 0
    for i in range(len(dataset)):
        example = dataset[i]
        path = phones / f"{example.id}.json"
        if not path.is_file():
            continue
        batch = tf.pad_batch(collate([example]), 16, 64)
        out = apply(params, jax.tree.map(jnp.asarray, batch))
        n, t = len(example.ids), example.mel.shape[1]
        durations = np.asarray(out.attn_hard_dur[0, :n])
        errors.append(boundary_errors(example.ids, durations, json.loads(path.read_text()), frames_per_s))
        peaks.append(float(np.asarray(out.attn_soft[0, 0, :t, :n]).max(axis=1).mean()))
        used += 1
    flat = np.concatenate(errors) if errors else np.zeros(0)
    return {"mae_frames": float(flat.mean()) if flat.size else None, "phones": int(flat.size), "utterances": used,
            "diagonality": float(np.mean(peaks)) if peaks else None}


# ---------------------------------------------------------------------------------------------

RUNNERS = {"corpus": stage_corpus, "split": stage_split, "prepare": stage_prepare, "train": stage_train,
           "export": stage_export, "evaluate": stage_evaluate}


def run(recipe: Recipe, stages: Sequence[str] = STAGES) -> dict:
    """Run `stages` in order, each resuming what an earlier run left; returns progress.json's content."""
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise InputError(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    recipe.out.mkdir(parents=True, exist_ok=True)
    _write_atomic(recipe.out / "recipe.json", json.dumps(
        {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(recipe).items()}, indent=2) + "\n")
    for stage in stages:
        t0 = time.perf_counter()
        print(f"[voice] {stage} ...", file=sys.stderr, flush=True)
        try:
            results = RUNNERS[stage](recipe)
        except BaseException:
            _record(recipe.out, stage, time.perf_counter() - t0, False)
            raise
        _record(recipe.out, stage, time.perf_counter() - t0, True, results=results)
        print(f"[voice] {stage} done in {time.perf_counter() - t0:.1f} s: {json.dumps(results)}", file=sys.stderr,
              flush=True)
        if stage == "evaluate":
            print("\n".join(evaluation_lines(results)))
    return read_progress(recipe.out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxtts.recipes.voice", description=__doc__.splitlines()[0])
    parser.add_argument("transcripts", type=Path, nargs="?",
                        help="id|text lines for the teacher (LJSpeech's transcripts.txt); omit with an existing --corpus")
    parser.add_argument("out", type=Path, help="run directory (created; an existing one is resumed)")
    parser.add_argument("--corpus", type=Path, help="corpus directory (default OUT/corpus)")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated subset of " + ",".join(STAGES))
    defaults = Recipe(Path("."))
    for field in ("sentences", "held_out", "steps", "batch_size", "warmup_steps", "checkpoint_every", "log_every",
                  "token_step", "frame_step", "seed"):
        parser.add_argument("--" + field.replace("_", "-"), type=int, default=getattr(defaults, field))
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--config", default=defaults.config, help="voice | small | published | FILE.json")
    parser.add_argument("--generator", default=defaults.generator, help="bundled vocoder: lj | universal")
    parser.add_argument("--handle-arpabet-ambiguous", default=defaults.handle_arpabet_ambiguous, choices=("first", "ignore"),
                        help="words with several CMUdict pronunciations: their first (default) or spelled (NVIDIA's default)")
    args = parser.parse_args(argv)
    fields = {f.name for f in dataclasses.fields(Recipe)}
    recipe = Recipe(**{k: v for k, v in vars(args).items() if k in fields})
    run(recipe, [s for s in args.stages.split(",") if s])
    return 0


if __name__ == "__main__":
    sys.exit(main())
