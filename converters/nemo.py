"""NeMo `.nemo` archives (FastPitchModel, HifiGanModel) → jaxtts params, via the DLE converters.

A `.nemo` file is a tar (NeMo 1.x sometimes gzipped it) holding `model_config.yaml` (the resolved
Hydra config) and `model_weights.ckpt` (`torch.save(model.state_dict())`), plus tokenizer
artifacts, of which the G2P's dictionary and heteronym list are read as text (size-capped). Nothing
in it is trusted: the config is read with `yaml.safe_load` and its class paths (`target`,
`_target_`) are never imported; only the members we use are read, and only if they are regular
files with plain relative names; the weights go through the same `weights_only` loader as every
other checkpoint. Nothing is extracted under a member's own name, so a hostile archive cannot
write anywhere.

NeMo's inference networks are NVIDIA DeepLearningExamples' with other prefixes, so each archive is
rewritten into the DLE layout (config keys and state_dict keys) and handed to that model's own
converter: there is still one rename table per model.
"""
from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
import warnings
import zlib
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

import numpy as np
import yaml

from jaxtts import limits
from jaxtts.errors import CheckpointError, ConfigError
from jaxtts.models.fastpitch import FastPitchConfig
from jaxtts.models.hifigan import HiFiGANConfig

from . import fastpitch, hifigan
from .converted import Converted
from .load import load_torch

CONFIG, WEIGHTS = "model_config.yaml", "model_weights.ckpt"


def from_archive(path: str | Path, **options: Any) -> Converted:
    """The converted model of a NeMo FastPitchModel or HifiGanModel archive."""
    path = Path(path)
    if options:
        raise CheckpointError(
            f"{path} is a NeMo archive: it carries its own config and has no EMA weights, so "
            f"{', '.join(sorted(options))} cannot apply; load it without them"
        )
    kind, cfg, sd, files = read_archive(path)
    if kind == "hifigan":
        config, params = hifigan.from_checkpoint(
            {"generator": _submodule(sd, "generator."), "config": _hifigan_config(cfg, path)}, path)
        return Converted("hifigan", config, params)
    model = _fastpitch_config(cfg, _n_symbols(sd, path), path)
    ckpt = {"state_dict": _fastpitch_state_dict(sd, cfg), "config": model,
            "train_setup": _text_setup(cfg, model["n_symbols"], files, path)}
    config, params = fastpitch.from_checkpoint(ckpt, path)
    return Converted("fastpitch", config, params, fastpitch.text_encoder(ckpt, path, config))


# Bounds on what an archive may make us read, all checked on the tar headers before a member is read:
# a small gzipped archive can declare gigabytes, and a small YAML file can expand without end.
_MAX_MEMBERS = 1000
_MAX_ARCHIVE = 2 << 30  # bytes in all members together
_MAX_CONFIG = 1 << 20  # bytes; NeMo's resolved configs are a few kilobytes
_MAX_ARTIFACT = 64 << 20  # bytes; CMUdict is 3.7 MB
# model_weights.ckpt may hold at most 8 bytes (float64) per parameter of the model the config describes,
# plus what NeMo saves beside it for training: HiFi-GAN's two discriminators (jik876's MPD and MSD, fixed
# sizes), FastPitch's aligner and mel front-end; plus the pickle's own bytes. The vocabulary is assumed
# generous here, since only the weights say how large it is.
_TRAINING_ONLY = {"hifigan": 72_000_000, "fastpitch": 4_000_000}  # parameters
_BOUND_SYMBOLS = 1024
_PICKLE_SLACK = 64 << 20  # bytes


def read_archive(path: Path) -> tuple[str, dict, dict, dict[str, bytes]]:
    """(model kind, config, flat state_dict, G2P files) of a plain or gzipped `.nemo` tar, in one
    pass over its headers: only those members are read, the G2P files being those its config names
    that the tar holds, and the weights only once their size fits the model the config describes.
    The weights of a plain tar are read in place; a compressed one's go through an unnamed temporary file."""
    try:
        with tarfile.open(path, "r:*") as tar:  # "r:*" tries plain, then each compression
            configs: dict[str, tuple[str, dict, int]] = {}  # member name → (kind, config, weights bound)

            def described(members: list[tarfile.TarInfo]) -> tuple[str, dict, int]:
                m = _member(members, CONFIG, path)
                if m.name not in configs:
                    cfg = _config(tar, m, path)
                    kind = _kind(cfg, path)
                    configs[m.name] = kind, cfg, _weights_bound(kind, cfg, path)
                return configs[m.name]

            members = _members(tar, path, described)
            kind, cfg, bound = described(members)
            held = {PurePosixPath(m.name).name for m in members}
            files = {name: _artifact(tar, _member(members, name, path), path)
                     for name in _g2p_files(cfg).values() if name in held}
            weights = _member(members, WEIGHTS, path)
            _check_weights(weights, kind, bound, path)
            sd = _weights(tar, weights, path)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file; check the path to the .nemo archive") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        raise CheckpointError(f"{path} is not a readable .nemo archive (a tar): {e}; download it again") from None
    except yaml.YAMLError as e:
        raise CheckpointError(f"{path}: {CONFIG} is not valid YAML ({e})") from None
    return kind, cfg, sd, files


