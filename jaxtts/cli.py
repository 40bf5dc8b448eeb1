"""The `jaxtts` command.

Each subcommand is one function that takes its argparse parser, adds its arguments and returns
the handler to run; register it in `COMMANDS`. Its docstring's first line is its help. Handlers
raise `JaxTTSError` for user mistakes: `main` prints those as one line and exits with 2.
Import heavy modules (JAX, torch) inside handlers, or inside the setup function where its
arguments need them (only the command being run is set up), so that text commands start fast.
"""
from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from jaxtts.errors import InputError, JaxTTSError

if TYPE_CHECKING:
    import numpy as np

Handler = Callable[[argparse.Namespace], int]


def normalize(parser: argparse.ArgumentParser) -> Handler:
    """Print text normalized for speech, or its phonemes or model ids."""
    parser.add_argument("text", nargs="?", help="text to convert (or use --stdin)")
    parser.add_argument("--stdin", action="store_true", help="convert each line of stdin to one output line")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--phonemes", action="store_true", help="print phonemes: hello {W ER1 L D}.")
    output.add_argument("--ids", action="store_true", help="print model input ids, space-separated")

    def run(args: argparse.Namespace) -> int:
        from jaxtts import text

        def ids(line: str) -> str:
            return " ".join(map(str, text.to_ids(line)))

        convert = ids if args.ids else text.to_phonemes if args.phonemes else text.normalize
        if args.stdin == (args.text is not None):
            parser.error("give either TEXT or --stdin")
        if args.stdin:
            return _filter_lines(convert)
        print(convert(args.text))
        return 0

    return run


def synthesize(parser: argparse.ArgumentParser) -> Handler:
    """Speak text into a WAV file, one WAV per input line, or raw PCM on stdout."""
    parser.add_argument("text", nargs="?", help="text to speak (default: --text-file, else stdin)")
    parser.add_argument("--text-file", metavar="FILE", help="read the text from FILE ('-' = stdin)")
    out = parser.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", metavar="WAV", help="write all of the text into one WAV file")
    out.add_argument("--output-dir", metavar="DIR", help="write one WAV per input line, DIR/000001.wav, ...")
    out.add_argument("--raw", choices=["f32", "s16"], help="stream mono float32/int16 little-endian PCM at the vocoder's rate "
                     "(22,050 Hz for NVIDIA's; said on stderr) to stdout, a sentence at a time "
                     "(| aplay -r 22050 -f S16_LE)")
    flags = _control_arguments(parser)
    parser.add_argument("--ssml", action=argparse.BooleanOptionalAction,
                        help="read the input as an SSML <speak> document (--output-dir: each line one); "
                             "default: when it starts with <speak>; --no-ssml: always as plain text")
    parser.add_argument("--bf16", action="store_true", help="compute in bfloat16 (faster on TPU/GPU)")
    parser.add_argument("--device", choices=["cpu", "gpu", "tpu"], help="where to run (default: JAX's default device)")
    parser.add_argument("--skip-existing", action="store_true",
                        help="--output-dir: skip lines whose WAV is already there (resume a killed run)")
    _model_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        import jax.numpy as jnp
        import numpy as np

        from jaxtts.engine import Synthesizer
        from jaxtts.errors import TextError

        lines = _input_lines(parser, args)
        controls = {name: getattr(args, name) for name in flags}
        if args.skip_existing and not args.output_dir:
            parser.error("--skip-existing goes with --output-dir")
        if args.raw and sys.stdout.isatty():
            raise InputError("--raw writes binary audio; pipe it somewhere (| aplay -r 22050 -f S16_LE) instead of the terminal")
        if args.output and (Path(args.output).is_dir() or not Path(args.output).resolve().parent.is_dir()):
            raise InputError(f"cannot write {args.output}: give a file in an existing directory, e.g. -o out.wav")
        acoustic, vocoder = _load_models(args)
        synth = Synthesizer(acoustic, vocoder, dtype=jnp.bfloat16 if args.bf16 else None, devices=_devices(args.device))
        if args.output:
            seconds = _write_wav(args.output, synth.stream("\n".join(lines), ssml=args.ssml, **controls),
                                 synth.sample_rate, progress=_progress(args))
            print(f"{args.output}: {seconds:.2f} s at {synth.sample_rate} Hz", file=sys.stderr)
            return 0
        if args.output_dir:
            result = synth.synthesize_to_dir(lines, args.output_dir, progress=_progress(args),
                                             skip_existing=args.skip_existing, ssml=args.ssml, **controls)
            skipped = f"; lines with nothing to speak: {', '.join(map(str, result.skipped))}" if result.skipped else ""
            kept = f"; {result.existing} already there" if result.existing else ""
            print(f"{args.output_dir}: {result.written} WAV files{kept}{skipped}", file=sys.stderr)
            return 0 if result.written or result.existing else 2
        failed, spoken = 0, False
        print(f"jaxtts: {'int16' if args.raw == 's16' else 'float32'} PCM at {synth.sample_rate} Hz", file=sys.stderr)
        if args.ssml:  # one document, however many lines it spans
            lines = ["\n".join(lines)]
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                for i, chunk in enumerate(synth.stream(line, ssml=args.ssml, **controls)):
                    if i == 0 and spoken:  # the pause between sentences, also between lines
                        chunk = np.concatenate([synth.silence, chunk])
                    pcm = _int16(chunk) if args.raw == "s16" else chunk.astype("<f4")
                    sys.stdout.buffer.write(pcm.tobytes())
                    sys.stdout.buffer.flush()
                    spoken = True
            except TextError as e:
                failed += 1
                print(f"jaxtts: line {number}: {_one_line(e)}", file=sys.stderr)
        if not spoken:
            print("jaxtts: error: nothing to speak in the input", file=sys.stderr)
        return 2 if failed or not spoken else 0

    return run


