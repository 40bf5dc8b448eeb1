"""Hostile and careless input: nothing outside the target is deleted or written, failures are one line.

The CLI runs in-process through `jaxtts.cli.main`, or, where an input could exhaust the machine, as
`python -m jaxtts` in a child process under address-space, CPU-time and file-size limits; small
generated checkpoints in NVIDIA's formats and hostile archives built on the spot.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import yaml

import jaxtts
from jaxtts import checkpoint
from jaxtts.cli import main
from jaxtts.errors import CheckpointError, InputError

ROOT = Path(__file__).resolve().parents[1]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("jaxtts: error: ") and err.count("\n") == 1, err
    return err


def test_force_refuses_a_directory_that_is_not_a_converted_model(small_checkpoints, tmp_path, capsys):
    """The reported data loss: `convert SRC DIR --force` with the source and other files inside DIR."""
    home = tmp_path / "home"
    home.mkdir()
    src = home / "hifigan.pt"
    src.write_bytes(small_checkpoints["hifigan"].read_bytes())
    (home / "notes.txt").write_text("mine")
    (home / "sub").mkdir()
    (home / "sub" / "more.txt").write_text("also mine")
    before = _tree(home)

    assert main(["convert", str(src), str(home), "--force"]) == 2
    err = _one_error_line(capsys)
    assert "not a converted jaxtts model" in err and "new destination" in err
    assert _tree(home) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # no temporaries beside it either


def test_force_refuses_a_file_and_a_foreign_jaxtts_json(small_checkpoints, tmp_path, capsys):
    target = tmp_path / "model"
    target.write_text("a file")
    assert main(["convert", str(small_checkpoints["hifigan"]), str(target), "--force"]) == 2
    assert "not a directory" in _one_error_line(capsys) and target.read_text() == "a file"

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / checkpoint.META).write_text('{"format": "someone else"}')
    assert main(["convert", str(small_checkpoints["hifigan"]), str(foreign), "--force"]) == 2
    _one_error_line(capsys)
    assert _tree(foreign) == {checkpoint.META: b'{"format": "someone else"}'}


def test_force_replaces_a_converted_model_whole(small_checkpoints, tmp_path, capsys):
    dst = tmp_path / "model"
    assert main(["convert", str(small_checkpoints["hifigan"]), str(dst)]) == 0
    assert checkpoint.read_meta(dst)["model"] == "hifigan"
    assert main(["convert", str(small_checkpoints["fastpitch"]), str(dst), "--force"]) == 0
    assert checkpoint.read_meta(dst)["model"] == "fastpitch"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # the old model and the temporary are gone


def test_save_refuses_user_files_even_when_called_directly(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="not a converted jaxtts model"):
        checkpoint.save(tmp_path, model="hifigan", config={}, params={"w": [1.0]}, overwrite=True)
    assert _tree(tmp_path) == {"keep.txt": b"mine"}


def test_stale_temporaries_of_a_killed_conversion_are_removed(small_checkpoints, tmp_path):
    dead_pid = 2**22 + 12345  # above Linux's pid_max: never a live process
    stale = tmp_path / f".model.jaxtts-tmp-{dead_pid}-abcd"
    (stale / "params").mkdir(parents=True)
    unrelated = tmp_path / ".model.something-else"
    unrelated.mkdir()
    assert main(["convert", str(small_checkpoints["hifigan"]), str(tmp_path / "model")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.something-else", "model"]


def test_a_converted_model_respects_the_umask(small_checkpoints, tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["convert", str(small_checkpoints["hifigan"]), str(tmp_path / "model")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == 0o755


# ---- small inputs that would exhaust the machine: a subprocess under address-space, CPU and file-size limits ----

MEMORY, CPU, FILE_SIZE = 3 << 30, 60, 64 << 20  # bytes, seconds, bytes: each case ends well inside them


@dataclasses.dataclass
class Bounded:
    """How a bounded run ended and what it used (printed: `pytest -s` shows the table)."""

    returncode: int
    stderr: str
    max_rss_mb: float
    cpu_s: float
    wall_s: float


# The child limits itself before importing anything (a preexec_fn would fork a multithreaded pytest) and
# records its own peak memory (VmHWM, reset by exec; ru_maxrss would carry pytest's over).
_CHILD = f"""import atexit, resource, sys
for limit, value in ((resource.RLIMIT_AS, {MEMORY}), (resource.RLIMIT_CPU, {CPU}), (resource.RLIMIT_FSIZE, {FILE_SIZE})):
    resource.setrlimit(limit, (value, value))