def _members(tar: tarfile.TarFile, path: Path, described: Any) -> list[tarfile.TarInfo]:
    """Every member's header, refusing the archive at the first that breaks a bound before its data
    is passed over (passing a member of a gzipped tar inflates it): the weights are checked against
    the config when it came first, as in every archive NeMo writes (`described(members so far)`)."""
    members: list[tarfile.TarInfo] = []
    total = 0
    while (m := tar.next()) is not None:
        members.append(m)
        total += m.size
        if len(members) > _MAX_MEMBERS or total > _MAX_ARCHIVE:
            raise CheckpointError(f"{path} declares more than {_MAX_MEMBERS} members or {_MAX_ARCHIVE:,} bytes, far "
                                  "more than any FastPitch or HiFi-GAN archive; refusing it")
        name = PurePosixPath(m.name).name
        if name == CONFIG and m.size > _MAX_CONFIG:
            raise CheckpointError(f"{path}: {m.name} is {m.size:,} bytes, more than the {_MAX_CONFIG:,} a model "
                                  "config may be; refusing a tampered archive")
        if name == WEIGHTS and any(PurePosixPath(c.name).name == CONFIG for c in members):
            kind, _, bound = described(members)
            _check_weights(m, kind, bound, path)
    return members


def _check_weights(m: tarfile.TarInfo, kind: str, bound: int, path: Path) -> None:
    if m.size > bound:
        raise CheckpointError(f"{path}: {WEIGHTS} is {m.size:,} bytes, more than the {bound:,} that the {kind} model "
                              f"its {CONFIG} describes can need; refusing a tampered archive")