def convert(parser: argparse.ArgumentParser) -> Handler:
    """Convert a FastPitch or HiFi-GAN checkpoint (.pt, .nemo) into a jaxtts model directory."""
    parser.add_argument("src", help="NVIDIA/jik876 .pt file, NeMo .nemo archive")
    parser.add_argument("dst", help="directory to create (load it with jaxtts.load_fastpitch/load_hifigan)")
    parser.add_argument("--ema", action="store_true", help="FastPitch: take the EMA weights (ema_state_dict)")
    parser.add_argument("--config", metavar="JSON", help="jik876 HiFi-GAN: its config.json, if not beside SRC")
    parser.add_argument("--force", action="store_true", help="replace DST if it exists")

    def run(args: argparse.Namespace) -> int:
        from jaxtts import checkpoint

        if args.ema and args.config:
            parser.error("--ema is for FastPitch, --config for HiFi-GAN: give one")
        dst = Path(args.dst).expanduser()
        if dst.exists() and (not dst.is_dir() or any(dst.iterdir())) and not args.force:
            raise InputError(f"{dst} already exists; pass --force to replace it, or choose a new DST")
        checkpoint.check_destination(dst.resolve(), overwrite=args.force)  # refused before converting, not after
        # Each option belongs to one model: a checkpoint of the other kind is an error, not ignored.
        options = ({"expect": "fastpitch", "ema": True} if args.ema
                   else {"expect": "hifigan", "config": args.config} if args.config else {})
        _status(args, f"converting {args.src} ...")
        dst = checkpoint.convert(args.src, dst, overwrite=args.force, **options)
        print(f"{args.src} → {dst} ({checkpoint.read_meta(dst)['model']})")
        return 0

    return run


def download(parser: argparse.ArgumentParser) -> Handler:
    """Download NVIDIA's published FastPitch + HiFi-GAN once and convert them for jaxtts."""
    parser.add_argument("--dir", help="cache directory (default: $JAXTTS_CACHE, else $XDG_CACHE_HOME/jaxtts or "
                                      "~/.cache/jaxtts)")

    def run(args: argparse.Namespace) -> int:
        from jaxtts import hub

        if args.dir:
            os.environ["JAXTTS_CACHE"] = str(Path(args.dir).expanduser().resolve())
        for kind, path in hub.ensure_models(progress=_progress(args)).items():
            print(f"{kind}: {path}")
        return 0

    return run


def bench(parser: argparse.ArgumentParser) -> Handler:
    """Run every benchmark (from a source checkout): JSON + a markdown table."""
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes (CI)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these (text, fastpitch, hifigan, engine)")
    parser.add_argument("--out", metavar="DIR", help="where results.json and results.md go (default benchmarks/results)")

    def run(args: argparse.Namespace) -> int:
        import importlib.util

        script = Path(__file__).resolve().parents[1] / "benchmarks" / "run_all.py"
        if not script.is_file():
            raise InputError("the benchmarks live in the source checkout, not in the installed package: clone the "
                             "jaxtts repository, `pip install -e .` it and run `jaxtts bench` there")
        spec = importlib.util.spec_from_file_location("run_all", script)
        run_all = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(run_all)
        argv = ["--quick"] * args.quick + ["--only", *args.only] * bool(args.only) + ["--out", args.out] * bool(args.out)
        return run_all.main(argv)

    return run