usage = sys.argv.pop(1)
atexit.register(lambda: open(usage, "w").write(
    next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1]))
from jaxtts.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _bounded(name: str, args: list[str], tmp_path: Path) -> Bounded:
    """`jaxtts ARGS` in a child under the limits, with its own empty temp directory (checked after)."""
    tmp, usage = tmp_path / "child-tmp", tmp_path / "child-peak-kb"
    tmp.mkdir(exist_ok=True)
    env = os.environ | {"TMPDIR": str(tmp), "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    start = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(usage), *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    stderr = child.stderr.read().decode()
    _, status, rusage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    peak = int(usage.read_text()) / 1024 if usage.exists() else float("nan")
    result = Bounded(child.returncode, stderr, peak, rusage.ru_utime + rusage.ru_stime, time.monotonic() - start)
    print(f"\nbounded {name}: exit {result.returncode}, {result.max_rss_mb:.0f} MB peak, {result.cpu_s:.1f} s CPU, "
          f"{result.wall_s:.1f} s wall: {stderr.strip()[:160]}")
    assert list(tmp.iterdir()) == [], "nothing may be left in the temp directory"
    return result


def _refused(result: Bounded, *phrases: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("jaxtts: error: ") and result.stderr.count("\n") == 1, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def _tar(path: Path, members: list[tuple[str, bytes, int | None]], mode: str = "w") -> Path:
    """A tar of (name, data, declared size): a declared size larger than the data makes a header that
    claims it, as a hostile archive does; nothing behind the header is read once it is refused."""
    with tarfile.open(path, mode) as tar:
        for name, data, size in members:
            info = tarfile.TarInfo(name)
            info.size = len(data) if size is None else size
            if size is None:
                tar.addfile(info, io.BytesIO(data))
            else:  # header and the data there is, no padding: the archive ends inside the member
                tar.fileobj.write(info.tobuf(tar.format, tar.encoding, tar.errors) + data)
                tar.offset += len(data) + tarfile.BLOCKSIZE
    return path


def _hifigan_nemo_config() -> bytes:
    return yaml.safe_dump({
        "generator": {"resblock": 1, "upsample_rates": [2, 2], "upsample_kernel_sizes": [4, 4],
                      "upsample_initial_channel": 8, "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 3, 5]]},
        "target": "nemo.collections.tts.models.hifigan.HifiGanModel"}).encode()


def test_a_yaml_alias_bomb_in_a_nemo_config_is_refused(tmp_path):
    """Twenty lines of nested aliases expand to 9**20 leaves; the reported archive grew to 22 GB."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 21)]
    archive = _tar(tmp_path / "bomb.nemo", [("./model_config.yaml", "\n".join(lines).encode(), None),
                                            ("./model_weights.ckpt", b"\0" * 1024, None)])
    _refused(_bounded("yaml alias bomb", ["convert", str(archive), str(tmp_path / "out")], tmp_path),
             "YAML alias", "line 2")
    assert not (tmp_path / "out").exists()


def test_a_huge_nemo_config_is_refused_by_its_size(tmp_path):
    archive = _tar(tmp_path / "big.nemo", [("./model_config.yaml", b"a: b\n" * 1000, 400 << 20)], "w:gz")
    _refused(_bounded("400 MB YAML config", ["convert", str(archive), str(tmp_path / "out")], tmp_path),
             "419,430,400 bytes", "model config")


def test_a_gzipped_nemo_declaring_gigabytes_of_weights_writes_nothing(tmp_path):
    archive = _tar(tmp_path / "big.nemo", [("./model_config.yaml", _hifigan_nemo_config(), None),
                                           ("./model_weights.ckpt", b"\0" * (1 << 20), 6 << 30)], "w:gz")
    _refused(_bounded("gzipped .nemo declaring 6 GB of weights", ["convert", str(archive), str(tmp_path / "out")],
                      tmp_path), "declares more than")


def test_nemo_weights_larger_than_their_config_implies_are_refused_before_reading(tmp_path):
    """1 GB is under the archive ceiling but far more than a tiny generator (and NeMo's discriminators) can be."""
    archive = _tar(tmp_path / "big.nemo", [("./model_config.yaml", _hifigan_nemo_config(), None),
                                           ("./model_weights.ckpt", b"\0" * (1 << 20), 1 << 30)], "w:gz")
    _refused(_bounded(".nemo weights 1 GB for a tiny config", ["convert", str(archive), str(tmp_path / "out")],
                      tmp_path), "model_weights.ckpt is 1,073,741,824 bytes", "hifigan model")


def _edited_fastpitch(small_checkpoints, path: Path, **config) -> Path:
    ckpt = torch.load(small_checkpoints["fastpitch"], weights_only=True)
    ckpt["config"].update(config)
    torch.save(ckpt, path)
    return path


@pytest.mark.parametrize("field, value", [("in_fft_n_layers", 10**8), ("n_speakers", 10**12), ("in_fft_n_heads", 0),
                                          ("symbols_embedding_dim", 10**9), ("dur_predictor_filter_size", -4)])
def test_an_absurd_config_integer_is_refused_before_anything_is_built(small_checkpoints, tmp_path, field, value):
    src = _edited_fastpitch(small_checkpoints, tmp_path / "absurd.pt", **{field: value})
    _refused(_bounded(f"FastPitch .pt with {field}={value}", ["convert", str(src), str(tmp_path / "out")], tmp_path),
             f"{field} {value} is outside")


def test_an_absurd_integer_in_a_nemo_config_is_refused_before_the_weights_are_read(tmp_path):
    cfg = yaml.safe_load(_hifigan_nemo_config())
    cfg["generator"]["upsample_initial_channel"] = 10**9
    archive = _tar(tmp_path / "absurd.nemo", [("./model_config.yaml", yaml.safe_dump(cfg).encode(), None),
                                              ("./model_weights.ckpt", b"\0" * (1 << 20), 1 << 29)], "w:gz")
    _refused(_bounded(".nemo with upsample_initial_channel=1e9", ["convert", str(archive), str(tmp_path / "out")],
                      tmp_path), "upsample_initial_channel 1000000000 is outside")


# ---- tampered converted directories and corrupt params: one CheckpointError line at load --------------

@pytest.fixture(scope="module")
def converted(small_checkpoints, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("converted")
    return {kind: checkpoint.convert(src, root / kind) for kind, src in small_checkpoints.items()}


def _tampered(converted: dict[str, Path], tmp_path: Path, kind: str, edit) -> Path:
    dst = tmp_path / f"tampered-{kind}"
    shutil.copytree(converted[kind], dst)
    meta = json.loads((dst / checkpoint.META).read_text())
    edit(meta)
    (dst / checkpoint.META).write_text(json.dumps(meta))
    return dst


TAMPERED = {
    "attention heads 0": ("fastpitch", lambda m: m["config"].update(in_fft_n_heads=0), "in_fft_n_heads 0 is outside"),
    "a layer count the params lack": ("fastpitch", lambda m: m["config"].update(out_fft_n_layers=3),
                                      "missing (22): decoder/layers_1"),
    "10^12 speakers": ("fastpitch", lambda m: m["config"].update(n_speakers=10**12), "n_speakers 1000000000000"),
    "channels that disagree": ("hifigan", lambda m: m["config"].update(upsample_initial_channel=64),
                               "wrong shape (81): conv_post/kernel: checkpoint (7, 4, 1) vs model (7, 8, 1)"),
    "the other model's params": ("fastpitch", lambda m: m.update(model="hifigan", config=HIFIGAN_CONFIG),
                                 "does not match the model its config describes"),
    "a string for a size": ("hifigan", lambda m: m["config"].update(num_mels="eighty"), "must be integers"),
    "NaN layers": ("fastpitch", lambda m: m["config"].update(in_fft_n_layers=float("nan")),
                   "in_fft_n_layers must be an integer"),
}
HIFIGAN_CONFIG = {"upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8], "upsample_initial_channel": 32,
                  "resblock": "1", "resblock_kernel_sizes": [3, 5], "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]]}


@pytest.mark.parametrize("case", TAMPERED, ids=list(TAMPERED))
def test_a_tampered_converted_directory_is_one_checkpoint_error(converted, tmp_path, case):
    kind, edit, phrase = TAMPERED[case]
    directory = _tampered(converted, tmp_path, kind, edit)
    model = checkpoint.read_meta(directory)["model"]
    with pytest.raises(CheckpointError) as e:
        getattr(jaxtts, f"load_{model}")(directory)
    assert phrase in str(e.value) and "\n" not in str(e.value)


CORRUPTIONS = {
    "truncated": lambda b: b[: len(b) // 2],
    "emptied": lambda b: b"",
    "garbled": lambda b: bytes(x ^ 0x5A if i % 7 == 3 else x for i, x in enumerate(b)),
}


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_corrupt_param_data_is_one_line_without_event_loop_tracebacks(converted, tmp_path, how):
    """Orbax's late asyncio callbacks used to print 'Event loop is closed' tracebacks after the error."""
    directory = tmp_path / "corrupt"
    shutil.copytree(converted["fastpitch"], directory)
    for data in (directory / checkpoint.PARAMS).rglob("d/*"):
        data.write_bytes(CORRUPTIONS[how](data.read_bytes()))
    probe = (f"import jaxtts, time\ntry:\n    jaxtts.load_fastpitch({str(directory)!r})\nexcept Exception as e:\n"
             f"    print(type(e).__name__, e)\ntime.sleep(1)\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                         env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert run.stdout.startswith("CheckpointError") and "could not be read" in run.stdout, run.stdout + run.stderr
    assert "Event loop is closed" not in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_nan_and_inf_weights_are_refused_at_conversion_naming_the_tensor(small_checkpoints, tmp_path, capsys):
    ckpt = torch.load(small_checkpoints["fastpitch"], weights_only=True)
    ckpt["state_dict"]["decoder.layers.0.pos_ff.CoreNet.0.weight"][0, 0, 0] = float("nan")
    torch.save(ckpt, tmp_path / "nan.pt")
    assert main(["convert", str(tmp_path / "nan.pt"), str(tmp_path / "out")]) == 2
    assert "decoder.layers.0.pos_ff.CoreNet.0.weight holds 1 NaN/infinite" in _one_error_line(capsys)

    ckpt = torch.load(small_checkpoints["hifigan"], weights_only=True)
    ckpt["generator"]["conv_post.bias"][0] = float("inf")
    torch.save(ckpt, tmp_path / "inf.pt")
    assert main(["convert", str(tmp_path / "inf.pt"), str(tmp_path / "out")]) == 2
    assert "conv_post.bias holds 1 NaN/infinite" in _one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inf.pt", "nan.pt"]


# ---- the engine and the command line: bounded requests, honest exits, safe sharing ------------------

def _models(converted: dict[str, Path]) -> list[str]:
    return ["--fastpitch", str(converted["fastpitch"]), "--hifigan", str(converted["hifigan"])]


@pytest.mark.parametrize("pace", ["1e-3", "1e-4", "1e-9", "1e9"])
def test_pace_outside_its_bounds_is_one_line_naming_the_limit(converted, tmp_path, capsys, pace):
    """1e-3 made 139 s of audio for "Hi." at 5.4 GB, 1e-4 asked for 121 GB, 1e-9 aborted the process."""
    out = tmp_path / "out.wav"
    assert main(["synthesize", "Hi.", "--pace", pace, "-o", str(out), *_models(converted)]) == 2
    assert "pace must be between 0.1 and 10" in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_pace_1e_9_in_a_bounded_process(converted, tmp_path):
    _refused(_bounded("synthesize at pace 1e-9", ["synthesize", "Hi.", "--pace", "1e-9", "-o", str(tmp_path / "o.wav"),
                                                  *_models(converted)], tmp_path), "pace must be between")


def test_no_sentence_may_produce_more_frames_than_the_limit(converted):
    """Within the pace bounds, the longest durations the controls allow still stop at the frame limit,
    before the vocoder allocates anything for the sentence."""
    from jaxtts import engine
    from jaxtts.models import buckets, controls

    synth = engine.Synthesizer(jaxtts.load_fastpitch(converted["fastpitch"]), jaxtts.load_hifigan(converted["hifigan"]),
                               compilation_cache=False)
    long = " ".join(["supercalifragilistic"] * 20) + "."
    with pytest.raises(InputError, match=f"more than the limit of {buckets.MAX_SENTENCE_FRAMES} frames"):
        synth.synthesize(long, pace=controls.PACE[0], max_duration=controls.MAX_DURATION)
    assert not any(key[0] in ("decode", "vocode") for key in synth._programs)  # refused before the decoder


def test_o_streams_into_a_complete_wav_and_dev_full_is_one_line(converted, tmp_path, capsys):
    out = tmp_path / "out.wav"
    text = "First sentence here. And a second one. A third."
    assert main(["synthesize", text, "-o", str(out), *_models(converted)]) == 0
    capsys.readouterr()
    audio, rate = soundfile.read(out, dtype="float32")
    from jaxtts import engine

    synth = engine.Synthesizer(jaxtts.load_fastpitch(converted["fastpitch"]), jaxtts.load_hifigan(converted["hifigan"]),
                               compilation_cache=False)
    expected = synth.synthesize(text)
    assert rate == synth.sample_rate and len(audio) == len(expected)
    np.testing.assert_allclose(audio, np.clip(np.floor(expected * 32768), -32768, 32767) / 32768, atol=1 / 32768)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]  # no temporary left beside it

    assert main(["synthesize", "Hi.", "-o", "/dev/full", *_models(converted)]) == 2
    assert "cannot write /dev/full" in _one_error_line(capsys)


def test_a_run_that_writes_no_wav_exits_non_zero(converted, tmp_path, capsys):
    lines = tmp_path / "lines.txt"
    lines.write_text("\n...\n\n")
    assert main(["synthesize", "--text-file", str(lines), "--output-dir", str(tmp_path / "wavs"), *_models(converted)]) == 2
    assert "0 WAV files" in capsys.readouterr().err


def test_output_dir_skip_existing_resumes_a_killed_run(converted, tmp_path, capsys):
    lines = tmp_path / "lines.txt"
    lines.write_text("One.\nTwo.\nThree.\n")
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    (wavs / "000002.wav").write_bytes(b"done before the kill")
    assert main(["synthesize", "--text-file", str(lines), "--output-dir", str(wavs), "--skip-existing",
                 *_models(converted)]) == 0
    assert "2 WAV files; 1 already there" in capsys.readouterr().err
    assert (wavs / "000002.wav").read_bytes() == b"done before the kill"
    assert sorted(p.name for p in wavs.iterdir()) == ["000001.wav", "000002.wav", "000003.wav"]


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("jaxtts ")


def test_four_threads_on_a_cold_synthesizer_compile_each_program_once(converted):
    from jaxtts import engine

    synth = engine.Synthesizer(jaxtts.load_fastpitch(converted["fastpitch"]), jaxtts.load_hifigan(converted["hifigan"]),
                               compilation_cache=False)
    start = threading.Barrier(4)

    def speak() -> None:
        start.wait()
        synth.synthesize("The same sentence.")

    threads = [threading.Thread(target=speak) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert synth.compile_count == 3 and synth.stats["compiles"] == 3  # one encode, one decode, one vocode: built once each


_FIRST_USE = """import jaxtts
from jaxtts import hub
paths = hub.ensure_models()
jaxtts.load_fastpitch(paths["fastpitch"]), jaxtts.load_hifigan(paths["hifigan"])
"""


def test_processes_sharing_an_empty_cache_all_succeed(small_checkpoints, tmp_path):
    """The reported race: 2 of 5 trials lost a process to `No such file or directory: 'd'`."""
    from jaxtts import hub

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for kind, src in small_checkpoints.items():
        shutil.copy(src, mirror / hub.REGISTRY[kind].filename)
    failures = []
    for trial in range(5):
        env = os.environ | {"JAXTTS_CACHE": str(tmp_path / f"cache{trial}"), "JAXTTS_HUB_URL": mirror.as_uri(),
                            "PYTHONPATH": str(ROOT)}
        children = [subprocess.Popen([sys.executable, "-c", _FIRST_USE], env=env, stderr=subprocess.PIPE, text=True)
                    for _ in range(4)]
        for child in children:
            _, err = child.communicate(timeout=600)
            if child.returncode:
                failures.append(err.strip().splitlines()[-1] if err.strip() else f"exit {child.returncode}")
    assert failures == []
