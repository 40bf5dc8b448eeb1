"""The `jaxtts` command, run as a user runs it: a separate process, text on argv or stdin."""
import subprocess
import sys
from pathlib import Path

from jaxtts.text import normalize

ROOT = Path(__file__).resolve().parents[1]


def jaxtts(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jaxtts", *args], input=stdin, capture_output=True, text=True, encoding="utf-8",
        cwd=ROOT, timeout=60,
    )  # fmt: skip


def test_normalize_prints_the_normalized_text():
    result = jaxtts("normalize", "Dr. Smith paid $5.")
    assert (result.returncode, result.stdout, result.stderr) == (0, normalize("Dr. Smith paid $5.") + "\n", "")


def test_phonemes_and_ids():
    assert jaxtts("normalize", "--phonemes", "Hello world.").stdout == "hello {W ER1 L D}.\n"
    ids = jaxtts("normalize", "--ids", "Hello world.").stdout.split()
    assert len(ids) == 11 and all(0 < int(i) < 148 for i in ids)


def test_stdin_gives_one_line_per_line():
    lines = ["Hello world.", "", "The FBI.", "café\r", "😀", "x" * 2000]
    result = jaxtts("normalize", "--stdin", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n") == [normalize(line.rstrip("\r")) for line in lines] + [""]


def test_stdin_line_errors_keep_lines_aligned_and_exit_2():
    result = jaxtts("normalize", "--ids", "--stdin", stdin="Hello.\n😀\nWorld.\n")
    assert result.returncode == 2
    out = result.stdout.split("\n")
    assert len(out) == 4 and out[0] and out[1] == "" and out[2]
    assert result.stderr.startswith("jaxtts: line 2: nothing speakable") and result.stderr.count("\n") == 1


def test_user_error_is_one_line_and_exit_2_without_traceback():
    result = jaxtts("normalize", "--ids", "?!")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("jaxtts: error: nothing speakable") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2():
    assert jaxtts("normalize").returncode == 2
    assert jaxtts().returncode == 2
    assert jaxtts("normalize", "--ids", "--phonemes", "x").returncode == 2
    assert jaxtts("normalize", "--stdin", "x", stdin="y\n").returncode == 2


def test_synthesize_has_a_flag_for_every_control_and_text_commands_import_no_jax():
    import dataclasses

    from jaxtts.models.controls import Controls

    help_text = jaxtts("synthesize", "--help").stdout
    for field in dataclasses.fields(Controls):
        flag = f"--{field.name.replace('_', '-')}"
        assert (flag in help_text) == bool(field.metadata.get("help")), flag  # pitch_transform is a function
    probe = "import sys; from jaxtts.cli import main; main(['normalize', 'Hi.']); print('jax' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, encoding="utf-8",
                         cwd=ROOT, check=True)
    assert run.stdout.split() == ["Hi.", "False"]