def parity(parser: argparse.ArgumentParser) -> Handler:
    """Compare the PyTorch reference with the JAX models on your checkpoints, stage by stage."""
    _model_arguments(parser, voice=False)
    parser.add_argument("--xla", action="store_true", help="run the reference on torch_xla's device (TPU, GPU, or "
                                                           "PJRT_DEVICE=CPU) instead of eagerly on the CPU")
    parser.add_argument("--text", action="append", help="a text to compare on (repeatable; default: three built-in)")
    parser.add_argument("--speaker", type=int, default=0, help="speaker id of a multi-speaker model (default 0)")

    def run(args: argparse.Namespace) -> int:
        from jaxtts import parity as check

        paths = _model_paths(args)
        _status(args, "running the PyTorch reference and the JAX models on the texts ...")
        report = check.run(paths["fastpitch"], paths["hifigan"], args.text or check.TEXTS, xla=args.xla,
                           speaker=args.speaker, ema=args.ema, hifigan_config=args.hifigan_config)
        print(report)
        return 0 if report.passed else 1

    return run


def prepare(parser: argparse.ArgumentParser) -> Handler:
    """Compute a dataset's training features (mel, pitch, energy, ids) once, in parallel, resumably."""
    parser.add_argument("data", help="LJSpeech-layout directory (metadata.csv + wavs/) or an NVIDIA filelist "
                                     "(wavs/x.wav|pitch/x.pt|text[|speaker])")
    parser.add_argument("out", help="directory for the features; running again computes only what is missing")
    parser.add_argument("--root", metavar="DIR", help="the directory a filelist's paths are relative to "
                                                      "(default: the filelist's directory)")
    parser.add_argument("--pitch", choices=["pyin", "praat"], default="pyin",
                        help="pyin: NVIDIA's estimator (default); praat: Praat's tracker, faster, not NVIDIA's pitch")
    parser.add_argument("--resample", action="store_true", help="resample files not at 22,050 Hz (default: refuse)")
    parser.add_argument("--workers", type=int, metavar="N", help="processes (default: one per core)")
    parser.add_argument("--text-like", metavar="FASTPITCH", help="write the ids as this checkpoint's training text "
                        "was written (its text encoder; for fine-tuning it with --init); default: NVIDIA's published")

    def run(args: argparse.Namespace) -> int:
        from jaxtts.train import data

        encoder = None
        if args.text_like:
            from jaxtts import checkpoint
            from jaxtts.text.encoder import TextEncoder

            encoder = checkpoint.load_any(args.text_like, "fastpitch").text or TextEncoder()
        report = data.prepare(args.data, args.out, root=args.root, encode=encoder, pitch_method=args.pitch,
                              resample=args.resample, workers=args.workers)
        for uid, reason in report.skipped.items():
            print(f"jaxtts: skipped {uid}: {reason}", file=sys.stderr)
        print(f"{report.out}: {report.prepared} utterances ({report.computed} computed, {report.cached} already "
              f"there), {len(report.skipped)} skipped; pitch mean {report.pitch_mean:.2f} Hz, std "
              f"{report.pitch_std:.2f} Hz")
        return 0

    return run


def train(parser: argparse.ArgumentParser) -> Handler:
    """Train a model on a prepared dataset (NVIDIA's recipe), or fine-tune one with --init."""
    from jaxtts.train import fastpitch_cli, hifigan_cli

    models = parser.add_subparsers(dest="model", required=True, metavar="MODEL")
    handlers = {"fastpitch": fastpitch_cli.add_arguments(models.add_parser("fastpitch", help="FastPitch 1.1 with its aligner")),
                "hifigan": hifigan_cli.add_arguments(models.add_parser("hifigan", help="HiFi-GAN generator with MPD + MSD"))}

    def run(args: argparse.Namespace) -> int:
        from jaxtts.engine import enable_compilation_cache

        enable_compilation_cache()  # a resumed run (or the next one) loads its step programs, not compiles them
        return handlers[args.model](args)

    return run


