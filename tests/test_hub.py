"""Published checkpoints: download, verify, cache, convert once — against a server on 127.0.0.1 only.

The server serves small generated checkpoints in NVIDIA's own formats under the published file
names, and can cut a response short or corrupt it. Nothing here reaches beyond the loopback.
"""
from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import json
import socket
import threading
from pathlib import Path

import jax
import numpy as np
import pytest
import torch

from converters import fastpitch as fastpitch_converter
from converters import hifigan as hifigan_converter
from jaxtts import checkpoint, hub
from jaxtts.errors import CheckpointError
from jaxtts.models.fastpitch import PUBLISHED as FASTPITCH_PUBLISHED
from jaxtts.models.hifigan import HiFiGANConfig

FASTPITCH, HIFIGAN = (hub.REGISTRY[n].filename for n in ("fastpitch", "hifigan"))


def _random(shapes) -> dict:
    rng = np.random.default_rng(0)
    return jax.tree.map(lambda s: (0.1 * rng.standard_normal(s.shape)).astype(np.float32), shapes)


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _generated_files() -> dict[str, bytes]:
    """Tiny FastPitch and HiFi-GAN files in NVIDIA's layouts, under the published names."""
    hg = HiFiGANConfig((2, 2), (4, 4), 8, "1", (3,), ((1, 3, 5),))
    hg_sd = hifigan_converter.to_state_dict(_random(hifigan_converter.param_shapes(hg)), hg)
    fp = dataclasses.replace(
        FASTPITCH_PUBLISHED, symbols_embedding_dim=16, in_fft_output_size=16, out_fft_output_size=16,
        in_fft_n_layers=1, out_fft_n_layers=1, in_fft_d_head=8, out_fft_d_head=8, in_fft_conv1d_filter_size=16,
        out_fft_conv1d_filter_size=16, dur_predictor_filter_size=8, pitch_predictor_filter_size=8,
        energy_predictor_filter_size=8)
    from jaxtts.models.fastpitch import param_shapes

    fp_sd = fastpitch_converter.to_state_dict(_random(param_shapes(fp)), fp)
    tensors = lambda sd: {k: torch.from_numpy(v) for k, v in sd.items()}  # noqa: E731
    return {
        FASTPITCH: _torch_bytes({"config": fp.nvidia_config(), "state_dict": tensors(fp_sd), "epoch": 1}),
        HIFIGAN: _torch_bytes({"generator": tensors(hg_sd), "config": hg.to_dict()}),
    }


FILES = _generated_files()


class Server:
    """Serves FILES by name; `mode` per file: "ok", "truncate" (half the bytes, full Content-Length), "corrupt"."""

    def __init__(self) -> None:
        self.mode: dict[str, str] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                from urllib.parse import unquote

                name = unquote(self.path.lstrip("/"))
                server.requests.append(name)
                if name not in FILES:
                    self.send_error(404)
                    return
                body, mode = FILES[name], server.mode.get(name, "ok")
                if mode == "corrupt":
                    body = bytes(b ^ 0xFF for b in body[:64]) + body[64:]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if mode == "truncate" else body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _closed_port_url() -> str:
    """A loopback URL nothing listens on: every request is refused at once, like a machine offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("JAXTTS_CACHE", str(root))
    monkeypatch.delenv("JAXTTS_HUB_URL", raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return root


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


def _cache_files(root: Path) -> list[str]:
    """The cache's files, without the (empty) lock files that processes sharing it coordinate through."""
    return sorted(p.name for p in root.iterdir() if not p.name.endswith(".lock")) if root.exists() else []