class _NoAliasLoader(yaml.SafeLoader):
    """yaml.safe_load without aliases: `*name` repeats a subtree, so a few kilobytes of them nest into
    an exponentially large config (a YAML bomb). NeMo's configs never use them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            line = self.peek_event().start_mark.line + 1
            raise CheckpointError(f"{self.name}: {CONFIG} line {line} uses a YAML alias (*name), which jaxtts refuses: "
                                  "aliases can expand a small file without bound, and NeMo never writes them")
        return super().compose_node(parent, index)


def _config(tar: tarfile.TarFile, m: tarfile.TarInfo, path: Path) -> dict:
    loader = _NoAliasLoader(tar.extractfile(m).read())
    loader.name = str(path)
    try:
        cfg = loader.get_single_data()
    except RecursionError:
        raise CheckpointError(f"{path}: {CONFIG} nests too deeply to be a model config") from None
    finally:
        loader.dispose()
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{path}: {CONFIG} holds a {type(cfg).__name__}, not a model config")
    return cfg


def _kind(cfg: Mapping[str, Any], path: Path) -> str:
    if isinstance(cfg.get("generator"), Mapping):
        return "hifigan"
    if isinstance(cfg.get("input_fft"), Mapping):
        return "fastpitch"
    raise CheckpointError(
        f"{path} holds a NeMo {cfg.get('target', 'model')} whose {CONFIG} has neither a generator (HifiGanModel) "
        "nor an input_fft (FastPitchModel); jaxtts reads FastPitchModel and HifiGanModel archives"
    )


def _weights_bound(kind: str, cfg: Mapping[str, Any], path: Path) -> int:
    """The most bytes model_weights.ckpt may hold for the model `cfg` describes; the config is
    validated on the way, so a bad one is refused before any weight is read."""
    try:
        if kind == "hifigan":
            shapes = hifigan.param_shapes(HiFiGANConfig.from_dict(_hifigan_config(cfg, path)))
        else:
            shapes = fastpitch.param_shapes(FastPitchConfig.from_dict(_fastpitch_config(cfg, _BOUND_SYMBOLS, path)))
        limits.check_budget(shapes, what=str(path))
    except (ConfigError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: {e}") from None
    return 8 * (limits.n_params(shapes) + _TRAINING_ONLY[kind]) + _PICKLE_SLACK


def _weights(tar: tarfile.TarFile, m: tarfile.TarInfo, path: Path) -> dict:
    name = f"{path} ({WEIGHTS})"
    src = tar.extractfile(m)
    if tar.fileobj is not None and not isinstance(tar.fileobj, io.BufferedReader):
        # torch seeks around the file, and every backward seek in a compressed stream inflates it
        # again from the start: give it the member in an unnamed file, gone when closed.
        with tempfile.TemporaryFile(prefix="jaxtts-nemo-") as tmp:
            shutil.copyfileobj(src, tmp, 1 << 20)
            tmp.seek(0)
            return load_torch(name, stream=tmp)
    return load_torch(name, stream=src)


def _artifact(tar: tarfile.TarFile, m: tarfile.TarInfo, path: Path) -> bytes:
    if m.size > _MAX_ARTIFACT:
        raise CheckpointError(f"{path}: {m.name} is {m.size:,} bytes, too large for a pronunciation file")
    return tar.extractfile(m).read()


def _member(members: list[tarfile.TarInfo], basename: str, path: Path) -> tarfile.TarInfo:
    """The shallowest member called `basename`, if it is a regular file with a safe relative name."""
    found = sorted((m for m in members if PurePosixPath(m.name).name == basename),
                   key=lambda m: len(PurePosixPath(m.name).parts))
    if not found:
        shown = ", ".join(m.name for m in members[:8])
        raise CheckpointError(f"{path} is not a NeMo model archive: no {basename} among its members ({shown})")
    m = found[0]
    name = PurePosixPath(m.name)
    if name.is_absolute() or ".." in name.parts:
        raise CheckpointError(f"{path}: member {m.name!r} has an unsafe path; refusing a tampered archive")
    if not m.isfile():
        raise CheckpointError(f"{path}: member {m.name!r} is not a regular file (a link or device); refusing it")
    if len(found) > 1 and len(PurePosixPath(found[1].name).parts) == len(name.parts):
        raise CheckpointError(f"{path} holds several {basename} at the same depth ({m.name}, {found[1].name})")
    return m


def _submodule(sd: Mapping[str, Any], prefix: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The entries under `prefix`, without it, except those under `drop` (relative to `prefix`)."""
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix) and not k[len(prefix):].startswith(drop)}


def _section(cfg: Mapping[str, Any], key: str, path: Path) -> Any:
    if cfg.get(key) is None:
        raise CheckpointError(f"{path}: {CONFIG} has no {key!r}; is this a NeMo FastPitchModel/HifiGanModel archive?")
    return cfg[key]


# HiFi-GAN: `generator.*` is the jik876/DLE generator with nested `resblocks.{i}.{j}` keys. mpd.*, msd.*
# and the two mel front-ends (`audio_to_melspec_precessor.*`, `trg_melspec_fn.*`) serve training only.

def _hifigan_config(cfg: Mapping[str, Any], path: Path) -> dict:
    gen = dict(_section(cfg, "generator", path))
    # NeMo picks ResBlock1 only for the integer 1 (`resblock == 1`); anything else builds ResBlock2.
    gen["resblock"] = "1" if gen.get("resblock") == 1 else "2"
    gen["num_mels"] = gen.get("initial_input_size", 80)
    preprocessor = cfg.get("preprocessor") if isinstance(cfg.get("preprocessor"), Mapping) else {}
    if preprocessor.get("n_window_stride") is not None:
        gen["hop_length"] = preprocessor["n_window_stride"]  # HiFiGANConfig checks it against the upsample rates
    rate = cfg.get("sample_rate", preprocessor.get("sample_rate"))
    if isinstance(rate, int):  # an unresolved ${sample_rate} interpolation stays a string: keep the default
        gen["sampling_rate"] = rate
    return gen


# FastPitch: `fastpitch.*` is DLE's FastPitch without the `fastpitch.` prefix. Dropped: the aligner
# (stored twice, `aligner.*` and `fastpitch.aligner.*`) and `preprocessor.*`, training only; the
# `pitch_mean`/`pitch_std` buffers NeMo leaves at zero get the config's values, which is where DLE
# keeps the real ones. Features whose inference DLE's model does not share are refused.

