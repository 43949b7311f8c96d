"""The peers bench times the product as a user runs it."""

from __future__ import annotations


def test_the_peers_bench_runs_the_product_with_its_bytecode_cache_allowed(monkeypatch,
                                                                           tmp_path):
    # Arrange: a shell that forbids Python's bytecode cache
    from bench.bench_peers import product_env

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")

    # Act
    env = product_env(tmp_path / "repo", tmp_path / "home")

    # Assert
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert (env["PYTHONPATH"], env["FXCLUSTER_HOME"]) == (str(tmp_path / "repo"),
                                                          str(tmp_path / "home"))