def test_cache_dir_follows_jaxtts_cache_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.delenv("JAXTTS_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert hub.cache_dir() == tmp_path / "home" / ".cache" / "jaxtts"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.cache_dir() == tmp_path / "xdg" / "jaxtts"
    monkeypatch.setenv("JAXTTS_CACHE", str(tmp_path / "mine"))
    assert hub.cache_dir() == tmp_path / "mine"


def test_urls_are_nvidias_unless_a_mirror_is_set(monkeypatch):
    monkeypatch.delenv("JAXTTS_HUB_URL", raising=False)
    assert hub.url_for("fastpitch").startswith("https://api.ngc.nvidia.com/")
    assert hub.url_for("fastpitch").endswith("/nvidia_fastpitch_210824+cfg.pt")
    monkeypatch.setenv("JAXTTS_HUB_URL", "http://mirror.local/models/")
    assert hub.url_for("hifigan") == "http://mirror.local/models/hifigan_gen_checkpoint_10000_ft.pt"
    assert hub.url_for("fastpitch", "http://other") == "http://other/nvidia_fastpitch_210824%2Bcfg.pt"
    with pytest.raises(CheckpointError, match="known: fastpitch, hifigan"):
        hub.url_for("waveglow")


def test_download_writes_the_file_and_records_its_size_and_hash(cache, server):
    path = hub.download("hifigan", base_url=server.url, progress=False)
    assert path == cache / HIFIGAN and path.read_bytes() == FILES[HIFIGAN]
    record = json.loads((cache / f"{HIFIGAN}.json").read_text())
    assert record == {"file": HIFIGAN, "url": f"{server.url}/{HIFIGAN}", "bytes": len(FILES[HIFIGAN]),
                      "sha256": hashlib.sha256(FILES[HIFIGAN]).hexdigest()}
    assert _cache_files(cache) == [HIFIGAN, f"{HIFIGAN}.json"]  # no temporary file left


def test_reuse_verifies_the_cache_and_needs_no_network(cache, server):
    hub.download("hifigan", base_url=server.url, progress=False)
    server.stop()
    assert hub.download("hifigan", base_url=_closed_port_url(), progress=False).read_bytes() == FILES[HIFIGAN]


def test_truncated_download_is_detected_and_leaves_nothing(cache, server):
    server.mode[HIFIGAN] = "truncate"
    with pytest.raises(CheckpointError, match=rf"cut short: {len(FILES[HIFIGAN]) // 2} of {len(FILES[HIFIGAN])} bytes"):
        hub.download("hifigan", base_url=server.url, progress=False)
    assert _cache_files(cache) == []


def test_corrupted_download_fails_the_pinned_hash_and_leaves_nothing(cache, server, monkeypatch):
    pinned = dataclasses.replace(hub.REGISTRY["hifigan"], sha256=hashlib.sha256(FILES[HIFIGAN]).hexdigest())
    monkeypatch.setitem(hub.REGISTRY, "hifigan", pinned)
    server.mode[HIFIGAN] = "corrupt"
    with pytest.raises(CheckpointError, match="corrupted file: sha256 .*, expected " + pinned.sha256):
        hub.download("hifigan", base_url=server.url, progress=False)
    assert _cache_files(cache) == []
    server.mode[HIFIGAN] = "ok"
    assert hub.download("hifigan", base_url=server.url, progress=False).read_bytes() == FILES[HIFIGAN]


def test_corrupted_download_without_a_pinned_hash_fails_to_load_and_leaves_nothing(cache, server):
    server.mode[FASTPITCH] = "corrupt"
    with pytest.raises(CheckpointError, match=r"downloaded from .* is (truncated or corrupt|not a PyTorch checkpoint)"):
        hub.download("fastpitch", base_url=server.url, progress=False)
    assert _cache_files(cache) == []


def test_a_file_of_the_wrong_model_is_refused(cache, server, monkeypatch):
    swapped = dataclasses.replace(hub.REGISTRY["hifigan"], filename=FASTPITCH)
    monkeypatch.setitem(hub.REGISTRY, "hifigan", swapped)
    with pytest.raises(CheckpointError, match="holds a fastpitch checkpoint, not the hifigan one"):
        hub.download("hifigan", base_url=server.url, progress=False)
    assert _cache_files(cache) == []


def test_a_cached_file_that_changed_is_downloaded_again(cache, server):
    path = hub.download("hifigan", base_url=server.url, progress=False)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF  # same size, different content
    path.write_bytes(bytes(data))
    assert hub.download("hifigan", base_url=server.url, progress=False).read_bytes() == FILES[HIFIGAN]
    assert server.requests == [HIFIGAN, HIFIGAN]


def test_a_cached_file_that_changed_is_removed_and_reported_when_offline(cache, server):
    path = hub.download("hifigan", base_url=server.url, progress=False)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(hub.Unreachable, match=rf"cached .*{HIFIGAN} is \d+ bytes, but \d+ were recorded and was removed"):
        hub.download("hifigan", base_url=_closed_port_url(), progress=False)
    assert _cache_files(cache) == []


def test_empty_cache_and_no_network_says_which_files_to_place_where(cache):
    offline = _closed_port_url()
    with pytest.raises(hub.Unreachable) as err:
        hub.ensure_models(base_url=offline, progress=False)
    message = str(err.value)
    assert "cannot download" in message and "Connection refused" in message
    for name in (FASTPITCH, HIFIGAN):
        assert f"{name} from {offline}/" in message
    assert f"place them in {cache}" in message and "JAXTTS_CACHE" in message
    assert "\n" not in message  # the CLI prints it as one line
    assert _cache_files(cache) == []


def test_offline_error_names_nvidias_urls_by_default(cache, monkeypatch):
    offline = _closed_port_url()
    for name in ("fastpitch", "hifigan"):  # keep NVIDIA's paths, but on a port that refuses
        entry = hub.REGISTRY[name]
        monkeypatch.setitem(hub.REGISTRY, name, dataclasses.replace(entry, url=entry.url.replace("https://api.ngc.nvidia.com", offline)))
    with pytest.raises(hub.Unreachable, match=r"fastpitch__pyt_ckpt/versions/21.12.1_amp/files/nvidia_fastpitch_210824\+cfg.pt"):
        hub.ensure_models(progress=False)


def test_ensure_models_downloads_and_converts_once(cache, server):
    first = hub.ensure_models(base_url=server.url, progress=False)
    assert set(first) == {"fastpitch", "hifigan"}
    for kind, directory in first.items():
        model, _, params, _ = checkpoint.load(directory)
        assert model == kind and params
    assert sorted(server.requests) == sorted([FASTPITCH, HIFIGAN])
    stamps = {d: (d / checkpoint.META).stat().st_mtime_ns for d in first.values()}
    server.stop()
    again = hub.ensure_models(base_url=_closed_port_url(), progress=False)
    assert again == first
    assert {d: (d / checkpoint.META).stat().st_mtime_ns for d in again.values()} == stamps  # not converted again


def test_converted_models_are_enough_once_the_originals_are_deleted(cache, server):
    first = hub.ensure_models(base_url=server.url, progress=False)
    for name in (FASTPITCH, HIFIGAN):
        (cache / name).unlink()
    server.stop()
    assert hub.ensure_models(base_url=_closed_port_url(), progress=False) == first


def test_a_file_placed_by_hand_is_verified_recorded_and_converted_offline(cache):
    cache.mkdir()
    (cache / HIFIGAN).write_bytes(FILES[HIFIGAN])
    directory = hub.ensure("hifigan", base_url=_closed_port_url(), progress=False)
    assert checkpoint.read_meta(directory)["model"] == "hifigan"
    record = json.loads((cache / f"{HIFIGAN}.json").read_text())
    assert record["url"] is None and record["sha256"] == hashlib.sha256(FILES[HIFIGAN]).hexdigest()


def test_a_broken_file_placed_by_hand_is_replaced_by_a_download(cache, server):
    cache.mkdir()
    (cache / HIFIGAN).write_bytes(FILES[HIFIGAN][: len(FILES[HIFIGAN]) // 2])
    directory = hub.ensure("hifigan", base_url=server.url, progress=False)
    assert checkpoint.read_meta(directory)["model"] == "hifigan"
    assert (cache / HIFIGAN).read_bytes() == FILES[HIFIGAN]
    assert json.loads((cache / f"{HIFIGAN}.json").read_text())["url"] == hub.url_for("hifigan", server.url)


def test_a_new_original_placed_by_hand_is_converted_again(cache, server):
    old = hub.ensure("hifigan", base_url=server.url, progress=False)
    old_sha = checkpoint.read_meta(old)["source"]["sha256"]
    hg = HiFiGANConfig((2, 2), (4, 4), 8, "1", (3,), ((1, 3, 5),))
    sd = hifigan_converter.to_state_dict(jax.tree.map(lambda s: np.ones(s.shape, np.float32), hifigan_converter.param_shapes(hg)), hg)
    (cache / f"{HIFIGAN}.json").unlink()
    (cache / HIFIGAN).write_bytes(_torch_bytes({"generator": {k: torch.from_numpy(v) for k, v in sd.items()}, "config": hg.to_dict()}))
    new = hub.ensure("hifigan", base_url=_closed_port_url(), progress=False)
    assert new == old and checkpoint.read_meta(new)["source"]["sha256"] != old_sha