def _fastpitch_state_dict(sd: Mapping[str, Any], cfg: Mapping[str, Any]) -> dict[str, Any]:
    out = _submodule(sd, "fastpitch.", drop=("aligner.",))
    for key, cfg_keys in (("pitch_mean", ("pitch_mean", "pitch_avg")), ("pitch_std", ("pitch_std",))):
        value = next((cfg[k] for k in cfg_keys if cfg.get(k) is not None), None)
        if value is not None:
            out[key] = np.array([value], np.float32)
    return out


def _padding_idx(cfg: Mapping[str, Any], n_symbols: int, path: Path) -> int:
    """NeMo builds the pad id at run time: BaseTokenizer appends <pad>, [<blank>,] <oov> to the symbols."""
    if cfg["input_fft"].get("padding_idx") is not None:  # configs from before the tokenizer owned it
        return int(cfg["input_fft"]["padding_idx"])
    tokenizer = cfg.get("text_tokenizer")
    if not isinstance(tokenizer, Mapping):
        raise CheckpointError(f"{path}: {CONFIG} names neither input_fft.padding_idx nor a text_tokenizer")
    return n_symbols - (3 if tokenizer.get("add_blank_at") is not None else 2)


# NeMo's EnglishPhonemesTokenizer builds its vocabulary at run time from its flags: space,
# consonants, vowels (with stress digits if `stresses`), a-z (with `chars` or a G2P phoneme
# probability), the apostrophe, punctuation, then <pad> and <oov>.
_NEMO_CONSONANTS = "B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH".split()
_NEMO_VOWELS = "AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split()
_NEMO_PUNCT = [",", ".", "!", "?", "-", ":", ";", "/", '"', "(", ")", "[", "]", "{", "}"]


def _text_setup(cfg: Mapping[str, Any], n_symbols: int, files: Mapping[str, bytes], path: Path) -> dict[str, Any]:
    """How NeMo encoded the text, in train_setup's terms (see `fastpitch.text_encoder`): its vocabulary when the tokenizer
    is the English phoneme one and the rebuilt list fits the embedding (else none, and the text
    front-end refuses the model; ids still work), spaces around every text for `pad_with_space`,
    and the G2P's own dictionary and heteronyms when the archive carries them."""
    tok = cfg.get("text_tokenizer")
    if not isinstance(tok, Mapping) or not str(tok.get("_target_", "")).endswith(".EnglishPhonemesTokenizer"):
        return {}
    if tok.get("add_blank_at") is not None or tok.get("silence") is not None:
        return {}
    tokens = [" ", *_NEMO_CONSONANTS]
    tokens += [f"{v}{s}" for v in _NEMO_VOWELS for s in "012"] if tok.get("stresses") else _NEMO_VOWELS
    if tok.get("chars") or (tok.get("g2p") or {}).get("phoneme_probability") is not None:
        tokens += list("abcdefghijklmnopqrstuvwxyz")
    if tok.get("apostrophe", True):
        tokens.append("'")
    if tok.get("punct", True):
        tokens += list(tok.get("non_default_punct_list") or _NEMO_PUNCT)
    tokens += ["<pad>", "<oov>"]
    if len(tokens) != n_symbols:
        return {}
    spaces = bool(tok.get("pad_with_space", False))
    setup = {"symbols": tokens, "prepend_space_to_text": spaces, "append_space_to_text": spaces}
    return setup | _lexicon(cfg, files, path)


def _g2p_files(cfg: Any) -> dict[str, str]:
    """{"phoneme_dict"/"heteronyms": file name} for the G2P files the config references in the archive."""
    tok = cfg.get("text_tokenizer") if isinstance(cfg, Mapping) else None
    g2p = tok.get("g2p") if isinstance(tok, Mapping) else None
    if not isinstance(g2p, Mapping):
        return {}
    return {key: PurePosixPath(ref.removeprefix("nemo:")).name for key in ("phoneme_dict", "heteronyms")
            if isinstance(ref := g2p.get(key), str) and ref.startswith("nemo:")}