def evaluate(parser: argparse.ArgumentParser) -> Handler:
    """Word error rate of synthesized or recorded speech, as an offline recognizer hears it."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text-file", metavar="FILE", help="synthesize each line of FILE, then recognize it")
    source.add_argument("--corpus", metavar="DIR", help="recognize recordings in LJSpeech layout (DIR/metadata.csv, DIR/wavs/)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N lines or recordings")
    parser.add_argument("--json", metavar="FILE", help="also write each utterance's reference, hypothesis and WER")
    _model_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        import json

        from jaxtts import evaluate as ev

        if args.corpus:
            items = ev.read_corpus(args.corpus, args.limit)
        else:
            from jaxtts.engine import Synthesizer

            try:
                lines = Path(args.text_file).expanduser().read_text(encoding="utf-8").splitlines()[:args.limit]
            except OSError as e:
                raise InputError(f"cannot read --text-file {args.text_file}: {e.strerror}") from None
            synth = Synthesizer(*_load_models(args))
            items = ev.synthesized(synth, lines)
        report = ev.score(items, progress=True)
        if args.json:
            from jaxtts import files

            with files.atomic_write(Path(args.json).expanduser()) as tmp:
                tmp.write_text(json.dumps(report.to_dict(), indent=1) + "\n", encoding="utf-8")
        print(report)
        return 0

    return run


COMMANDS: dict[str, Callable[[argparse.ArgumentParser], Handler]] = {
    "normalize": normalize,
    "synthesize": synthesize,
    "convert": convert,
    "download": download,
    "bench": bench,
    "parity": parity,
    "prepare": prepare,
    "train": train,
    "evaluate": evaluate,
}


def _control_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """A flag for every field of `Controls` that has a help text (`--pace`, `--pitch-flatten`, ...),
    typed by its default; returns the fields' names."""
    import dataclasses

    from jaxtts.models.controls import Controls

    names = []
    for field in dataclasses.fields(Controls):
        if not field.metadata.get("help"):
            continue
        flag, help = f"--{field.name.replace('_', '-')}", field.metadata["help"].replace("%", "%%")
        if isinstance(field.default, bool):
            parser.add_argument(flag, action="store_true", help=help)
        else:
            parser.add_argument(flag, type=type(field.default), default=field.default, metavar=field.metadata["metavar"],
                                help=help)
        names.append(field.name)
    return names


def _model_arguments(parser: argparse.ArgumentParser, *, voice: bool = True) -> None:
    default = "the --voice's" if voice else "NVIDIA's, from the cache; see `jaxtts download`"
    if voice:
        parser.add_argument("--voice", choices=["auto", "jaxtts", "nvidia"], default="auto",
                            help="jaxtts: the bundled voice (offline); nvidia: NVIDIA's published one (downloaded and "
                                 "converted once); auto (default): NVIDIA's when already in the cache, else jaxtts")
    parser.add_argument("--fastpitch", metavar="PATH", help=f"FastPitch: .pt, .nemo or converted directory (default: {default})")
    parser.add_argument("--hifigan", metavar="PATH", help=f"HiFi-GAN generator: .pt, .nemo or converted directory (default: {default})")
    parser.add_argument("--ema", action="store_true", help="FastPitch: take the EMA weights of a .pt")
    parser.add_argument("--hifigan-config", metavar="JSON", help="jik876 HiFi-GAN: its config.json, if not beside it")


def _model_paths(args: argparse.Namespace) -> dict[str, str | Path]:
    """--fastpitch/--hifigan; where not given, the --voice's (said on stderr unless --quiet), or for
    commands without --voice the published ones from the cache (downloaded once)."""
    paths = {"fastpitch": args.fastpitch, "hifigan": args.hifigan}
    missing = [kind for kind, path in paths.items() if path is None]
    if missing and hasattr(args, "voice"):
        from jaxtts.engine import find_voice

        voice = find_voice(args.voice, progress=_progress(args))
        paths = {"fastpitch": args.fastpitch or voice.fastpitch, "hifigan": args.hifigan or voice.hifigan}
        if not args.quiet:
            print(f"jaxtts: speaking with {voice.about}" if len(missing) == 2 else
                  f"jaxtts: the {' and '.join(missing)} of {voice.name}'s voice", file=sys.stderr)
    elif missing:
        from jaxtts import hub

        paths.update(hub.ensure_models(missing, progress=_progress(args)))
    return paths


def _load_models(args: argparse.Namespace) -> tuple:
    from jaxtts import checkpoint

    paths = _model_paths(args)
    return (checkpoint.load_fastpitch(paths["fastpitch"], ema=args.ema),
            checkpoint.load_hifigan(paths["hifigan"], config=args.hifigan_config))


def _progress(args: argparse.Namespace) -> bool:
    """Progress bars and status lines on stderr: for a person at a terminal, unless --quiet."""
    return not args.quiet and sys.stderr.isatty()


def _status(args: argparse.Namespace, message: str) -> None:
    if _progress(args):
        print(f"jaxtts: {message}", file=sys.stderr, flush=True)