def _lexicon(cfg: Mapping[str, Any], files: Mapping[str, bytes], path: Path) -> dict[str, Any]:
    """{"lexicon": ...} from the archive's G2P files; {} when the dictionary is not in the archive
    (the front-end's own CMUdict then reads the words)."""
    refs = _g2p_files(cfg)
    if "phoneme_dict" not in refs:
        return {}
    missing = set(refs.values()) - set(files)
    if missing:
        warnings.warn(f"{path} lacks its G2P files {', '.join(sorted(missing))}; words are read with "
                      "jaxtts's CMUdict instead of the model's own dictionary", stacklevel=3)
        return {}
    encoding = cfg["text_tokenizer"]["g2p"].get("encoding") or "latin-1"
    try:
        texts = {key: files[name].decode(encoding) for key, name in refs.items()}
    except (UnicodeDecodeError, LookupError) as e:
        raise CheckpointError(f"{path}: a G2P file is not readable text ({e})") from None
    heteronyms = [line.rstrip() for line in texts.get("heteronyms", "").splitlines() if line.strip()]
    return {"lexicon": {"dictionary": texts["phoneme_dict"], "heteronyms": heteronyms}}


def _unsupported(cfg: Mapping[str, Any]) -> list[str]:
    found = [f"{k}: {cfg[k]}" for k in ("speaker_encoder", "speaker_emb_condition_prosody",
                                        "speaker_emb_condition_decoder", "min_token_duration") if cfg.get(k)]
    for key in ("input_fft", "output_fft", "duration_predictor", "pitch_predictor", "energy_predictor"):
        module = cfg.get(key) or {}
        if module.get("pre_lnorm"):
            found.append(f"{key}.pre_lnorm: true")
        # n_speakers > 1 makes NeMo add the speaker embedding to the encoder input, as DLE does.
        extra = set(module.get("condition_types") or ()) - ({"add"} if key == "input_fft" else set())
        if extra:
            found.append(f"{key}.condition_types: {sorted(extra)}")
    return found


def _n_symbols(sd: Mapping[str, Any], path: Path) -> int:
    emb = sd.get("fastpitch.encoder.word_emb.weight")
    if emb is None:
        raise CheckpointError(f"{path} has no fastpitch.encoder.word_emb.weight; the archive is incomplete")
    return int(emb.shape[0])


def _fastpitch_config(cfg: Mapping[str, Any], n_symbols: int, path: Path) -> dict:
    unsupported = _unsupported(cfg)
    if unsupported:
        raise CheckpointError(
            f"{path} uses NeMo FastPitch features that jaxtts does not implement ({'; '.join(unsupported)}); "
            "only DeepLearningExamples-compatible FastPitch archives convert"
        )

    def fft(prefix: str, key: str) -> dict:
        m = _section(cfg, key, path)
        return {f"{prefix}_fft_n_layers": m["n_layer"], f"{prefix}_fft_n_heads": m["n_head"],
                f"{prefix}_fft_d_head": m["d_head"], f"{prefix}_fft_conv1d_kernel_size": m["kernel_size"],
                f"{prefix}_fft_conv1d_filter_size": m["d_inner"], f"{prefix}_fft_output_size": m["d_model"],
                f"p_{prefix}_fft_dropout": m["dropout"], f"p_{prefix}_fft_dropatt": m["dropatt"],
                f"p_{prefix}_fft_dropemb": m.get("dropemb", 0.0)}

    def predictor(prefix: str, key: str) -> dict:
        m = _section(cfg, key, path)
        return {f"{prefix}_predictor_kernel_size": m["kernel_size"], f"{prefix}_predictor_filter_size": m["filter_size"],
                f"p_{prefix}_predictor_dropout": m["dropout"], f"{prefix}_predictor_n_layers": m.get("n_layers", 2)}

    try:
        out = {
            "n_mel_channels": cfg["n_mel_channels"],
            "n_symbols": n_symbols,
            "padding_idx": _padding_idx(cfg, n_symbols, path),
            "symbols_embedding_dim": cfg["symbols_embedding_dim"],
            **fft("in", "input_fft"), **fft("out", "output_fft"),
            **predictor("dur", "duration_predictor"), **predictor("pitch", "pitch_predictor"),
            "pitch_embedding_kernel_size": cfg["pitch_embedding_kernel_size"],
            "n_speakers": max(1, int(cfg.get("n_speakers") or 1)),
        }
        if cfg.get("energy_predictor") is not None:
            out |= {"energy_conditioning": True, **predictor("energy", "energy_predictor"),
                    "energy_embedding_kernel_size": cfg["energy_embedding_kernel_size"]}
    except KeyError as e:
        raise CheckpointError(f"{path}: {CONFIG} lacks {e.args[0]!r}, which the FastPitch model needs") from None
    except (TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"{path}: {CONFIG} is not a FastPitch model config ({e})") from None
    return out