def _write_wav(path: str, chunks: Iterable[np.ndarray], rate: int, *, progress: bool) -> float:
    """Stream `chunks` into the WAV `path` as they come, so memory holds one sentence however long the
    text; seconds written. A file is written atomically (`files.atomic_write`: replaced only by a
    complete WAV); a device (/dev/stdout) is written in place."""
    import contextlib

    import soundfile
    import tqdm

    from jaxtts import files

    target = Path(path)
    direct = target.exists() and not target.is_file()
    samples = 0
    if not direct:
        files.remove_stale_temporaries(target)  # of a run that was killed (SIGKILL) writing it
    try:
        with (contextlib.nullcontext(target) if direct else files.atomic_write(target)) as out, \
                soundfile.SoundFile(out, "w", rate, 1, "PCM_16", format="WAV") as wav, \
                tqdm.tqdm(unit=" sentences", disable=not progress) as bar:
            for chunk in chunks:
                wav.write(chunk)
                samples += len(chunk)
                bar.update()
    except soundfile.SoundFileError as e:
        raise InputError(f"cannot write {path}: {e}") from None
    return samples / rate


def _int16(audio: np.ndarray) -> np.ndarray:
    """float [-1, 1] → little-endian int16 exactly as soundfile writes PCM_16 WAVs."""
    import numpy as np

    return np.clip(np.floor(audio * 32768.0), -32768, 32767).astype("<i2")


def _devices(platform: str | None) -> list | None:
    """All devices of `platform` (None: JAX's default), or advice on how to get them."""
    if platform is None:
        return None
    import jax

    try:
        return jax.devices(platform)
    except RuntimeError:
        have = sorted({d.platform for d in jax.devices()})
        raise InputError(f"--device {platform}: JAX finds no {platform} here (only {', '.join(have)}); install "
                         f"{'jax[cuda12]' if platform == 'gpu' else 'jax[tpu]'} on a machine that has one, "
                         "or use --device cpu") from None


def _input_lines(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Iterable[str]:
    """The input's lines: TEXT, else --text-file, else stdin (read lazily, so a pipe can feed --raw live)."""
    if args.text is not None and args.text_file is not None:
        parser.error("give TEXT or --text-file, not both")
    if args.text is not None:
        return args.text.splitlines() or [""]
    if args.text_file not in (None, "-"):
        path = Path(args.text_file).expanduser()
        try:
            return path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as e:
            raise InputError(f"cannot read --text-file {path}: {e.strerror}") from None
    if sys.stdin.isatty():
        parser.error("give TEXT, --text-file FILE, or pipe text into stdin")
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    return (line.rstrip("\r\n") for line in sys.stdin)


def _filter_lines(convert: Callable[[str], str]) -> int:
    """One output line per stdin line, flushed at once so the command can serve as a pipe filter.

    A line that fails becomes an empty line plus a message on stderr; the exit status is then 2.
    """
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(encoding="utf-8", errors="replace", newline="\n")  # only "\n" ends a line
    failed = 0
    for number, line in enumerate(sys.stdin, 1):
        try:
            out = convert(line.removesuffix("\n").removesuffix("\r"))
        except JaxTTSError as e:
            out, failed = "", failed + 1
            print(f"jaxtts: line {number}: {_one_line(e)}", file=sys.stderr)
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
    return 2 if failed else 0


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("jaxtts")
    except metadata.PackageNotFoundError:  # a source checkout on PYTHONPATH, not installed
        return "(not installed)"


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line too, like every other user error (subcommands inherit this)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"jaxtts: error: {message} (see `{self.prog} --help`)\n")


def _terminated(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="jaxtts", description="FastPitch + HiFi-GAN text-to-speech in JAX.")
    parser.add_argument("--version", action="version", version=f"jaxtts {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, setup in COMMANDS.items():
        summary = (setup.__doc__ or "").strip().splitlines()[0]
        sub = commands.add_parser(name, help=summary, description=summary)
        sub.add_argument("-q", "--quiet", action="store_true", help="no progress or status lines on stderr "
                                                                    "(they only appear on a terminal anyway)")
        if name == chosen:  # only the command that runs sets up its arguments (a model's pull in JAX)
            sub.set_defaults(handler=setup(sub))
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    previous = None
    if threading.current_thread() is threading.main_thread():  # SIGTERM unwinds like Ctrl-C: writers remove their temporaries
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return args.handler(args)
    except JaxTTSError as e:
        print(f"jaxtts: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other filters do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as e:  # the file system said no (permissions, a full disk): the user's to fix, no traceback
        print(f"jaxtts: error: {_one_line(e)}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
